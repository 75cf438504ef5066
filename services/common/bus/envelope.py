"""CloudEvents 1.0 envelopes: make, validate and encode; traceparent."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from datetime import datetime, timezone
from typing import Any

from .topology import DATACONTENTTYPE, SPECVERSION, utcnow

# --------------------------------------------------------------------------- envelope


class InvalidEvent(Exception):
    """The message is not a valid event envelope; ``reason`` names the attribute."""

    def __init__(self, reason: str, attribute: str | None = None):
        super().__init__(reason)
        self.reason = reason
        self.attribute = attribute


class Reject(Exception):
    """Raised by a handler for a permanent failure: the message goes straight to the DLQ."""


_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
_TYPE = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_MAX_TYPE = 120


def new_traceparent() -> str:
    """A fresh W3C traceparent (version 00, sampled)."""
    trace_id = secrets.token_hex(16)
    parent_id = secrets.token_hex(8)
    if trace_id == "0" * 32 or parent_id == "0" * 16:  # pragma: no cover - 2**-64
        return new_traceparent()
    return f"00-{trace_id}-{parent_id}-01"


def valid_traceparent(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    m = _TRACEPARENT.match(value)
    if not m:
        return False
    version, trace_id, parent_id, _flags = m.groups()
    return version != "ff" and trace_id != "0" * 32 and parent_id != "0" * 16


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a ``Z`` suffix; naive datetimes are taken as UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def make_event(
    type: str,
    source: str,
    subject: str,
    data: dict,
    *,
    traceparent: str | None = None,
    time: datetime | None = None,
    event_id: str | None = None,
) -> dict:
    """A CloudEvents 1.0 structured-mode envelope (validated)."""
    envelope = {
        "specversion": SPECVERSION,
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": type,
        "time": format_time(time or utcnow()),
        "subject": str(subject) if isinstance(subject, int) else subject,
        "datacontenttype": DATACONTENTTYPE,
        "data": data,
        "traceparent": traceparent or new_traceparent(),
    }
    return validate_envelope(envelope)


def _require_str(env: dict, name: str) -> str:
    if name not in env:
        raise InvalidEvent(f"missing attribute '{name}'", name)
    value = env[name]
    if not isinstance(value, str) or not value.strip():
        raise InvalidEvent(f"attribute '{name}' must be a non-empty string", name)
    return value


def validate_envelope(body) -> dict:
    """Parse (bytes/str JSON) and check a CloudEvents envelope; return it as a dict.

    Raises :class:`InvalidEvent` naming the first missing or invalid attribute."""
    if isinstance(body, (bytes, bytearray, memoryview)):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidEvent("body is not UTF-8 encoded JSON") from None
    if isinstance(body, str):
        try:
            body = json.loads(body)
        except ValueError as exc:
            raise InvalidEvent(f"body is not valid JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidEvent("envelope must be a JSON object")
    env = body

    if env.get("specversion") != SPECVERSION:
        if "specversion" not in env:
            raise InvalidEvent("missing attribute 'specversion'", "specversion")
        raise InvalidEvent(f"attribute 'specversion' must be '{SPECVERSION}'", "specversion")

    event_id = _require_str(env, "id")
    try:
        if str(uuid.UUID(event_id)) != event_id.lower():
            raise ValueError
    except ValueError:
        raise InvalidEvent("attribute 'id' must be a UUID string", "id") from None

    _require_str(env, "source")

    type_ = _require_str(env, "type")
    if len(type_) > _MAX_TYPE or not _TYPE.match(type_):
        raise InvalidEvent(
            "attribute 'type' must be dot-separated words (letters, digits, '_', '-'),"
            f" at most {_MAX_TYPE} characters, without wildcards",
            "type",
        )

    time_ = _require_str(env, "time")
    try:
        parsed = datetime.fromisoformat(time_)
    except ValueError:
        raise InvalidEvent("attribute 'time' must be an RFC 3339 timestamp", "time") from None
    if parsed.tzinfo is None:
        raise InvalidEvent("attribute 'time' must carry a UTC offset (RFC 3339)", "time")

    _require_str(env, "subject")

    content_type = _require_str(env, "datacontenttype")
    if content_type.split(";")[0].strip().lower() != DATACONTENTTYPE:
        raise InvalidEvent(f"attribute 'datacontenttype' must be '{DATACONTENTTYPE}'", "datacontenttype")

    if "data" not in env:
        raise InvalidEvent("missing attribute 'data'", "data")
    if not isinstance(env["data"], dict):
        raise InvalidEvent("attribute 'data' must be a JSON object", "data")

    if "traceparent" not in env:
        raise InvalidEvent("missing attribute 'traceparent'", "traceparent")
    if not valid_traceparent(env["traceparent"]):
        raise InvalidEvent("attribute 'traceparent' must be a W3C traceparent", "traceparent")
    return env


def encode_envelope(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
