"""The rate limit of the public channels (the form and the kiosk API): accepted responses and
failed token attempts counted per client address, campaign and minute — and, on a form open to
anyone (no tokens), accepted responses per address, campaign and UTC day too — in the database, so
every surveys process sees the same counts. Recording responses (``recording.py``) applies it."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.common.errors import FieldError, Problem
from services.common.usecase import now, platform, settings

from .models import RateCounter


def client_key(campaign_id: int, address: str | None, kind: str = "ok") -> str:
    digest = hashlib.sha256(f"{settings().form_secret}:{address or '-'}".encode()).hexdigest()[:40]
    return f"{kind}:{campaign_id}:{digest}"


DAY = "day"  # the kind of the per-day counters (their key starts with "day:")


def _window(at: datetime, kind: str = "ok") -> datetime:
    at = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    if kind == DAY:
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    return at.replace(second=0, microsecond=0)


def rate_hit(s: Session, key: str) -> int:
    """Count one more event for ``key`` in the current minute — the current UTC day for a ``day:`` key —
    (atomically: INSERT … ON CONFLICT DO UPDATE … RETURNING, the same on SQLite and PostgreSQL);
    returns the new count."""
    window = _window(now(), key.split(":", 1)[0])
    upsert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    t = RateCounter.__table__
    stmt = upsert(t).values(key=key, window_start=window, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["key", "window_start"], set_={"count": t.c.count + 1}).returning(
        t.c.count
    )
    count = int(s.execute(stmt).scalar_one())
    if count == 1:  # a new window: forget the old ones (of everyone), keeping the table small
        minute = _window(now())
        s.execute(
            delete(t).where(
                or_(
                    and_(t.c.window_start < minute - timedelta(minutes=5), t.c.key.not_like(f"{DAY}:%")),
                    t.c.window_start < minute - timedelta(days=2),
                )
            )
        )
    return count


def rate_count(s: Session, key: str) -> int:
    t = RateCounter.__table__
    return int(s.scalar(select(t.c.count).where(t.c.key == key, t.c.window_start == _window(now()))) or 0)


def retry_after() -> int:
    at = now()
    return max(1, 60 - at.second)


def too_many_today() -> Problem:
    """429 for a form open to anyone: this address reached the day's limit of the campaign."""
    limit = settings().open_form_per_day
    at = now().astimezone(timezone.utc)
    wait = max(1, int((_window(at, DAY) + timedelta(days=1) - at).total_seconds()))
    return Problem(
        429,
        "response.rate_limited_day",
        limit=limit,
        retry_after=wait,
        errors=[FieldError("client", "response.rate_limited_day", {"limit": limit, "retry_after": wait})],
        headers={"Retry-After": str(wait)},
    )


def too_many() -> Problem:
    limit = settings().rate_limit_per_minute
    wait = retry_after()
    return Problem(
        429,
        "response.rate_limited",
        limit=limit,
        retry_after=wait,
        errors=[FieldError("client", "response.rate_limited", {"limit": limit, "retry_after": wait})],
        headers={"Retry-After": str(wait)},
    )


def note_bad_token(campaign_id: int, address: str | None) -> None:
    """Failed token attempts are counted in their own committed transaction (the request itself
    is rolled back), so guessing codes is slowed down too."""
    with platform().uow() as s2:
        rate_hit(s2, client_key(campaign_id, address, "badtoken"))
