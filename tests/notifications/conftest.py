"""Fixtures of the notifications tests: plans and notifications together in the embedded runner
(an isolated in-process bus per test), the small agency of tests.plans.support, a real local
SMTP server (aiosmtpd) the service sends to, and a local HTTP receiver."""

from __future__ import annotations

import uuid

import pytest
from werkzeug.test import Client

from kinerja.embedded import Embedded
from services.common.bus import Topology
from tests.notifications.support import Notif, Receiver, SmtpSink
from tests.plans.support import FakeClock, Org, Tokens, seed


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def smtp():
    sink = SmtpSink().start()
    yield sink
    sink.stop()


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def emb(tmp_path, clock, smtp, monkeypatch):
    monkeypatch.setenv("SMTP_URL", smtp.url)
    monkeypatch.setenv("MAIL_FROM", "Kinerja PKMB <kinerja@pkmb.go.id>")
    monkeypatch.setenv("WEBHOOK_TIMEOUT", "1")
    monkeypatch.setenv("APPRISE_TIMEOUT", "2")
    e = Embedded(
        env={"KINERJA_VAR": str(tmp_path)},
        clock=clock,
        services=("plans", "notifications"),
        topology=Topology.isolated(f"t{uuid.uuid4().hex[:8]}."),
    )
    yield e
    e.close()


@pytest.fixture
def org(emb, clock) -> Org:
    plans_app = emb.apps["plans"]
    o = Org(plans_app, Client(emb.wsgi), Tokens(plans_app.extensions["kinerja"].config.jwt_secret), clock)
    seed(o)
    emb.pump()
    return o


@pytest.fixture
def notif(emb, org, smtp) -> Notif:
    """The service, with the seed's messages (the planning stage opening) already sent and the
    sink emptied, so each test sees only what it causes."""
    n = Notif(emb, org)
    n.dispatch_all()
    smtp.messages.clear()
    smtp.sessions.clear()
    return n
