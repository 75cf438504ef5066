"""The one HTTP client of the Kinerja APIs: the flows, the command line and the portal call the
services through it (each with a thin layer of its own defaults: ``flows/client.py``,
``kinerja/http.py``, ``services/portal/client.py``).

- Base URL, a bearer token (a string, or a provider called for each request), ``Accept-Language``,
  a timeout; ``Accept`` asks for JSON and RFC 9457 ``application/problem+json``.
- Bounded retries with exponential backoff and jitter on connection errors, timeouts and
  :data:`TRANSIENT_STATUSES` (``Retry-After`` honoured up to the backoff cap); never on a 4xx,
  which is an answer, not an accident — but for the 409 of a concurrent insert
  (:data:`CONCURRENT_INSERT`), which another try answers. ``retries=0`` (the default) sends each request once.
- Every answer other than 2xx is one error type, :class:`ApiError`: the status, the problem's
  ``type``, ``code``, ``title``, ``detail``, its field ``errors`` and the whole body. A service
  that cannot be reached is an :class:`ApiError` too, with ``status=None`` and code
  ``service.unreachable`` (an error class may choose otherwise: :meth:`ApiError.no_answer`).
- One pagination helper, :func:`cursor_pages`: the lists answer ``{"items", "next_cursor"}``
  and take ``limit``/``cursor`` (``services.common.http.paginate``); :meth:`ApiClient.pages`
  walks them item by item.
- Transports: real HTTP (httpx, pooled keep-alive connections); a WSGI app called in-process
  (``wsgi=``: the embedded runner, no server); any ``httpx`` transport (tests); the standard
  library's urllib (:class:`UrllibTransport`); and :func:`register_transport`, which routes every
  client of one base URL in this process through a given transport (the demo runs the flows
  against the embedded services that way).
- ``max_concurrency`` bounds the requests in flight from one client (shared by threads).

It knows no domain and imports no service or web framework.
"""

from __future__ import annotations

import random
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import nullcontext
from typing import Any, Callable, Iterator

import httpx

__all__ = [
    "ACCEPT",
    "PAGE_LIMIT",
    "TRANSIENT_STATUSES",
    "ApiClient",
    "ApiError",
    "UrllibTransport",
    "client_credentials_token",
    "cursor_pages",
    "register_transport",
]

#: Statuses worth another try: the service or a proxy in front of it is in trouble, not the request.
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})
#: The 409 of a unique key a concurrent request took between the service's check and its insert
#: (``services/common/errors.py``): all was rolled back, and the same request again finds what the
#: other one wrote (a flow run started again while the killed run's last request was still served).
CONCURRENT_INSERT = "problem.409"
PAGE_LIMIT = 200  # the APIs' largest page
ACCEPT = "application/json, application/problem+json"

TokenSource = str | Callable[[], str | None] | None


# ------------------------------------------------------------------ the error


class ApiError(RuntimeError):
    """An API call that did not succeed: an answer other than 2xx, read as an RFC 9457 problem, or
    no answer at all (``status is None``)."""

    def __init__(
        self,
        status: int | None,
        code: str,
        detail: str = "",
        body: dict | None = None,
        *,
        method: str = "",
        url: str = "",
        title: str = "",
        errors: list[dict] | None = None,
    ):
        self.status, self.code, self.detail = status, code, detail
        self.body = body or {}
        self.title = title or str(self.body.get("title") or "")
        self.type = str(self.body.get("type") or "about:blank")
        self.errors = list(errors if errors is not None else self.body.get("errors") or [])
        self.method, self.url = method, url
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = f"{self.method} {self.url}: " if self.method else ""
        status = self.status if self.status is not None else "unreachable"
        return f"{where}{status} {self.code}: {self.detail or self.title}"

    def __str__(self) -> str:
        return self.message

    @property
    def transient(self) -> bool:
        """Whether trying again later may succeed (no answer, one of :data:`TRANSIENT_STATUSES`, or
        the 409 of a concurrent insert: :data:`CONCURRENT_INSERT`)."""
        if self.status == 409:
            return self.code == CONCURRENT_INSERT
        return self.status is None or self.status in TRANSIENT_STATUSES

    def field_errors(self) -> dict[str, str]:
        """``{field: message}`` from the problem's ``errors[]`` (the first message per field; ``_``
        for an error without a field)."""
        out: dict[str, str] = {}
        for e in self.errors:
            name = e.get("field") or (e.get("pointer") or "").strip("/#").replace("/", ".") or "_"
            out.setdefault(name, e.get("detail") or e.get("code") or "")
        return out

    def __reduce__(self):  # picklable across processes and by Prefect's state serialisation
        return (
            _rebuild_error,
            (
                type(self),
                self.status,
                self.code,
                self.detail,
                self.body,
                self.method,
                self.url,
                self.title,
                self.errors,
            ),
        )

    @classmethod
    def from_response(cls, resp: httpx.Response, method: str, url: str) -> "ApiError":
        """The error an answer stands for: its problem+json fields, else its plain text."""
        body: dict = {}
        try:
            decoded = resp.json()
            if isinstance(decoded, dict):
                body = decoded
        except ValueError:
            pass
        detail = body.get("detail") or body.get("title")
        if not body and resp.headers.get("content-type", "").startswith("text/plain"):
            detail = resp.text.strip()[:500]
        return cls(
            resp.status_code,
            str(body.get("code") or f"http.{resp.status_code}"),
            str(detail or ""),
            body,
            method=method,
            url=url,
            title=str(body.get("title") or resp.reason_phrase or ""),
        )

    @classmethod
    def no_answer(cls, detail: str, *, method: str, url: str) -> "ApiError":
        """The error of a service that could not be reached."""
        return cls(None, "service.unreachable", detail, method=method, url=url)


