"""The rate limit of the public channels (the form and the kiosk API): accepted responses and
failed token attempts counted per client address, campaign and minute in the database, so every
surveys process sees the same counts. Recording responses (``responses.py``) applies it."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.common.errors import FieldError, Problem
from services.common.usecase import now, platform, settings

from .models import RateCounter


def client_key(campaign_id: int, address: str | None, kind: str = "ok") -> str:
    digest = hashlib.sha256(f"{settings().form_secret}:{address or '-'}".encode()).hexdigest()[:40]
    return f"{kind}:{campaign_id}:{digest}"


def _window(at: datetime) -> datetime:
    at = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return at.replace(second=0, microsecond=0)


def rate_hit(s: Session, key: str) -> int:
    """Count one more event for ``key`` in the current minute (atomically: INSERT … ON CONFLICT
    DO UPDATE … RETURNING, the same on SQLite and PostgreSQL); returns the new count."""
    window = _window(now())
    upsert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    t = RateCounter.__table__
    stmt = upsert(t).values(key=key, window_start=window, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["key", "window_start"], set_={"count": t.c.count + 1}).returning(
        t.c.count
    )
    count = int(s.execute(stmt).scalar_one())
    if count == 1:  # a new window: forget the old ones (of everyone), keeping the table small
        s.execute(delete(t).where(t.c.window_start < window - timedelta(minutes=5)))
    return count


def rate_count(s: Session, key: str) -> int:
    t = RateCounter.__table__
    return int(s.scalar(select(t.c.count).where(t.c.key == key, t.c.window_start == _window(now()))) or 0)


def retry_after() -> int:
    at = now()
    return max(1, 60 - at.second)


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
