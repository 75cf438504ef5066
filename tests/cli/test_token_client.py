"""``kinerja token --client ID --agency CODE --scope "…"`` (issue 16): a machine client's token in
embedded mode — role ``agency``, ``sub`` the client's id, the ``scope`` claim — which the services
accept for what its scopes open and refuse, naming the scope, for the rest; and what it refuses."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kinerja.cli import main
from services.common.auth import TokenVerifier
from services.common.config import Config

MODE_VARS = ("KINERJA_MODE", "JWT_SECRET", "JWT_MAX_TTL", "DATABASE_URL", "BROKER_URL", "DEV_IDP_DIR")


@pytest.fixture
def embedded(tmp_path, monkeypatch):
    for var in MODE_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("KINERJA_VAR", str(tmp_path))
    return TokenVerifier(Config.from_env("plans"))


def test_a_machine_clients_token_carries_its_scopes(embedded):
    args = ["token", "--client", "bkd-tpp", "--agency", "PKMB", "--scope", "results:read directory:read"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    p = embedded.verify(result.output.strip())
    assert (p.sub, p.roles, p.agency, p.nip) == ("bkd-tpp", {"agency"}, "PKMB", None)
    assert p.is_machine and p.scopes == {"results:read", "directory:read"}
    assert p.claims["scope"] == "results:read directory:read"
    bare = CliRunner().invoke(main, ["token", "--client", "bkd-tpp", "--agency", "PKMB"])
    assert bare.exit_code == 0 and embedded.verify(bare.output.strip()).scopes == frozenset()


def test_the_services_open_what_the_scopes_open_and_name_the_missing_one(embedded, tmp_path):
    from kinerja.embedded import Embedded

    emb = Embedded(env={"KINERJA_VAR": str(tmp_path)}, services=("plans",), portal=False)
    try:
        client = emb.apps["plans"].test_client()

        def as_client(scope: str) -> dict:
            args = ["token", "--client", "bkd-sync", "--agency", "PKMB", "--scope", scope]
            return {"Authorization": "Bearer " + CliRunner().invoke(main, args).output.strip()}

        assert client.get("/plans/api/v1/units", headers=as_client("directory:read")).status_code == 200
        r = client.get("/plans/api/v1/units", headers=as_client("results:read") | {"Accept-Language": "en"})
        assert r.status_code == 403 and r.mimetype == "application/problem+json"
        assert r.get_json()["code"] == "auth.scope_missing" and r.get_json()["scopes"] == ["directory:read"]
        assert "directory:read" in r.get_json()["detail"]
    finally:
        emb.close()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--client", "bkd", "--scope", "results:read"], "--client needs --agency"),
        (["--client", "bkd", "--agency", "PKMB", "--role", "hr"], "leave out --role"),
        (["--client", "bkd", "--agency", "PKMB", "--nip", "198503152010012003"], "leave out --role, --nip"),
        (["--client", "bkd", "--agency", "PKMB", "--scope", "results:write"], "unknown results:write"),
        (["--role", "hr", "--agency", "PKMB", "--scope", "results:read"], "--scope goes with --client"),
        (["--agency", "PKMB"], "give --role"),
    ],
)
def test_what_the_command_refuses(embedded, args, message):
    result = CliRunner().invoke(main, ["token", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_with_the_development_provider_the_token_is_rs256_with_the_scopes(tmp_path, monkeypatch):
    import jwt

    from kinerja.devidp import IdpStore

    production = {
        "KINERJA_MODE": "production",
        "JWT_JWKS_URL": "http://127.0.0.1:1/jwks.json",
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/postgres",
        "BROKER_URL": "amqp://guest:guest@127.0.0.1//",
        "JWT_AUDIENCE": "kinerja",
        "DEV_IDP_DIR": str(tmp_path / "idp"),
        "DEV_IDP_ISSUER": "http://127.0.0.1:18190",
    }
    for k, v in production.items():
        monkeypatch.setenv(k, v)
    args = ["token", "--client", "bkd-tpp", "--agency", "PKTD", "--scope", "results:read"]
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 0, out.output
    claims = jwt.decode(
        out.output.strip(),
        jwt.PyJWK(IdpStore(tmp_path / "idp").public_jwk()).key,
        algorithms=["RS256"],
        audience="kinerja",
        issuer="http://127.0.0.1:18190",
    )
    assert (claims["sub"], claims["roles"], claims["agency"]) == ("bkd-tpp", ["agency"], "PKTD")
    assert claims["scope"] == "results:read" and claims["azp"] == "bkd-tpp" and "nip" not in claims
