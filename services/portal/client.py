"""The portal's client of the four APIs, always with the signed-in user's own token, so every
object-level check stays where it belongs: in the service that owns the data.

A thin layer over the one client of ``services/common/client.py``. Embedded mode calls the
services in-process (the embedded dispatcher as a WSGI app); production calls the gateway at
``PORTAL_API_URL``. An answer other than 2xx becomes :class:`ApiProblem` (the common ``ApiError``)
carrying the RFC 9457 body (``code``, ``detail`` and the field ``errors``: ``field_errors()``), so
a form can show each error beside its field; a service that cannot be reached is a 503
``portal.service_unreachable`` (an error page, like a 5xx)."""

from __future__ import annotations

from services.common.client import PAGE_LIMIT, ApiClient, ApiError

__all__ = ["PAGE_LIMIT", "Api", "ApiProblem"]


class ApiProblem(ApiError):
    """An API call that did not succeed, as the portal's pages handle it."""

    @classmethod
    def no_answer(cls, detail: str, *, method: str, url: str) -> "ApiProblem":
        return cls(503, "portal.service_unreachable", detail, method=method, url=url)


class Api(ApiClient):
    error = ApiProblem

    def __init__(
        self, *, token: str | None, lang: str = "id", base_url: str | None = None, wsgi=None, timeout: float = 15.0
    ):
        base = "http://kinerja.internal" if wsgi is not None else (base_url or "http://127.0.0.1:8000")
        super().__init__(base, token, language=lang, timeout=timeout, wsgi=wsgi, user_agent="kinerja-portal")
