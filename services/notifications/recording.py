"""Recording: what a consumed event makes the service write, in the consumer's transaction. The
rules pick the recipients, each recipient's message is rendered once (the inbox row) and one
delivery row per channel is written: in-app ``sent``; e-mail, Apprise and webhooks ``queued`` (or
``deferred`` for quiet hours and the digest, ``skipped``/``failed`` with the reason). Nothing
leaves the process here — the dispatcher sends, outside any consumer transaction — so a slow SMTP
server or receiver can never hold a consumed message hostage.

:func:`handle_event` is the consumer of every event a rule or an agency's subscription may name;
the directory events (``readmodel``) and the reminder requests (``reminders``) have their own. The
messages are rendered and written by :class:`.recorder.Recorder`."""

from __future__ import annotations

import json

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from services.common.bus import BATCH
from services.common.usecase import now

from . import domain, recorder
from .models import Delivery, Person, WebhookSubscription
from .recipients import Recipients
from .recorder import PERSON_FIELDS, Recorder
from .rules import rules_for
from .shared import count

#: key in ``Session.info``: the consumer's batch whose events :func:`look_ahead` has read for
LOOKED_AHEAD = "notifications.looked_ahead"
#: key in ``Session.info``: each agency's active webhook subscriptions, read once per session (the
#: consumer's batch of events); creating, changing or deleting one forgets them
SUBSCRIPTIONS_MEMO = "notifications.subscriptions"

_ACTIVE_SUBSCRIPTIONS = select(WebhookSubscription).where(
    WebhookSubscription.agency_code == bindparam("agency"),
    WebhookSubscription.active.is_(True),
    WebhookSubscription.deleted_at.is_(None),
)


# ------------------------------------------------------------------ consumer


def handle_event(s: Session, envelope: dict) -> dict:
    """Every plans, reviews and surveys event: the rules' notifications, the subscriptions' webhooks.
    Records only (queued deliveries); the dispatcher sends."""
    look_ahead(s)
    agency = event_agency(s, envelope.get("data") or {})
    recorded = notify_event(s, envelope, agency)
    webhooks = queue_webhooks(s, envelope, agency)
    return {"notifications": recorded, "webhooks": webhooks}


def look_ahead(s: Session) -> None:
    """Once per consumer batch (``services.common.bus.BATCH``), before its first event: the people
    its events name (those a rule tells someone of), with their superiors and preferences, in one
    query each for the whole batch instead of one per event."""
    batch = s.info.get(BATCH)
    if not batch or s.info.get(LOOKED_AHEAD) is batch:
        return
    s.info[LOOKED_AHEAD] = batch
    datas = [e["data"] for e in batch if isinstance(e.get("data"), dict) and _tells(s, e["type"], e["data"])]
    preload_named(Recipients(s, None), datas)


def preload_named(people: Recipients, datas: list[dict]) -> None:
    """The people the payloads name (audiences and template context) and their superiors (penilai
    and atasan by default), with their preferences: two queries, not two per person — then the
    superiors' superiors not loaded yet."""
    named = [d[key] for d in datas for _, key in PERSON_FIELDS if isinstance(d.get(key), str)]
    people.preload(named, superiors=True)
    people.preload([getattr(people.people.get(nip), "superior_nip", None) for nip in named])


def _tells(s: Session, type_: str, data: dict) -> bool:
    """Whether a rule of the event's agency tells someone of it (an event without its agency: maybe)."""
    agency = data.get("agency_code")
    if not isinstance(agency, str) or not agency:
        return True
    return bool(domain.audiences_for(rules_for(s, agency), type_, data))


def event_agency(s: Session, data: dict) -> str | None:
    agency = data.get("agency_code")
    if isinstance(agency, str) and agency:
        return agency
    for key in ("employee_nip", "giver_nip", "nip"):
        nip = data.get(key)
        if isinstance(nip, str):
            person = s.get(Person, nip)
            if person is not None:
                return person.agency_code
    return None


def notify_event(s: Session, envelope: dict, agency: str | None) -> int:
    """The rules' recipients of the event, each told once."""
    if agency is None:
        return 0
    type_, data = envelope["type"], envelope.get("data") or {}
    picks = domain.audiences_for(rules_for(s, agency), type_, data)
    if not picks:
        return 0
    rec = Recorder(s, envelope["id"], type_, agency, now(), defer=True)
    preload_named(rec, [data])  # nothing new when the batch's look-ahead read them
    chosen = [(target, template) for audience, template in picks for target in rec.audience(audience, data)]
    rec.preload(target.nip for target, _ in chosen)  # one query for everyone's preferences
    for i, (target, template) in enumerate(chosen, 1):
        rec.record(target, template, data)
        if i % recorder.FLUSH_EVERY == 0:  # a stage opening tells everyone in the agency
            rec.flush()
    rec.flush()
    return rec.recorded


def queue_webhooks(s: Session, envelope: dict, agency: str | None) -> int:
    """One queued delivery per active subscription of the event's agency whose patterns match."""
    type_ = envelope["type"]
    if agency is None or ".reminder." in f".{type_}.":
        return 0
    memo = s.info.setdefault(SUBSCRIPTIONS_MEMO, {})
    if agency not in memo:
        memo[agency] = s.scalars(_ACTIVE_SUBSCRIPTIONS, {"agency": agency}).all()
    matching = [
        sub
        for sub in memo[agency]
        if sub.active and sub.deleted_at is None and any(domain.event_matches(p, type_) for p in sub.event_types or [])
    ]
    if not matching:
        return 0
    existing = set(
        s.scalars(
            select(Delivery.recipient_key).where(Delivery.event_id == envelope["id"], Delivery.channel == "webhook")
        )
    )
    body = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    at = now()
    queued = 0
    for sub in matching:
        key = f"webhook:{sub.id}"
        if key in existing:
            continue
        s.add(
            Delivery(
                event_id=envelope["id"],
                event_type=type_,
                template=None,
                subscription_id=sub.id,
                recipient_key=key,
                recipient_nip=None,
                agency_code=agency,
                channel="webhook",
                target=sub.url,
                status="queued",
                attempts=0,
                next_attempt_at=at,
                body=body,
                created_at=at,
                updated_at=at,
            )
        )
        count("webhook", "queued")
        queued += 1
    s.flush()
    return queued
