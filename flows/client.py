"""HTTP client of the services for the flows (flows never import a service: they call the API).

- Bearer token on every call; ``Accept-Language: en`` so the reports the flows log are English.
- Bounded retries with exponential backoff on connection errors, timeouts and 5xx (``Retry-After``
  honoured up to the backoff cap); never on 4xx, which are answers, not accidents.
- Errors are RFC 9457 ``application/problem+json``: raised as :class:`ServiceError` with the
  status, the problem ``code``, its ``detail`` and the whole body (``stage`` of a 409, field
  ``errors`` of a 422, …). A service that cannot be reached after the retries is a
  :class:`ServiceError` too, with ``status=None`` and code ``service.unreachable``.
- :meth:`ServiceClient.pages` walks a cursor-paginated list (``limit``/``cursor`` →
  ``next_cursor``) item by item.
- A semaphore bounds the requests in flight from one client (shared by the threads of a flow run),
  so a flow never floods a service however many tasks run at once.
- :func:`register_transport` routes every client of one base URL in this process through a given
  httpx transport: the demo runs the flows against the embedded services in-process
  (``httpx.WSGITransport``), with no server. A flow parameter must be plain data, so the transport
  cannot be one; like :func:`flows.clock.set_clock`, it is registered by the process that runs the
  flow. Without a registration a client talks real HTTP.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any, Iterator

import httpx

__all__ = ["ServiceClient", "ServiceError", "TRANSIENT_STATUSES", "register_transport", "resolve_token"]

#: Statuses worth another try: the service or a proxy in front of it is in trouble, not the request.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


class _Shared(httpx.BaseTransport):
    """A registered transport, shared by every client of its base URL: closing one client leaves it open."""

    def __init__(self, transport: httpx.BaseTransport):
        self.transport = transport

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.transport.handle_request(request)

    def close(self) -> None:
        pass


_transports: dict[str, _Shared] = {}


def register_transport(base_url: str, transport: httpx.BaseTransport | None) -> None:
    """Send this process's requests to ``base_url`` through ``transport`` (``None`` forgets it)."""
    key = base_url.rstrip("/")
    if transport is None:
        _transports.pop(key, None)
    else:
        _transports[key] = _Shared(transport)


def resolve_token(token: str | None, what: str = "an HR token of the agency") -> str:
    """The bearer token a flow run uses: the ``token`` given, else ``$KINERJA_TOKEN``, else one
    fetched now from the identity provider with the OAuth 2.0 client-credentials grant
    (``KINERJA_TOKEN_URL``, ``KINERJA_CLIENT_ID``, ``KINERJA_CLIENT_SECRET``): a worker keeps a
    client secret, never a token that expires between runs."""
    import os

    token = token or os.environ.get("KINERJA_TOKEN")
    if token:
        return token
    url, client_id = os.environ.get("KINERJA_TOKEN_URL"), os.environ.get("KINERJA_CLIENT_ID")
    if not (url and client_id):
        raise ValueError(
            f"no token: pass token=, set KINERJA_TOKEN to {what}, or set KINERJA_TOKEN_URL, "
            "KINERJA_CLIENT_ID and KINERJA_CLIENT_SECRET (client credentials at the identity provider)"
        )
    try:
        r = httpx.post(
            url,
            data={"grant_type": "client_credentials"},
            timeout=15.0,
            auth=(client_id, os.environ.get("KINERJA_CLIENT_SECRET") or ""),
        )
    except httpx.HTTPError as exc:
        raise ServiceError(None, "token.unreachable", f"{type(exc).__name__}: {exc}", method="POST", url=url) from None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code != 200 or not body.get("access_token"):
        raise ServiceError(
            r.status_code,
            body.get("error", "token.refused"),
            body.get("error_description", r.text[:200]),
            body,
            method="POST",
            url=url,
        )
    return body["access_token"]


