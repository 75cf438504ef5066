"""A per-address limit on the requests that need no login: the public survey form and kiosk API,
the sample-size calculator, the OpenAPI documents, the portal's sign-in pages, the development
identity provider's ``/authorize`` and ``/token``.

The gateway limits these first (``deploy/gateway/kinerja.conf.template``); this limit holds where
there is no gateway (embedded mode) and where one is misconfigured. Each app counts in its own
memory, per client address and fixed minute (``PUBLIC_RATE_PER_MINUTE``; 0 turns it off): under
gunicorn each worker counts for itself, so an address gets at most that many per worker. A request
that carries a login (a verified bearer token, a signed-in session) is never counted; the probes
(``healthz``, ``readyz``, ``metrics``) are never limited. The client address is ``remote_addr``:
the socket's, or the gateway's ``X-Forwarded-For`` only when the app trusts it (``PROXY_HOPS``,
applied by werkzeug's ProxyFix before this runs).

Own code rather than Flask-Limiter or ``limits``: those count in wall-clock time, and every
Kinerja app runs on its injectable clock (a year in seconds for demos; a fake clock in the tests,
which would otherwise see this limit refuse what the survey form's own per-minute limit lets
through). A fixed window is all the limit needs: one dict per app, old minutes forgotten."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from typing import Callable

from flask import Response, request

from .context import get_request_id
from .errors import PROBLEM_JSON, PROBLEM_TYPE_BASE
from .i18n import Catalogue, negotiate

PROBES = ("healthz", "readyz", "metrics")
CODE = "http.rate_limited"
MAX_ADDRESSES = 100_000  # per window: beyond it, the oldest entries of the minute are dropped


def is_probe(path: str) -> bool:
    """``/healthz``, ``/<service>/readyz``, ``/<service>/metrics``…: what orchestrators and Prometheus call."""
    return path.rstrip("/").rpartition("/")[2] in PROBES


class PublicLimit:
    """``per_minute`` requests per client address in each minute of ``clock`` (0: no limit)."""

    def __init__(self, per_minute: int, clock: Callable[[], datetime] | None = None):
        self.per_minute = per_minute
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        self._lock = threading.Lock()
        self._window: int | None = None
        self._counts: dict[str, int] = {}

    def hit(self, address: str | None) -> int:
        """Count one request of ``address``; 0 when admitted, else the seconds until its window ends."""
        if self.per_minute <= 0:
            return 0
        at = self.clock().timestamp()
        window = int(at // 60)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            key = address or "-"
            count = self._counts.get(key, 0) + 1
            if count == 1 and len(self._counts) >= MAX_ADDRESSES:
                self._counts.pop(next(iter(self._counts)))
            self._counts[key] = count
        if count <= self.per_minute:
            return 0
        return max(1, int((window + 1) * 60 - at + 0.999))


_catalogue: Catalogue | None = None


def too_many(limit: int, retry_after: int, lang: str | None = None) -> Response:
    """429 ``application/problem+json`` with ``Retry-After``, in the shape of every other problem."""
    global _catalogue
    if _catalogue is None:
        _catalogue = Catalogue()
    lang = lang or negotiate(request.headers.get("Accept-Language"), request.args.get("lang"))
    body = {
        "type": PROBLEM_TYPE_BASE + CODE.replace(".", "-"),
        "title": _catalogue.t("problem.429", lang),
        "status": 429,
        "detail": _catalogue.t(CODE, lang, limit=limit, retry_after=retry_after),
        "instance": request.path,
        "code": CODE,
        "request_id": get_request_id(),
        "limit": limit,
        "retry_after": retry_after,
    }
    resp = Response(json.dumps(body, ensure_ascii=False), status=429, mimetype=PROBLEM_JSON)
    resp.headers["Retry-After"] = str(retry_after)
    resp.headers["Content-Language"] = lang
    resp.headers["Cache-Control"] = "no-store"
    return resp


def check(limit: PublicLimit) -> Response | None:
    """In a ``before_request`` hook, once the app knows the request carries no login: the 429 answer
    when this address has used up its minute, else None (a probe is never counted)."""
    if limit.per_minute <= 0 or is_probe(request.path):
        return None
    wait = limit.hit(request.remote_addr)
    return too_many(limit.per_minute, wait) if wait else None