def _rebuild_error(cls, status, code, detail, body, method, url, title, errors):
    return cls(status, code, detail, body, method=method, url=url, title=title, errors=errors)


# ------------------------------------------------------------------ pagination


def cursor_pages(fetch: Callable[[str | None], dict], error: type[ApiError] = ApiError, what: str = "") -> Iterator:
    """Every item of a cursor-paginated list: ``fetch(cursor)`` returns one page
    ``{"items": [...], "next_cursor": str | None}`` (the first with ``cursor=None``), as
    ``services.common.http.paginate`` answers. A cursor that comes back is a server bug, raised as
    ``error`` (502 ``pagination.loop``) rather than walked forever; so is a page of another shape (a
    truncated or foreign reply: not an object, ``items`` not a list, ``next_cursor`` not a string),
    raised as 502 ``pagination.malformed``."""
    cursor: str | None = None
    seen: set[str] = set()
    while True:
        page = fetch(cursor) or {"items": []}  # no body: nothing (more) to list
        items, cursor = (page.get("items"), page.get("next_cursor")) if isinstance(page, dict) else (None, None)
        if not isinstance(items, list) or not isinstance(cursor, (str, type(None))):
            detail = f'{what or "the list"} answered a page that is not {{"items": [...], "next_cursor": ...}}'
            raise error(502, "pagination.malformed", detail, method="GET", url=what)
        yield from items
        if not cursor:
            return
        if cursor in seen:
            raise error(502, "pagination.loop", f"{what} returned the cursor {cursor!r} twice", method="GET", url=what)
        seen.add(cursor)


# ------------------------------------------------------------------ transports


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
    """Send this process's requests to ``base_url`` through ``transport`` (``None`` forgets it).
    A flow parameter must be plain data, so a transport cannot be one: the process that runs the
    flow registers it (like ``flows.clock.set_clock``). Without a registration a client talks real HTTP."""
    key = base_url.rstrip("/")
    if transport is None:
        _transports.pop(key, None)
    else:
        _transports[key] = _Shared(transport)


