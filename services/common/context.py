"""Per-request and per-message context: request id and W3C traceparent, for logs and events."""

from __future__ import annotations

import contextvars
import os
import re

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)

TRACEPARENT_RE = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def new_traceparent() -> str:
    return f"00-{os.urandom(16).hex()}-{os.urandom(8).hex()}-01"


def child_traceparent(parent: str | None) -> str:
    """Same trace id, new span id; a fresh trace when the parent is missing or malformed."""
    if parent and TRACEPARENT_RE.match(parent):
        return f"00-{parent[3:35]}-{os.urandom(8).hex()}-{parent[-2:]}"
    return new_traceparent()


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def get_request_id() -> str | None:
    return _request_id.get()


def set_traceparent(value: str | None) -> None:
    _traceparent.set(value)


def get_traceparent() -> str | None:
    return _traceparent.get()
