"""Issue 14, defect 6: embedded mode trusts no secret published in the repository, and the
embedded runner is not put on the network without a word."""

from __future__ import annotations

import os
import stat

import pytest
from click.testing import CliRunner

from kinerja.cli import main
from services.common.auth import TokenVerifier, issue_token
from services.common.config import DEV_JWT_SECRET, Config
from services.common.errors import Problem
from services.portal.settings import PortalSettings


def test_embedded_mode_signs_with_its_own_secret_not_the_published_one(tmp_path):
    env = {"KINERJA_VAR": str(tmp_path)}
    cfg = Config.from_env("plans", env=env)
    assert cfg.jwt_secret != DEV_JWT_SECRET and len(cfg.jwt_secret) >= 48
    secret_file = tmp_path / "jwt-secret"
    assert stat.S_IMODE(os.stat(secret_file).st_mode) == 0o600  # readable by this user only
    # every service, the portal and a second start of the same folder share it
    assert Config.from_env("reviews", env=env).jwt_secret == cfg.jwt_secret
    assert PortalSettings.from_env(env).jwt_secret == cfg.jwt_secret
    assert Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path / "other")}).jwt_secret != cfg.jwt_secret
    # a token forged with the secret from the repository is refused; one made here is accepted
    verifier = TokenVerifier(cfg)
    forged = issue_token(DEV_JWT_SECRET, roles=["admin"], ttl_seconds=600)
    with pytest.raises(Problem) as refused:
        verifier.verify(forged)
    assert refused.value.status == 401
    assert verifier.verify(issue_token(cfg.jwt_secret, roles=["admin"], ttl_seconds=600)).roles == {"admin"}
    # an explicit JWT_SECRET still wins (tests and shared demos set one)
    assert Config.from_env("plans", env=env | {"JWT_SECRET": "x" * 40}).jwt_secret == "x" * 40


def test_kinerja_token_signs_with_the_folder_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("KINERJA_VAR", str(tmp_path))
    monkeypatch.delenv("JWT_SECRET", raising=False)
    result = CliRunner().invoke(main, ["token", "--role", "hr", "--agency", "PKTD"])
    assert result.exit_code == 0, result.output
    cfg = Config.from_env("plans")
    assert TokenVerifier(cfg).verify(result.output.strip()).agency == "PKTD"


def test_serve_refuses_a_public_address_without_expose(monkeypatch):
    served = []
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *a, **kw: served.append(a))  # never listen here
    monkeypatch.setattr("kinerja.embedded.Embedded", _NoServices)
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8765"])
    assert result.exit_code == 2 and not served
    assert "development login" in result.output and "--expose" in result.output
    # with --expose it listens there, and says so
    result = CliRunner().invoke(main, ["serve", "--host", "0.0.0.0", "--port", "8765", "--expose"])
    assert result.exit_code == 0, result.output
    assert served and served[0][:2] == ("0.0.0.0", 8765) and "WARNING" in result.output


class _NoServices:
    """Stands in for the embedded runner: the refusal must come before anything starts."""

    apps: dict = {}
    wsgi = None

    def start_worker(self):
        pass

    def close(self):
        pass