class UrllibTransport(httpx.BaseTransport):
    """The standard library's :mod:`urllib` as the transport: one connection per request, nothing
    pooled (the command line's fallback). Connection failures are ``httpx.ConnectError``."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("accept-encoding", "content-length")}
        req = urllib.request.Request(str(request.url), data=request.read() or None, headers=headers)
        req.method = request.method
        timeout = (request.extensions.get("timeout") or {}).get("read")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return httpx.Response(r.status, headers=list(r.headers.items()), content=r.read())
        except urllib.error.HTTPError as e:
            return httpx.Response(e.code, headers=list((e.headers or {}).items()), content=e.read() or b"")
        except (urllib.error.URLError, OSError) as e:
            raise httpx.ConnectError(str(getattr(e, "reason", e)), request=request) from None


# ------------------------------------------------------------------ the client


class ApiClient:
    """The services at ``base_url`` (the gateway, or the embedded server) as one caller sees them."""

    error: type[ApiError] = ApiError  # the class every failure is raised as

    def __init__(
        self,
        base_url: str,
        token: TokenSource = None,
        *,
        language: str = "id",
        timeout: float = 30.0,
        retries: int = 0,
        backoff: float = 0.25,
        max_backoff: float = 4.0,
        max_concurrency: int | None = None,
        transport: httpx.BaseTransport | None = None,
        wsgi: Callable | None = None,
        user_agent: str = "kinerja",
        error: type[ApiError] | None = None,
    ):
        if retries < 0:
            raise ValueError("retries must be >= 0")
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.base_url = base_url.rstrip("/")
        if error is not None:
            self.error = error
        if wsgi is not None:
            transport = httpx.WSGITransport(app=wsgi)
        elif transport is None:
            transport = _transports.get(self.base_url)  # an in-process run (the demo), else real HTTP
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.max_concurrency = max_concurrency
        self._slots = threading.BoundedSemaphore(max_concurrency) if max_concurrency else None
        self._token = token
        headers = {"Accept": ACCEPT, "Accept-Language": language, "User-Agent": user_agent}
        if isinstance(token, str) and token:
            headers["Authorization"] = f"Bearer {token}"
        limits = (
            httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency)
            if max_concurrency
            else httpx.Limits()
        )
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=timeout,
            transport=transport,
            limits=limits,
            follow_redirects=False,
        )
        self.calls = 0  # requests sent, retries included (for reports and tests)

    # ------------------------------------------------------------------ plumbing

    def close(self) -> None:
        self._http.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:  # never shows the token
        return f"{type(self).__name__}({self.base_url!r})"

    def _headers(self, headers: dict | None) -> dict | None:
        if callable(self._token):
            token = self._token()
            headers = {**({"Authorization": f"Bearer {token}"} if token else {}), **(headers or {})}
        return headers

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
        content: bytes | None = None,
        data: dict | None = None,
        files: Any = None,
        headers: dict | None = None,
        retry: bool = True,
    ) -> httpx.Response:
        """Send one request (``path`` below the base URL, or an absolute URL), retrying what may
        pass; return the 2xx/3xx response or raise :attr:`error`. ``None`` parameters are left out."""
        params = {k: v for k, v in (params or {}).items() if v is not None}
        if params and "?" in path:  # httpx would replace the query written in the path: merge them
            path, _, query = path.partition("?")
            params = {**dict(urllib.parse.parse_qsl(query, keep_blank_values=True)), **params}
        attempts = 1 + (self.retries if retry else 0)
        last: ApiError | None = None  # the last answer (None while there was none)
        trouble, retry_after, url = "", None, path
        for attempt in range(attempts):
            if attempt:
                time.sleep(self._delay(attempt - 1, retry_after))
            req = self._http.build_request(
                method,
                path,
                params=params or None,  # httpx drops a query written in the path when given {}
                json=json,
                content=content,
                data=data,
                files=files,
                headers=self._headers(headers),
            )
            url = str(req.url)
            try:
                with self._slots or nullcontext():
                    self.calls += 1
                    resp = self._http.send(req)
            except httpx.RequestError as exc:  # refused, reset, DNS, timeouts
                last, retry_after, trouble = None, None, f"{type(exc).__name__}: {exc or 'no answer'}"
                if not isinstance(exc, httpx.TransportError):  # e.g. too many redirects: no use trying again
                    attempts = attempt + 1
                    break
                continue
            if resp.status_code < 400:
                return resp
            last, retry_after = self.error.from_response(resp, method, url), resp.headers.get("Retry-After")
            if not last.transient:
                raise last
        if last is not None:
            raise last
        raise self.error.no_answer(
            f"no answer from {self.base_url} after {attempts} attempt(s); last error: {trouble}", method=method, url=url
        )

    # ------------------------------------------------------------------ verbs

    def get(self, path: str, **params) -> Any:
        return _json(self.request("GET", path, params=params))

    def get_with_etag(self, path: str, **params) -> tuple[Any, str | None]:
        """The resource and its ``ETag`` (for a later ``If-Match``)."""
        resp = self.request("GET", path, params=params)
        return _json(resp), resp.headers.get("ETag")

    def post(
        self,
        path: str,
        json: Any = None,
        *,
        params: dict | None = None,
        headers: dict | None = None,
        idempotency_key: str | None = None,
        retry: bool = True,
        **kw,
    ) -> Any:
        if idempotency_key:
            headers = {**(headers or {}), "Idempotency-Key": idempotency_key}
        return _json(self.request("POST", path, params=params, json=json, headers=headers, retry=retry, **kw))

    def put(self, path: str, json: Any = None, etag: str | None = None, *, params: dict | None = None) -> Any:
        return _json(self.request("PUT", path, params=params, json=json, headers=_if_match(etag)))

    def patch(self, path: str, json: Any = None, etag: str | None = None, *, params: dict | None = None) -> Any:
        return _json(self.request("PATCH", path, params=params, json=json, headers=_if_match(etag)))

    def pages(self, path: str, *, limit: int = PAGE_LIMIT, **params) -> Iterator[dict]:
        """Every item of a cursor-paginated list, page after page (:func:`cursor_pages`)."""
        return cursor_pages(lambda cursor: self.get(path, limit=limit, cursor=cursor, **params), self.error, path)

    def all(self, path: str, **params) -> list[dict]:
        return list(self.pages(path, **params))


def client_credentials_token(url: str, client_id: str, client_secret: str, *, timeout: float = 15.0) -> str:
    """An access token fetched now from the identity provider's token endpoint with the OAuth 2.0
    client-credentials grant; a refusal or no answer is an :class:`ApiError` (``token.refused``,
    ``token.unreachable``)."""
    try:
        r = httpx.post(url, data={"grant_type": "client_credentials"}, timeout=timeout, auth=(client_id, client_secret))
    except httpx.HTTPError as exc:
        raise ApiError(None, "token.unreachable", f"{type(exc).__name__}: {exc}", method="POST", url=url) from None
    body = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
    if r.status_code != 200 or not body.get("access_token"):
        raise ApiError(
            r.status_code,
            body.get("error", "token.refused"),
            body.get("error_description", r.text[:200]),
            body,
            method="POST",
            url=url,
        )
    return body["access_token"]


def _if_match(etag: str | None) -> dict | None:
    return {"If-Match": etag} if etag else None


def _json(resp: httpx.Response) -> Any:
    """The decoded body (``None`` when empty or not JSON)."""
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None
