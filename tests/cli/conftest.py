"""Fixtures of the HR command-line tests: plans, reviews and surveys in the embedded runner (an
isolated in-process bus), served over real HTTP on a free local port in a thread, so the
``kinerja hr`` commands talk to it exactly as they would to a deployment."""

from __future__ import annotations

import threading
import uuid

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from kinerja.cli import main
from kinerja.embedded import Embedded
from kinerja.http import Client
from services.common.auth import issue_token
from services.common.bus import Topology
from tests.plans.support import FakeClock

SERVICES = ("plans", "reviews", "surveys")


class Server:
    """The embedded app on ``url``, with tokens and the CLI runner bound to it."""

    def __init__(self, emb: Embedded, url: str):
        self.emb, self.url = emb, url
        self.secret = emb.platform("plans").config.jwt_secret
        self.runner = CliRunner()

    def token(self, *roles: str, agency: str | None = "PKMB", nip: str | None = None, sub: str | None = None) -> str:
        return issue_token(self.secret, roles=list(roles), agency=agency, nip=nip, sub=sub or nip)

    @property
    def hr_token(self) -> str:
        return self.token("hr", sub="hr@pkmb")

    def client(self, token: str | None = None) -> Client:
        return Client(self.url, token or self.hr_token)

    def hr(self, *args: str, token: str | None = None):
        """``kinerja hr --url … --token … <args>`` through the real entry point."""
        result = self.runner.invoke(
            main, ["hr", "--url", self.url, "--token", token or self.hr_token, *map(str, args)], catch_exceptions=False
        )
        self.emb.pump()  # events of what the command did reach the other services
        return result

    def pump(self) -> int:
        return self.emb.pump()


def serve(emb: Embedded):
    srv = make_server("127.0.0.1", 0, emb.wsgi, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, name="kinerja-test-http", daemon=True)
    thread.start()
    return srv, thread


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def server(tmp_path, clock):
    emb = Embedded(
        env={"KINERJA_VAR": str(tmp_path)},
        clock=clock,
        services=SERVICES,
        topology=Topology.isolated(f"t{uuid.uuid4().hex[:8]}."),
    )
    srv, thread = serve(emb)
    try:
        yield Server(emb, f"http://127.0.0.1:{srv.server_port}")
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=10)
        emb.close()
