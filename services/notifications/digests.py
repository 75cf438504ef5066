"""The daily digest: a person's e-mails deferred for their digest hour, bundled into one digest
e-mail when due (the bundled deliveries follow its outcome)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .models import Delivery, Notification
from .recipients import Target
from .recorder import DIGEST_EVENT, Recorder
from .shared import count, synthetic_event_id, utc


def build_digests(s: Session, at: datetime) -> int:
    """Bundle each person's deferred digest e-mails that are due into one digest e-mail (queued)."""
    rows = s.scalars(
        select(Delivery)
        .where(
            Delivery.channel == "email",
            Delivery.digest.is_(True),
            Delivery.status == "deferred",
            Delivery.bundled_into.is_(None),
            Delivery.next_attempt_at <= at,
        )
        .order_by(Delivery.id)
    ).all()
    if not rows:
        return 0
    by_key: dict[str, list[Delivery]] = defaultdict(list)
    for d in rows:
        by_key[d.recipient_key].append(d)
    notes = {
        n.id: n
        for n in s.scalars(
            select(Notification).where(Notification.id.in_([d.notification_id for d in rows if d.notification_id]))
        )
    }
    built = sum(_build_one(s, key, group, notes, at) for key, group in by_key.items())
    s.flush()
    return built


def _build_one(s: Session, key: str, group: list[Delivery], notes: dict[int, Notification], at: datetime) -> bool:
    """One person's digest e-mail (its deliveries bundled into it); False if none was logged."""
    first = group[0]
    rec = Recorder(s, synthetic_event_id("digest", key, first.id), DIGEST_EVENT, first.agency_code, at)
    person = rec.person(first.recipient_nip)
    items = []
    for d in group:
        n = notes.get(d.notification_id)
        if n is None:
            continue
        paragraphs = n.body_text.strip().split("\n\n", 1)
        items.append(
            {
                "title": n.title,
                "text": paragraphs[-1].strip(),
                "link": n.link,
                "created_at": utc(n.created_at).isoformat(),
            }
        )
    note = notes.get(first.notification_id)
    name = person.name if person else (note.recipient_name if note else key)
    lang = (note.language if note else None) or "id"
    target = Target(key, first.recipient_nip, name, first.target, None, lang, "digest")
    rec.record(target, "digest", {"count": len(items)}, {"items": items})
    rec.flush()
    digest = s.scalar(select(Delivery).where(Delivery.event_id == rec.event_id, Delivery.channel == "email"))
    if digest is None:  # pragma: no cover - record() always logs the e-mail channel
        return False
    for d in group:
        d.bundled_into, d.next_attempt_at, d.updated_at = digest.id, None, at
    if digest.status in ("queued", "deferred"):
        digest.status, digest.next_attempt_at, digest.digest = "queued", at, False
    else:  # switched off meanwhile, or the digest could not be rendered
        s.flush()
        settle_bundle(s, digest, digest.status, at)
    return True


def settle_bundle(s: Session, digest: Delivery, status: str, at: datetime) -> None:
    """The deliveries bundled into ``digest`` take its final status."""
    values = {"status": status, "updated_at": at, "last_error": digest.last_error if status != "sent" else None}
    if status == "sent":
        values["sent_at"] = at
    result = s.execute(
        update(Delivery).where(Delivery.bundled_into == digest.id).values(**values),
        execution_options={"synchronize_session": False},
    )
    count("email", status, result.rowcount or 0)
