"""The flows' HTTP client of the services (flows never import a service: they call the API).

A thin layer over the one client of ``services/common/client.py`` (transport, retries,
problem+json errors, cursor pages), with the flows' defaults:

- ``Accept-Language: en`` so the reports the flows log are English;
- three retries with exponential backoff on connection errors, timeouts and 5xx (``Retry-After``
  honoured up to the backoff cap), never on 4xx;
- at most ``max_concurrency`` (8) requests in flight from one client, shared by the threads of a
  flow run, so a flow never floods a service however many tasks run at once.

Errors are :class:`ServiceError` (the common ``ApiError``): the status, the problem ``code``, its
``detail`` and the whole body (``stage`` of a 409, field ``errors`` of a 422, …); a service that
cannot be reached after the retries has ``status=None`` and code ``service.unreachable``.
:func:`register_transport` routes every client of one base URL in this process through a given
httpx transport (the demo runs the flows against the embedded services in-process).
"""

from __future__ import annotations

import os

import httpx

from services.common.client import (
    TRANSIENT_STATUSES,
    ApiClient,
    ApiError,
    client_credentials_token,
    register_transport,
)

__all__ = ["ServiceClient", "ServiceError", "TRANSIENT_STATUSES", "register_transport", "resolve_token"]

ServiceError = ApiError  # the flows' name of the one error type


def resolve_token(token: str | None, what: str = "an HR token of the agency") -> str:
    """The bearer token a flow run uses: the ``token`` given, else ``$KINERJA_TOKEN``, else one
    fetched now from the identity provider with the OAuth 2.0 client-credentials grant
    (``KINERJA_TOKEN_URL``, ``KINERJA_CLIENT_ID``, ``KINERJA_CLIENT_SECRET``): a worker keeps a
    client secret, never a token that expires between runs."""
    token = token or os.environ.get("KINERJA_TOKEN")
    if token:
        return token
    url, client_id = os.environ.get("KINERJA_TOKEN_URL"), os.environ.get("KINERJA_CLIENT_ID")
    if not (url and client_id):
        raise ValueError(
            f"no token: pass token=, set KINERJA_TOKEN to {what}, or set KINERJA_TOKEN_URL, "
            "KINERJA_CLIENT_ID and KINERJA_CLIENT_SECRET (client credentials at the identity provider)"
        )
    return client_credentials_token(url, client_id, os.environ.get("KINERJA_CLIENT_SECRET") or "")


class ServiceClient(ApiClient):
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
        super().__init__(
            base_url,
            token,
            language=language,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
            max_backoff=max_backoff,
            max_concurrency=max_concurrency,
            transport=transport,
            user_agent="kinerja-flows",
        )