class ServiceError(RuntimeError):
    """A service answered with an error (or could not be reached: ``status is None``)."""

    def __init__(
        self, status: int | None, code: str, detail: str, body: dict | None = None, *, method: str = "", url: str = ""
    ):
        self.status, self.code, self.detail, self.body = status, code, detail, body or {}
        self.method, self.url = method, url
        where = f"{method} {url}: " if method else ""
        super().__init__(f"{where}{status if status is not None else 'unreachable'} {code}: {detail}")

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed (unreachable or a 5xx)."""
        return self.status is None or self.status in TRANSIENT_STATUSES

    def __reduce__(self):  # picklable across processes and by Prefect's state serialisation
        return (_rebuild_error, (self.status, self.code, self.detail, self.body, self.method, self.url))


def _rebuild_error(status, code, detail, body, method, url):
    return ServiceError(status, code, detail, body, method=method, url=url)


class ServiceClient:
    """One agency's view of the services at ``base_url`` (the gateway, or the embedded server)."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        timeout: float = 30.0,
        max_concurrency: int = 8,
        *,
        retries: int = 3,
        backoff: float = 0.25,
        max_backoff: float = 4.0,
        language: str = "en",
        transport: httpx.BaseTransport | None = None,
    ):
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        if retries < 0:
            raise ValueError("retries must be >= 0")
        self.base_url = base_url.rstrip("/")
        if transport is None:
            transport = _transports.get(self.base_url)  # an in-process run (the demo), else real HTTP
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency)
        headers = {
            "Accept": "application/json, application/problem+json",
            "Accept-Language": language,
            "User-Agent": "kinerja-flows",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
        )
        self.calls = 0  # requests sent, retries included (for reports and tests)

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ServiceClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:  # never shows the token
        return f"ServiceClient({self.base_url!r})"

    def _delay(self, attempt: int, retry_after: str | None = None) -> float:
        if retry_after:
            try:
                return min(self.max_backoff, max(0.0, float(retry_after)))
            except ValueError:
                pass
        base = min(self.max_backoff, self.backoff * (2**attempt))
        return base * (0.5 + random.random() / 2)  # jitter: concurrent retries do not march in step

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        headers: dict | None = None,
        retry: bool = True,
        expect_json: bool = True,
    ) -> Any:
        """Send one request, retrying transient failures; return the decoded JSON (``None`` for an
        empty body) or raise :class:`ServiceError`."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        url = self.base_url + path
        attempts = 1 + (self.retries if retry else 0)
        last: ServiceError | None = None
        retry_after: str | None = None
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._delay(attempt - 1, retry_after))
            try:
                with self._slots:
                    self.calls += 1
                    resp = self._http.request(method, path, params=params, json=json, headers=headers)
            except httpx.TransportError as exc:  # refused, reset, DNS, timeouts
                last, retry_after = (
                    ServiceError(
                        None,
                        "service.unreachable",
                        f"{type(exc).__name__}: {exc or 'no answer'}",
                        method=method,
                        url=url,
                    ),
                    None,
                )
                continue
            if resp.status_code < 400:
                if not expect_json:
                    return resp
                return resp.json() if resp.content else None
            last, retry_after = self._error(resp, method, url), resp.headers.get("Retry-After")
            if resp.status_code not in TRANSIENT_STATUSES:
                raise last
        assert last is not None
        if last.status is None:
            raise ServiceError(
                None,
                "service.unreachable",
                f"no answer from {self.base_url} after {attempts} attempt(s); last error: {last.detail}",
                method=method,
                url=url,
            )
        raise last

    @staticmethod
    def _error(resp: httpx.Response, method: str, url: str) -> ServiceError:
        body: dict = {}
        try:
            decoded = resp.json()
            if isinstance(decoded, dict):
                body = decoded
        except ValueError:
            body = {"detail": resp.text[:500]}
        code = str(body.get("code") or f"http.{resp.status_code}")
        detail = str(body.get("detail") or body.get("title") or resp.reason_phrase or "")
        return ServiceError(resp.status_code, code, detail, body, method=method, url=url)

    # ------------------------------------------------------------------ verbs

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params=params)

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        params: dict | None = None,
        idempotency_key: str | None = None,
        retry: bool = True,
    ) -> Any:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        return self.request("POST", path, params=params, json=json, headers=headers, retry=retry)

    def put(self, path: str, json: Any = None, *, params: dict | None = None, if_match: str | None = None) -> Any:
        headers = {"If-Match": if_match} if if_match else None
        return self.request("PUT", path, params=params, json=json, headers=headers)

    def pages(self, path: str, *, limit: int = 200, **params) -> Iterator[dict]:
        """Every item of a cursor-paginated list, page after page."""
        cursor = None
        seen_cursors = set()
        while True:
            page = self.get(path, limit=limit, cursor=cursor, **params)
            yield from page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return
            if cursor in seen_cursors:  # a server bug must not become an endless loop
                raise ServiceError(502, "pagination.loop", f"{path} returned the cursor {cursor!r} twice")
            seen_cursors.add(cursor)

    def all(self, path: str, **params) -> list[dict]:
        return list(self.pages(path, **params))
