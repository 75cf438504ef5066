"""Test doubles for the notifications tests, all local: a real SMTP server (aiosmtpd) that
records what arrives (or refuses with 550, or hangs), an HTTP receiver on 127.0.0.1 for
webhooks and Apprise ``json://`` URLs (answering 200, 500, 410 or hanging), and an
independent Standard Webhooks verifier written from the spec with plain hmac/base64 — it
shares no code with ``services.notifications``."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import hashlib
import hmac
import http.server
import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller
from kombu import Connection, Exchange, Producer
from sqlalchemy import select

from services.common.bus import ATTEMPTS_HEADER, CONTENT_TYPE, PERSISTENT, encode_envelope, make_event

NAPI = "/notifications/api/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- SMTP


class _Handler:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.sink.sessions.add(id(session))
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        self.sink.sessions.add(id(session))
        if self.sink.mode == "refuse" or address in self.sink.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.sink.mode == "hang":
            await asyncio.sleep(self.sink.hang_seconds)
        if self.sink.mode == "tempfail":
            return "451 4.3.0 Try again later"
        if self.sink.keep:
            msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.sink.messages.append(msg)
        self.sink.count += 1
        return "250 Message accepted for delivery"


class SmtpSink:
    """aiosmtpd on 127.0.0.1; ``mode``: ok | refuse (550 on RCPT) | tempfail (451) | hang (DATA)."""

    def __init__(self, keep: bool = True):
        self.port = free_port()
        self.messages: list = []
        self.sessions: set[int] = set()
        self.count = 0
        self.mode = "ok"
        self.refuse: set[str] = set()
        self.hang_seconds = 5.0
        self.keep = keep
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}?timeout=2"

    @property
    def connections(self) -> int:
        return len(self.sessions)

    def start(self) -> "SmtpSink":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in str(m["To"])]


def parts(msg) -> dict[str, str]:
    """``{"text/plain": ..., "text/html": ...}`` of a multipart/alternative message."""
    assert msg.get_content_type() == "multipart/alternative", msg.get_content_type()
    return {p.get_content_type(): p.get_content() for p in msg.iter_parts()}


# --------------------------------------------------------------------------- HTTP receiver


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Receiver:
    """An HTTP/1.1 server on 127.0.0.1 in a thread: records each POST and answers ``status``
    (after ``hang`` seconds when set)."""

    status: int = 200
    hang: float = 0.0
    keep: bool = True
    requests: list = field(default_factory=list)
    count: int = 0

    def start(self) -> "Receiver":
        receiver = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if receiver.hang:
                    time.sleep(receiver.hang)
                receiver.count += 1
                if receiver.keep:
                    receiver.requests.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------- Standard Webhooks (independent)


def verify_standard_webhook(secret: str, headers: dict, body: bytes) -> bool:
    """Verify as a receiving agency would, from standardwebhooks.com: key = base64 of the part
    after ``whsec_``; signed content = ``{webhook-id}.{webhook-timestamp}.{body}``; header
    ``webhook-signature`` holds space-separated ``v1,<base64 HMAC-SHA256>``."""
    assert secret.startswith("whsec_"), secret
    key = base64.b64decode(secret[len("whsec_") :])
    msg_id = headers["webhook-id"]
    timestamp = headers["webhook-timestamp"]
    assert timestamp.isdigit()
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, sig = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(sig, expected):
            return True
    return False


# --------------------------------------------------------------------------- the service in tests


class Notif:
    """Shortcuts into the notifications service of an Embedded runner."""

    def __init__(self, emb, org):
        self.emb, self.org = emb, org
        self.app = emb.apps["notifications"]
        self.platform = self.app.extensions["kinerja"]
        self.client = org.client

    # http
    def get(self, path, headers, **kw):
        return self.client.get(NAPI + path, headers=headers, **kw)

    def post(self, path, headers, body=None, **kw):
        return self.client.post(NAPI + path, headers=headers, json=body, **kw)

    def put(self, path, headers, body=None, **kw):
        return self.client.put(NAPI + path, headers=headers, json=body, **kw)

    def patch(self, path, headers, body=None, **kw):
        return self.client.patch(NAPI + path, headers=headers, json=body, **kw)

    def delete(self, path, headers, **kw):
        return self.client.delete(NAPI + path, headers=headers, **kw)

    # bus and jobs
    def pump(self) -> int:
        return self.emb.pump(jobs=False)  # dispatch is driven explicitly by the tests

    def dispatch(self, **kw) -> dict:
        from services.notifications.dispatch import dispatch_due

        with self.app.app_context(), self.platform.session_factory() as s:
            return dispatch_due(s, self.platform.clock(), **kw)

    def dispatch_all(self, rounds: int = 20) -> dict:
        """Dispatch until nothing due is left at this instant."""
        total: dict = {}
        for _ in range(rounds):
            got = self.dispatch()
            if not got:
                break
            for k, v in got.items():
                total[k] = total.get(k, 0) + v
        return total

    def publish(self, type_: str, data: dict, *, subject: str = "1", event_id: str | None = None) -> dict:
        """Publish an event on the isolated memory bus as a producing service's relay would, and pump."""
        envelope = make_event(
            type_, "/" + type_.split(".")[0], subject, data, event_id=event_id, time=self.platform.clock()
        )
        self.publish_envelope(envelope)
        return envelope

    def publish_envelope(self, envelope: dict) -> None:
        topology = self.emb.consumers[0].topology
        with Connection("memory://", transport_options={"polling_interval": 0.01}) as conn:
            Producer(conn.channel(), exchange=Exchange(topology.exchange, type="topic"), auto_declare=False).publish(
                encode_envelope(envelope),
                routing_key=envelope["type"],
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=PERSISTENT,
                message_id=envelope["id"],
                headers={ATTEMPTS_HEADER: 1},
                retry=False,
            )
        self.pump()

    # database
    def db(self):
        return self.platform.session_factory()

    def rows(self, model, *where, order=None) -> list:
        with self.db() as s:
            stmt = select(model).where(*where)
            return list(s.scalars(stmt.order_by(order if order is not None else model.id)))

    def outbox(self, type_: str | None = None) -> list[dict]:
        from services.notifications.models import platform_tables

        t = platform_tables.outbox
        with self.db() as s:
            stmt = select(t).order_by(t.c.id)
            if type_:
                stmt = stmt.where(t.c.type == type_)
            return [dict(r) for r in s.execute(stmt).mappings()]

    def inbox(self, headers) -> list[dict]:
        r = self.get("/inbox?limit=200", headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()["items"]

    def set_hr_contacts(self, contacts: list[dict], headers=None):
        r = self.put("/hr-contacts", headers or self.org.hr, {"contacts": contacts})
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def set_contact(self, nip: str, *, email: str | None = None, language: str | None = None) -> dict:
        out = set_employee_contact(self.org, nip, email=email, language=language)
        self.pump()
        return out

    def set_prefs(self, nip: str, **prefs):
        r = self.patch("/preferences", self.org.as_(nip), prefs)
        assert r.status_code == 200, r.get_json()
        return r.get_json()


def set_employee_contact(org, nip: str, *, email: str | None = None, language: str | None = None) -> dict:
    """Change an employee's e-mail/language through the plans API (the event reaches notifications)."""
    from tests.plans.support import API

    r = org.client.get(f"{API}/employees/{nip}", headers=org.hr)
    assert r.status_code == 200, r.get_json()
    e = r.get_json()
    body = {
        k: e[k]
        for k in ("nip", "name", "phone", "position", "grade", "unit_code", "superior_nip", "language", "active")
    }
    body["email"] = email if email is not None else e["email"]
    if language:
        body["language"] = language
    r = org.client.post(f"{API}/employees", headers=org.hr, json=body)
    assert r.status_code in (200, 201), r.get_json()
    return r.get_json()


def new_id() -> str:
    return str(uuid.uuid4())
