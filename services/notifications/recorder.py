"""The recorder: one event's (or one reminder or escalation call's) notifications and deliveries,
rendered with the lookups they need loaded once (people, preferences, agency settings, what exists
already) and written together (``flush``: COPY on PostgreSQL; an event's, in the consumer's
transaction, with the other events' at its end: :mod:`.pending`). :mod:`.recording` decides what an
event makes; reminders, escalations, digests and webhook notices use the same recorder."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime

from sqlalchemy import String, bindparam, cast, null, select, union_all
from sqlalchemy.orm import Session

from services.common.i18n import LANGUAGES
from services.common.usecase import settings

from . import domain, pending
from .deliveries import emit_failed
from .models import Delivery, Notification, Preference
from .preferences import fill_placeholders
from .recipients import Recipients, Target
from .render import Renderer, RenderError
from .shared import DEFAULT_TZ, log, t, zone

DIGEST_EVENT = "notifications.digest"
#: the people an event's payload may name: (their role in the template context, the payload key)
PERSON_FIELDS = (
    ("employee", "employee_nip"),
    ("penilai", "penilai_nip"),
    ("atasan", "atasan_nip"),
    ("owner", "owner_nip"),
    ("giver", "giver_nip"),
    ("acting", "acting_nip"),  # an acting appointment: the Plt/Plh …
    ("official", "for_nip"),  # … and the official they stand in for
)

# the recorder's lookups, built once with bound parameters
_EVENT = bindparam("event_id")
# what an event already has, messages and deliveries in one round trip (channel NULL: a message)
_EXISTING = union_all(
    select(Notification.recipient_key, cast(null(), String).label("channel")).where(Notification.event_id == _EVENT),
    select(Delivery.recipient_key, Delivery.channel).where(Delivery.event_id == _EVENT),
)
FLUSH_EVERY = 500
"""Messages rendered before the recorder's caller writes them (:meth:`Recorder.flush`): a stage
opening, a reminder or an escalation call holds that many, not one per person it tells (a stage
opening to 100,000 people held 650 MB until its end; a reminder call of 5,000, 30 MB)."""


class Recorder(Recipients):
    """Records the notifications and deliveries of one event (or reminder batch) with the
    lookups it needs loaded once: people, preferences, agency settings, what already exists."""

    def __init__(
        self, s: Session, event_id: str, event_type: str, agency: str | None, at: datetime, *, defer: bool = False
    ):
        super().__init__(s, agency)
        self.event_id, self.event_type, self.at = event_id, event_type, at
        self.defer = defer  # rows written at the end of the transaction (:mod:`.pending`), not by each flush
        # one message per (event, recipient) and one delivery per channel, even when the event is
        # handled again (as if its inbox row were lost): what exists already is skipped
        # (a reminder or escalation call starts without an event: each of its messages has one of
        # its own, begun with nothing seen)
        # (read beside the rows the session holds for the end of the transaction, without writing them:
        # this event's own held rows, if it is handled twice in one transaction, are added from memory)
        options = {pending.BESIDE_HELD: True}
        existing = s.execute(_EXISTING, {"event_id": event_id}, execution_options=options).all() if event_id else []
        held, held_deliveries = pending.held_keys(s, event_id)
        self.seen = {key for key, channel in existing if channel is None} | held
        self.seen_deliveries = {(key, channel) for key, channel in existing if channel is not None} | held_deliveries
        self.recorded = 0
        # rows written together by flush(): one multi-row INSERT per table instead of the ORM's
        # unit of work per object (the recorder writes thousands per cycle stage)
        self._notes: list[dict] = []
        self._deliveries: list[tuple[int | None, dict]] = []  # (index in _notes or None, row)
        self._counted: Counter = Counter()  # (channel, status) → deliveries recorded since the last flush
        self.renderer = Renderer()  # a message's shape rendered once for the event's (or batch's) recipients
        # looked up once, not once per message (a stage opening writes 100,000)
        cfg = settings()
        self.default_tz = cfg.default_timezone or DEFAULT_TZ
        self.portal_url = (cfg.portal_url or "").rstrip("/")
        self._state_texts: dict[tuple, str] = {}

    def begin(self, event_id: str) -> None:
        """Record the next synthetic event of a batch (a reminder, an escalation): new ids, nothing seen."""
        self.event_id = event_id
        self.seen, self.seen_deliveries = set(), set()

    def language(self, target: Target) -> str:
        """The recipient's language: their preference, else the directory's, else Indonesian."""
        pref = self.pref(target.nip)
        lang = (pref.language if pref is not None and pref.language in LANGUAGES else None) or target.language
        return lang if lang in LANGUAGES else "id"

    # -- context
    def context(self, data: dict, target: Target, lang: str, extra: dict | None, link: str) -> dict:
        pref = self.pref(target.nip)
        tz = pref.timezone if pref and pref.timezone else self.default_tz
        ctx = {
            "recipient": {"name": target.name, "nip": target.nip, "audience": target.audience},
            "data": data,
            "event": {"id": self.event_id, "type": self.event_type},
            "link": link,
            "timezone": tz,
        }
        for role, key in PERSON_FIELDS:
            if key in data:
                nip = data[key]
                if not nip:
                    ctx[role] = None
                else:
                    person = self.person(nip)
                    ctx[role] = {"name": person.name if person else str(nip), "nip": nip}
        if isinstance(data.get("unit_code"), str):
            ctx["unit"] = self.unit(data["unit_code"])
        if self.event_type == "plans.cycle.stage_changed":
            ctx["stage_text"] = self.state_text(data.get("state"), lang)
            ctx["previous_text"] = self.state_text(data.get("previous"), lang)
            ctx["hint_key"] = stage_hint(data.get("state"))
        if target.acting_for:  # a Plt/Plh hears it in the official's place: the message says so
            kind = t(f"acting.kind.{target.acting_for['kind']}", lang)
            ctx["note"] = t("acting.note", lang, kind=kind, name=target.acting_for["name"])
        ctx.update(extra or {})
        return ctx

    def state_text(self, state, lang: str) -> str:
        key = (state if isinstance(state, str) else None, lang)
        if key not in self._state_texts:
            self._state_texts[key] = state_text(state, lang)
        return self._state_texts[key]

    # -- channels
    def planned_channels(self, target: Target, pref: Preference | None) -> list[tuple[str, str | None]]:
        out: list[tuple[str, str | None]] = []
        if target.nip and self.event_type != DIGEST_EVENT:
            out.append(("inapp", target.nip))
        out.append(("email", target.email))
        if self.event_type != DIGEST_EVENT:
            urls = self.apprise_urls(target, pref)
            if urls:
                out.append(("apprise", json.dumps(urls)))
        return out

    def channel_allowed(self, pref: Preference | None, channel: str) -> bool:
        if pref is None:
            return True
        for pattern, chans in (pref.overrides or {}).items():
            if domain.valid_pattern(pattern) and domain.event_matches(pattern, self.event_type):
                return channel in chans
        return bool(getattr(pref, channel, True))

    def apprise_urls(self, target: Target, pref: Preference | None) -> list[str]:
        if pref is not None and pref.apprise_urls:
            return list(pref.apprise_urls)
        values = {"nip": target.nip, "phone": domain.normalise_phone(target.phone), "email": target.email}
        return [u for u in (fill_placeholders(url, values) for url in self.agency_urls()) if u]

    def timing(self, pref: Preference | None, channel: str) -> tuple[str, datetime | None, bool]:
        """``(status, next attempt, digest)`` of a channel's delivery: queued now, or deferred to the
        end of the quiet hours or to the digest hour."""
        if pref is None:
            return "queued", self.at, False
        tz = zone(pref.timezone)
        if channel == "email" and pref.digest and self.event_type != DIGEST_EVENT:
            return "deferred", domain.digest_due_at(self.at, tz, pref.digest_hour), True
        try:
            start = domain.parse_hhmm(pref.quiet_start) if pref.quiet_start else None
            end = domain.parse_hhmm(pref.quiet_end) if pref.quiet_end else None
        except domain.DomainError:
            start = end = None
        until = domain.quiet_until(self.at, tz, start, end)
        if until is not None:
            return "deferred", until, False
        return "queued", self.at, False

    # -- recording
    def record(self, target: Target, template: str, data: dict, extra: dict | None = None) -> bool:
        """Render one recipient's message and queue it with its deliveries for :meth:`flush`; False
        when this recorder has the recipient already (or the message could not be rendered)."""
        if target.key in self.seen:
            return False
        self.seen.add(target.key)
        pref = self.pref(target.nip)
        lang = self.language(target)
        planned = self.planned_channels(target, pref)
        link = self.portal_url + domain.link_path(data, self.event_type)
        context = self.context(data, target, lang, extra, link)
        try:
            rendered = self.renderer.render(template, lang, context, translate=lambda key, **kw: t(key, lang, **kw))
        except RenderError as exc:
            log.warning("notification %s for %s not rendered: %s", template, target.key, exc.reason)
            error = f"template: {exc.reason}"
            failed = [
                self.delivery(target, ch, "failed", note=None, template=template, target_value=val, error=error)
                for ch, val in planned
            ]
            self._emit_failed(failed)
            return False
        note = len(self._notes)
        self._notes.append(
            {
                "event_id": self.event_id,
                "event_type": self.event_type,
                "template": template,
                "recipient_key": target.key,
                "recipient_nip": target.nip,
                "recipient_name": target.name[:200],
                "agency_code": self.agency,
                "audience": target.audience,
                "language": lang,
                "title": rendered.subject,
                "body_text": rendered.text,
                "body_html": rendered.html,
                "link": link,
                "in_inbox": target.nip is not None and self.event_type != DIGEST_EVENT,
                "created_at": self.at,
            }
        )
        self._emit_failed([self.channel_delivery(target, pref, ch, val, note, template) for ch, val in planned])
        return True

    def channel_delivery(
        self, target: Target, pref: Preference | None, channel: str, value: str | None, note: int, template: str
    ) -> dict | None:
        """The delivery of one planned channel of a recorded message; the row when it failed at once
        (an unusable address), else None."""
        same = {"note": note, "template": template, "target_value": value}
        if channel == "inapp":
            self.delivery(target, "inapp", "sent", **same)
        elif not self.channel_allowed(pref, channel):
            self.delivery(target, channel, "skipped", **same, error="delivery.preference")
        elif channel == "email" and not value:
            self.delivery(target, "email", "skipped", note=note, template=template, error="delivery.no_address")
        elif channel == "email" and not domain.valid_email(value):
            return self.delivery(target, "email", "failed", **same, error="delivery.invalid_address")
        else:
            status, next_at, digest = self.timing(pref, channel)
            self.delivery(target, channel, status, **same, next_at=next_at, digest=digest)
        return None

    def delivery(
        self,
        target: Target,
        channel: str,
        status: str,
        *,
        note: int | None,
        template: str,
        target_value: str | None = None,
        error: str | None = None,
        next_at: datetime | None = None,
        digest: bool = False,
    ) -> dict | None:
        """One delivery row, written by the next :meth:`flush` (``note``: the index of its pending
        notification, ``None`` for a delivery without one)."""
        if (target.key, channel) in self.seen_deliveries:
            return None
        self.seen_deliveries.add((target.key, channel))
        row = {
            "event_id": self.event_id,
            "event_type": self.event_type,
            "template": template,
            "notification_id": None,
            "subscription_id": None,
            "recipient_key": target.key,
            "recipient_nip": target.nip,
            "agency_code": self.agency,
            "channel": channel,
            "target": target_value,
            "status": status,
            "attempts": 1 if status == "sent" else 0,
            "next_attempt_at": next_at,
            "sent_at": self.at if status == "sent" else None,
            "last_error": error,
            "digest": digest,
            "created_at": self.at,
            "updated_at": self.at,
        }
        self._counted[(channel, status)] += 1  # the metric moves once per channel and status at flush()
        self._deliveries.append((note, row))
        return row

    def flush(self) -> None:
        """Write the pending notifications and their deliveries (:func:`.pending.write_rows`) — or,
        for a recorder that defers (an event's, in the consumer's transaction), hand them to the
        session, written together with the other events' at the end of the transaction
        (:mod:`.pending`)."""
        if self.defer:
            pending.hold(self.s, self._notes, self._deliveries, self._counted, FLUSH_EVERY)
            self.recorded += len(self._notes)
        else:
            self.recorded += pending.write_rows(self.s, self._notes, self._deliveries, self._counted)
        self._notes, self._deliveries, self._counted = [], [], Counter()

    def _emit_failed(self, rows: list[dict | None]) -> None:
        """Failed deliveries (an unusable address, a template that does not render) are written at
        once and published as ``notifications.notification.failed``."""
        rows = [row for row in rows if row is not None]
        if not rows:
            return
        self.flush()
        for row in rows:
            emit_failed(
                self.s,
                self.s.scalar(
                    select(Delivery).where(
                        Delivery.event_id == row["event_id"],
                        Delivery.recipient_key == row["recipient_key"],
                        Delivery.channel == row["channel"],
                    )
                ),
                self.at,
            )


def state_text(state, lang: str) -> str:
    if not isinstance(state, str) or not state:
        return "-"
    parts = state.split(":")
    if parts[0] == "monitoring" and len(parts) == 3:
        return t(f"phase.{parts[2]}", lang, period=parts[1])
    return t(f"stage.{parts[0]}", lang)


def stage_hint(state) -> str:
    if not isinstance(state, str):
        return "other"
    if state == "planning" or state == "annual_evaluation":
        return state
    parts = state.split(":")
    if len(parts) == 3 and parts[2] in ("check_in", "self_assessment"):
        return parts[2]
    return "other"
