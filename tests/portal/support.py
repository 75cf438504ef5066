"""The portal's test stack: every service in the embedded runner (an isolated in-process bus),
the PKMB agency of the plans tests seeded through the API, and a browser-like client of the
portal (cookies kept) that signs in through the development login page."""

from __future__ import annotations

import re
import uuid

from werkzeug.test import Client

from kinerja.embedded import Embedded
from services.common.bus import Topology
from tests.plans.support import FakeClock, Org, Tokens, seed

SERVICES = ("plans", "reviews", "surveys", "notifications")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Stack:
    def __init__(self, tmp_path, clock: FakeClock | None = None):
        self.clock = clock or FakeClock()
        self.emb = Embedded(
            env={"KINERJA_VAR": str(tmp_path)},
            clock=self.clock,
            services=SERVICES,
            topology=Topology.isolated(f"p{uuid.uuid4().hex[:8]}."),
        )
        self.tokens = Tokens(self.emb.platform("plans").config.jwt_secret)
        self.org = Org(self.emb.apps["plans"], Client(self.emb.wsgi), self.tokens, self.clock)
        seed(self.org)
        self.pump()

    def pump(self) -> int:
        return self.emb.pump()

    def browser(self) -> "Browser":
        return Browser(self.emb.wsgi)

    def close(self) -> None:
        self.emb.close()


class Browser:
    """A person at the portal: follows redirects, keeps the session cookie, posts forms with the
    page's CSRF token."""

    def __init__(self, wsgi):
        self.client = Client(wsgi)
        self.csrf: str | None = None

    def get(self, path: str, **kw):
        resp = self.client.get(path, follow_redirects=kw.pop("follow_redirects", True), **kw)
        self._remember(resp)
        return resp

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf or "")
        resp = self.client.post(path, data=data, follow_redirects=kw.pop("follow_redirects", True), **kw)
        self._remember(resp)
        return resp

    def _remember(self, resp) -> None:
        if resp.mimetype == "text/html":
            m = CSRF.search(resp.get_data(as_text=True))
            if m:
                self.csrf = m.group(1)

    def login(self, person: str, next_path: str | None = None):
        """``person``: a NIP, or ``hr:<agency>``."""
        self.get("/login" + (f"?next={next_path}" if next_path else ""))
        return self.post("/login", {"person": person, **({"next": next_path} if next_path else {})})


def text(resp) -> str:
    return resp.get_data(as_text=True)


class LiveStack(Stack):
    """The same stack served over real HTTP on a free local port, with the bus worker running in
    the background (events reach the other services on their own, as under ``kinerja serve``)."""

    def __init__(self, tmp_path, clock: FakeClock | None = None):
        import threading

        from werkzeug.serving import make_server

        super().__init__(tmp_path, clock)
        self.emb.start_worker()
        self.server = make_server("127.0.0.1", 0, self.emb.wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="portal-live", daemon=True)
        self.thread.start()

    def settle(self, timeout: float = 10.0) -> None:
        """Wait (bounded) until the bus has nothing left to relay."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not sum(r.pending() for r in self.emb.relays):
                time.sleep(0.2)  # consumers finish what was just relayed
                if not sum(r.pending() for r in self.emb.relays):
                    return
            time.sleep(0.05)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        super().close()
