"""Read models: a service's local copy of another service's data, kept from its events and
rebuilt from its API. One rule for all of them: a row keeps the time of the event it was last
written from (``as_of``), and an update from an older event — a retry or a redelivery arriving
after a newer one — changes nothing."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime

from flask import request
from sqlalchemy import select

from .bus import Reject
from .errors import Problem
from .usecase import platform

log = logging.getLogger("kinerja.readmodel")


def event_time(envelope: dict) -> datetime | None:
    """The CloudEvent's ``time`` as an aware datetime (``None`` when it has none or it is unreadable)."""
    raw = envelope.get("time")
    if not isinstance(raw, str):
        return None
    try:
        return datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None


def is_stale(held: datetime | None, as_of: datetime | None) -> bool:
    """Whether an update from an event at ``as_of`` is older than the row's ``held`` time. Either
    unknown (a rebuild from the API, a row written before times were kept): not stale."""
    if held is None or as_of is None:
        return False
    if held.tzinfo is None:  # SQLite hands back naive datetimes
        held = held.replace(tzinfo=as_of.tzinfo)
    return as_of < held


def upsert_if_newer(s, model, key: dict, as_of: datetime | None, values: dict):
    """Write ``values`` on the ``model`` row with primary ``key`` (created when missing) and stamp it
    ``as_of``, unless the row was last written from a newer event (:func:`is_stale`). Returns the
    row written, or None when the update was stale and nothing changed."""
    # the row locked (FOR UPDATE; SQLite has one writer anyway) and read afresh: two workers applying
    # two versions at once wait for each other here, so an older one never overwrites a newer one
    # that committed while it ran; a row both create collides on its key and is retried
    query = select(model).filter_by(**key).with_for_update().execution_options(populate_existing=True)
    row = s.execute(query).scalar_one_or_none()
    if row is not None and is_stale(row.as_of, as_of):
        return None
    row = row or model(**key)
    row.as_of = as_of
    for name, value in values.items():
        setattr(row, name, value)
    s.add(row)
    return row


def source_url(configured: str | None, variable: str, code: str) -> str:
    """Where a read model is rebuilt from, with the caller's token: the configured URL (``variable``,
    e.g. ``PLANS_URL``); unset, in embedded mode, this very server (every service is mounted in this
    process: the address and port of the socket the request came in on, never a guessed host or
    port); unset in production, a 503 ``code`` naming the variable."""
    if configured:
        return configured
    if not platform().config.embedded:
        raise Problem(503, code, variable=variable)
    env = request.environ.get("werkzeug.proxy_fix.orig") or request.environ  # the socket, not X-Forwarded-*
    name = env.get("SERVER_NAME") or ""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(name, name)
    host = f"[{host}]" if ":" in host else host
    return f"{env.get('wsgi.url_scheme', 'http')}://{host}:{env.get('SERVER_PORT') or '80'}"


@contextlib.contextmanager
def complete_reply(fetch):
    """Around a rebuild from another service's API (inside its unit of work): an item of a well-formed
    page that lacks a field the read model needs (a ``KeyError``, a null where a list or a number is
    expected, a ``Reject`` of an event handler fed the item) is that service's incomplete reply — 502
    ``readmodel.incomplete`` naming the path last read and the field, and the transaction rolled back,
    so nothing changes — never a 500."""
    try:
        yield
    except (KeyError, TypeError, Reject) as exc:
        path = getattr(fetch, "last_path", None) or "?"
        missing = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)[:200]
        log.warning("read-model rebuild: incomplete reply of %s (%s: %s)", path, type(exc).__name__, missing)
        raise Problem(502, "readmodel.incomplete", path=path, missing=missing) from None
