"""The command line's client of the Kinerja APIs, used by ``kinerja hr`` and the HR report.

A thin layer over the one client of ``services/common/client.py``: base URL + bearer token;
RFC 9457 ``application/problem+json`` errors become :class:`ApiError` (the common error) with a
readable, bilingual message; :meth:`Client.paginate` walks ``{"items", "next_cursor"}`` pages.

Transports, same interface: real HTTP through ``httpx`` (one pooled keep-alive connection per
client), or the standard library's :mod:`urllib` (``use_httpx=False``, or this module's
``httpx`` set to ``None``); or — for the demo and tests that hold an embedded app and no server — a WSGI
callable called in-process (``Client(wsgi=emb.wsgi, token=...)``). Nothing here imports a service.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx

from services.common import client as common
from services.common.client import PAGE_LIMIT, ApiClient, UrllibTransport

__all__ = ["DEFAULT_URL", "PAGE_LIMIT", "ApiError", "Client", "Response"]

DEFAULT_URL = "http://127.0.0.1:8000"


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


class ApiError(common.ApiError):
    """An API call that did not succeed: the status (``None``: no answer) and, for problem+json,
    its fields; :attr:`message` says it in Bahasa Indonesia and English."""

    @property
    def problem(self) -> dict:
        return self.body

    @property
    def stage(self) -> str | None:
        """The cycle's current stage named by a 409 (``cycle.not_expected``, stage guards)."""
        value = self.body.get("stage")
        return value if isinstance(value, str) else None

    @property
    def message(self) -> str:
        if self.status is None:
            return (
                f"Tidak dapat terhubung ke {self.url} (cannot connect): {self.detail}. "
                f"Periksa --url / KINERJA_URL (check --url)."
            )
        head = f"{self.method} {self.url} → {self.status}"
        if self.title:
            head += f" {self.title}"
        text = f"{head}: {self.detail}" if self.detail else head
        if self.body.get("code"):
            text += f" [{self.code}]"
        for e in self.errors[:20]:
            where = e.get("field") or ""
            text += f"\n  - {where}: {e.get('detail') or e.get('code')}"
        if len(self.errors) > 20:
            text += f"\n  … {len(self.errors) - 20} lagi (more)"
        return text


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
        self.token, self.timeout, self.lang = token, timeout, lang
        transport = None
        if wsgi is not None:
            self.transport = "wsgi"
        elif httpx is None or use_httpx is False:
            self.transport, transport = "urllib", UrllibTransport()
        else:
            self.transport = "httpx"
        self.api = ApiClient(
            self.base_url,
            token,
            language=lang,
            timeout=timeout,
            transport=transport,
            wsgi=wsgi,
            user_agent="kinerja-cli",
            error=ApiError,
        )

    @property
    def calls(self) -> int:
        """Requests sent so far."""
        return self.api.calls

    def close(self) -> None:
        self.api.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ core
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
        h = {"Content-Type": content_type} if content_type else {}
        h.update(headers or {})
        resp = self.api.request(method, path, params=params, json=json_body, content=data, headers=h)
        if resp.status_code not in ok:
            raise ApiError.from_response(resp, method, str(resp.request.url))
        return Response(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content)

    # ------------------------------------------------------------------ conveniences
    def get(self, path: str, params: dict | None = None, **kw) -> Any:
        return self.request("GET", path, params=params, **kw).json()

    def post(self, path: str, json_body: Any = None, params: dict | None = None, **kw) -> Any:
        return self.request("POST", path, params=params, json_body=json_body, **kw).json()

    def put(self, path: str, json_body: Any = None, params: dict | None = None, **kw) -> Any:
        return self.request("PUT", path, params=params, json_body=json_body, **kw).json()

    def paginate(self, path: str, params: dict | None = None, limit: int = PAGE_LIMIT) -> Iterator[dict]:
        """Every item of a cursor-paginated list, page after page."""
        params = {k: v for k, v in (params or {}).items() if k not in ("limit", "cursor")}
        return self.api.pages(path, limit=limit, **params)

    def all(self, path: str, params: dict | None = None) -> list[dict]:
        return list(self.paginate(path, params))

    def download(self, path: str, dest: Path, params: dict | None = None) -> Path:
        resp = self.request("GET", path, params=params, headers={"Accept": "*/*"})
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(resp.body)
        return dest
