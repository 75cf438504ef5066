"""The portal's client of the four APIs, always with the signed-in user's own token, so every
object-level check stays where it belongs: in the service that owns the data.

Embedded mode calls the services in-process (``httpx.WSGITransport`` on the embedded dispatcher);
production calls the gateway at ``PORTAL_API_URL``. An answer other than 2xx becomes
:class:`ApiProblem` carrying the RFC 9457 body (``code``, ``detail`` and the field ``errors``), so
a form can show each error beside its field."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import httpx

PAGE_LIMIT = 200


@dataclass(eq=False)
class ApiProblem(Exception):
    status: int
    code: str = ""
    detail: str = ""
    errors: list[dict] = field(default_factory=list)
    body: dict = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(f"{self.status} {self.code}: {self.detail}")

    def field_errors(self) -> dict[str, str]:
        """``{field: message}`` from the problem's ``errors[]`` (the first message per field)."""
        out: dict[str, str] = {}
        for e in self.errors:
            name = e.get("field") or (e.get("pointer") or "").strip("/").replace("/", ".") or "_"
            out.setdefault(name, e.get("detail") or e.get("code") or "")
        return out


class Api:
    def __init__(
        self, *, token: str | None, lang: str = "id", base_url: str | None = None, wsgi=None, timeout: float = 15.0
    ):
        if wsgi is not None:
            transport, base = httpx.WSGITransport(app=wsgi), "http://kinerja.internal"
        else:
            transport, base = None, (base_url or "http://127.0.0.1:8000").rstrip("/")
        headers = {"Accept-Language": lang, "Accept": "application/json, application/problem+json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(base_url=base, transport=transport, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict | None = None,
        headers: dict | None = None,
        files=None,
        data=None,
        content: bytes | None = None,
    ) -> httpx.Response:
        try:
            resp = self._http.request(
                method, path, json=json, params=_clean(params), headers=headers, files=files, data=data, content=content
            )
        except httpx.HTTPError as exc:
            raise ApiProblem(503, "portal.service_unreachable", str(exc)) from exc
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {}
            body = body if isinstance(body, dict) else {}
            raise ApiProblem(
                resp.status_code,
                body.get("code") or f"http.{resp.status_code}",
                body.get("detail") or body.get("title") or "",
                body.get("errors") or [],
                body,
            )
        return resp

    def get(self, path: str, **params) -> Any:
        return _json(self.request("GET", path, params=params))

    def get_with_etag(self, path: str, **params) -> tuple[Any, str | None]:
        resp = self.request("GET", path, params=params)
        return _json(resp), resp.headers.get("ETag")

    def post(self, path: str, body: Any = None, **kw) -> Any:
        return _json(self.request("POST", path, json=body, **kw))

    def put(self, path: str, body: Any, etag: str | None = None) -> Any:
        return _json(self.request("PUT", path, json=body, headers={"If-Match": etag} if etag else None))

    def patch(self, path: str, body: Any, etag: str | None = None) -> Any:
        return _json(self.request("PATCH", path, json=body, headers={"If-Match": etag} if etag else None))

    def pages(self, path: str, **params) -> Iterator[dict]:
        """Every item of a cursor-paginated list."""
        cursor = None
        while True:
            page = self.get(path, limit=PAGE_LIMIT, cursor=cursor, **params)
            yield from page.get("items", [])
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def all(self, path: str, **params) -> list[dict]:
        return list(self.pages(path, **params))


def _clean(params: dict | None) -> dict | None:
    return {k: v for k, v in params.items() if v is not None} if params else None


def _json(resp: httpx.Response) -> Any:
    if not resp.content:
        return None
    try:
        return resp.json()
    except ValueError:
        return None
