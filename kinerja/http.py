"""A small HTTP client for the Kinerja APIs, used by ``kinerja hr`` and the HR report.

Base URL + bearer token; RFC 9457 ``application/problem+json`` errors become :class:`ApiError`
with a readable message; :meth:`Client.paginate` walks ``{"items", "next_cursor"}`` pages.

Transports, same interface: real HTTP through ``httpx`` when it is installed (one pooled
keep-alive connection per client), else the standard library's :mod:`urllib`; or — for the demo
and tests that hold an embedded app and no server — a WSGI callable called in-process
(``Client(wsgi=emb.wsgi, token=...)``). Nothing here imports a service.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

try:  # Prefect brings httpx; the client works without it
    import httpx
except ImportError:  # pragma: no cover - depends on the environment
    httpx = None

DEFAULT_URL = "http://127.0.0.1:8000"
PAGE_LIMIT = 200  # the APIs' largest page


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return (self.headers.get("content-type") or "").split(";")[0].strip().lower()

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None


@dataclass(eq=False)
class ApiError(Exception):
    """An API call that did not succeed: the status and, for problem+json, its fields."""

    method: str
    url: str
    status: int
    title: str = ""
    detail: str = ""
    code: str | None = None
    errors: list[dict] = field(default_factory=list)
    problem: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(self.message)

    @property
    def stage(self) -> str | None:
        """The cycle's current stage named by a 409 (``cycle.not_expected``, stage guards)."""
        value = self.problem.get("stage")
        return value if isinstance(value, str) else None

    @property
    def message(self) -> str:
        if self.status == 0:
            return (
                f"Tidak dapat terhubung ke {self.url} (cannot connect): {self.detail}. "
                f"Periksa --url / KINERJA_URL (check --url)."
            )
        head = f"{self.method} {self.url} → {self.status}"
        if self.title:
            head += f" {self.title}"
        text = f"{head}: {self.detail}" if self.detail else head
        if self.code:
            text += f" [{self.code}]"
        for e in self.errors[:20]:
            where = e.get("field") or ""
            text += f"\n  - {where}: {e.get('detail') or e.get('code')}"
        if len(self.errors) > 20:
            text += f"\n  … {len(self.errors) - 20} lagi (more)"
        return text

    def __str__(self) -> str:
        return self.message


def _error(method: str, url: str, resp: Response) -> ApiError:
    body: dict = {}
    if resp.content_type.endswith("json"):
        try:
            parsed = resp.json()
            body = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            body = {}
    detail = body.get("detail") if body else resp.body[:300].decode("utf-8", "replace").strip()
    return ApiError(
        method,
        url,
        resp.status,
        title=body.get("title") or "",
        detail=detail or "",
        code=body.get("code"),
        errors=list(body.get("errors") or []),
        problem=body,
    )


class Client:
    """``Client(url, token)`` for HTTP, ``Client(token=…, wsgi=app)`` in-process."""

    def __init__(
        self,
        base_url: str = DEFAULT_URL,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        lang: str = "id",
        wsgi: Callable | None = None,
        use_httpx: bool | None = None,
    ):
        self.base_url = (base_url or DEFAULT_URL).rstrip("/")
        self.token = token
        self.timeout = timeout
        self.lang = lang
        self.calls = 0
        self._wsgi = self._httpx = None
        if wsgi is not None:
            from werkzeug.test import Client as WsgiClient

            self._wsgi = WsgiClient(wsgi)
        elif httpx is not None and use_httpx is not False:
            self._httpx = httpx.Client(timeout=timeout, follow_redirects=False)

    @property
    def transport(self) -> str:
        return "wsgi" if self._wsgi else "httpx" if self._httpx else "urllib"

    def close(self) -> None:
        if self._httpx is not None:
            self._httpx.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ core
    def url(self, path: str, params: dict | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.base_url + "/" + path.lstrip("/")
        query = {
            k: ("true" if v is True else "false" if v is False else v)
            for k, v in (params or {}).items()
            if v is not None
        }
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        headers: dict | None = None,
        ok: tuple[int, ...] = (200, 201, 202, 204),
    ) -> Response:
        url = self.url(path, params)
        h = {"Accept": "application/json, application/problem+json;q=0.9, */*;q=0.5", "Accept-Language": self.lang}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            content_type = "application/json"
        if content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        self.calls += 1
        if self._wsgi:
            resp = self._send_wsgi(method, url, h, data)
        elif self._httpx:
            resp = self._send_httpx(method, url, h, data)
        else:
            resp = self._send_http(method, url, h, data)
        if resp.status not in ok:
            raise _error(method, url, resp)
        return resp

    def _send_http(self, method: str, url: str, headers: dict, data: bytes | None) -> Response:
        req = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, {k.lower(): v for k, v in (e.headers or {}).items()}, e.read() or b"")
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise ApiError(method, url, 0, detail=str(reason)) from None

    def _send_httpx(self, method: str, url: str, headers: dict, data: bytes | None) -> Response:
        try:
            r = self._httpx.request(method, url, content=data, headers=headers)
        except httpx.HTTPError as e:
            raise ApiError(method, url, 0, detail=f"{type(e).__name__}: {e}") from None
        return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.content)

    def _send_wsgi(self, method: str, url: str, headers: dict, data: bytes | None) -> Response:
        parts = urllib.parse.urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        r = self._wsgi.open(path, method=method, data=data, headers=headers)
        try:
            return Response(r.status_code, {k.lower(): v for k, v in r.headers.items()}, r.get_data())
        finally:
            r.close()

    # ------------------------------------------------------------------ conveniences
    def get(self, path: str, params: dict | None = None, **kw) -> Any:
        return self.request("GET", path, params=params, **kw).json()

    def post(self, path: str, json_body: Any = None, params: dict | None = None, **kw) -> Any:
        return self.request("POST", path, params=params, json_body=json_body, **kw).json()

    def put(self, path: str, json_body: Any = None, params: dict | None = None, **kw) -> Any:
        return self.request("PUT", path, params=params, json_body=json_body, **kw).json()

    def paginate(self, path: str, params: dict | None = None, limit: int = PAGE_LIMIT) -> Iterator[dict]:
        """Every item of a cursor-paginated list, page after page."""
        cursor = None
        while True:
            page = self.get(path, {**(params or {}), "limit": limit, "cursor": cursor})
            yield from page.get("items") or []
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def all(self, path: str, params: dict | None = None) -> list[dict]:
        return list(self.paginate(path, params))

    def download(self, path: str, dest: Path, params: dict | None = None) -> Path:
        resp = self.request("GET", path, params=params, headers={"Accept": "*/*"})
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(resp.body)
        return dest
