"""Use cases of the notifications service. HTTP views and the event consumer call these; each
enforces object-level access, applies ``domain.py``, and writes the audit row and the outbox
events in the same transaction.

Two halves that never overlap:

* **Recording** (:func:`handle_event`, :func:`request_reminders`, :func:`escalate`): in the
  caller's transaction — the consumer's, for events — the rules pick the recipients, each
  recipient's message is rendered once (:class:`Notification`, the inbox) and one
  :class:`Delivery` row per channel is written: in-app ``sent``, e-mail/Apprise/webhook
  ``queued`` (or ``deferred`` for quiet hours and the digest, ``skipped``/``failed`` with the
  reason). Nothing leaves the process here, so a slow SMTP server or receiver can never hold a
  consumed message hostage.
* **Sending** (:func:`dispatch_due`): claims due deliveries in a short transaction (a lease),
  sends them in batches outside any transaction — one SMTP connection per batch, one HTTP
  connection per webhook host, timeouts everywhere — and records the outcomes (sent, retry with
  backoff, failed) in another short transaction.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from services.common.auth import Principal, forbid
from services.common.bus import Reject
from services.common.errors import FieldError, Problem
from services.common.http import walk_pages
from services.common.i18n import LANGUAGES
from services.common.readmodel import event_time, is_stale
from services.common.usecase import audit, emit, not_found, now, platform, settings

from . import channels, domain
from .models import (
    AgencySettings,
    Delivery,
    DeliveryAttempt,
    HrContact,
    Notification,
    Person,
    Preference,
    ReminderBatch,
    ReminderItem,
    RuleRow,
    UnitRef,
    WebhookSubscription,
)
from .render import RenderError, render

log = logging.getLogger("kinerja.notifications")

NAMESPACE = uuid.UUID("6f1c2b8e-3d4a-5b6c-9d7e-0a1b2c3d4e5f")  # synthetic event ids (reminders, digests)
LEASE = timedelta(minutes=5)  # a claimed delivery is due again after this if its sender died
POSTPONE = timedelta(seconds=60)  # a delivery not attempted because its server failed in the batch
DEFAULT_TZ = "Asia/Jakarta"
REMINDER_EVENT = "notifications.reminder"
ESCALATION_EVENT = "notifications.escalation"
DIGEST_EVENT = "notifications.digest"
PERSON_FIELDS = (
    ("employee", "employee_nip"),
    ("penilai", "penilai_nip"),
    ("atasan", "atasan_nip"),
    ("owner", "owner_nip"),
    ("giver", "giver_nip"),
)

# The consumer's per-event lookups, built once with bound parameters (building and hashing a
# select per event cost about as much as running it)
_AGENCY, _EVENT, _NIPS = bindparam("agency"), bindparam("event_id"), bindparam("nips", expanding=True)
_RULES = select(RuleRow).where(RuleRow.agency_code == _AGENCY).order_by(RuleRow.position)
_HR_CONTACTS = select(HrContact).where(HrContact.agency_code == _AGENCY).order_by(HrContact.id)
_ACTIVE_SUBSCRIPTIONS = select(WebhookSubscription).where(
    WebhookSubscription.agency_code == _AGENCY,
    WebhookSubscription.active.is_(True),
    WebhookSubscription.deleted_at.is_(None),
)
_NOTIFIED = select(Notification.recipient_key).where(Notification.event_id == _EVENT)
_DELIVERED = select(Delivery.recipient_key, Delivery.channel).where(Delivery.event_id == _EVENT)
_PEOPLE = select(Person).where(Person.nip.in_(_NIPS))
_PREFS = select(Preference).where(Preference.nip.in_(_NIPS))
_SUPERIORS = select(Person.superior_nip).where(Person.nip.in_(_NIPS), Person.superior_nip.is_not(None))
_PEOPLE_AND_SUPERIORS = select(Person).where(or_(Person.nip.in_(_NIPS), Person.nip.in_(_SUPERIORS)))
_PREFS_AND_SUPERIORS = select(Preference).where(or_(Preference.nip.in_(_NIPS), Preference.nip.in_(_SUPERIORS)))


def t(key: str, lang: str, **params) -> str:
    return platform().catalogue.t(key, lang, **params)


def _metrics() -> dict | None:
    try:
        return current_app.extensions.get("notifications_metrics")
    except RuntimeError:  # outside an app context (a bare script)
        return None


def count(channel: str, status: str, n: int = 1) -> None:
    m = _metrics()
    if m is not None and n:
        m["deliveries"].labels(channel, status).inc(n)


def count_attempt(channel: str, outcome: str) -> None:
    m = _metrics()
    if m is not None:
        m["attempts"].labels(channel, outcome).inc()


def utc(at: datetime | None) -> datetime | None:
    """Instants from SQLite come back naive (stored UTC)."""
    if at is None:
        return None
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings().default_timezone or DEFAULT_TZ)
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        return ZoneInfo(DEFAULT_TZ)


def agency_of(p: Principal, requested: str | None = None, roles=("hr",)) -> str:
    """The agency an HR (or admin) request acts on."""
    if p.is_admin:
        agency = requested or p.agency
        if not agency:
            raise Problem(422, "validation", errors=[FieldError("agency_code", "notifications.agency_required")])
        return agency
    if not p.has(*roles) or not p.agency:
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required=", ".join(roles))
    if requested and requested != p.agency:
        raise forbid()
    return p.agency


def require_person(p: Principal) -> str:
    if not p.nip:
        raise Problem(403, "notifications.no_person")
    return p.nip


# ------------------------------------------------------------------ read model from plans events


def rm_unit(s: Session, d: dict, as_of: datetime | None = None) -> None:
    if not isinstance(d.get("id"), int) or not d.get("agency_code") or not d.get("code"):
        raise Reject("plans.unit.upserted needs id, agency_code and code")
    u = s.get(UnitRef, d["id"])
    if u is not None and is_stale(u.as_of, as_of):
        return  # an older event arriving late (a retry) never overwrites newer data
    u = u or UnitRef(id=d["id"])
    u.as_of = as_of
    u.agency_code, u.code, u.name = d["agency_code"], d["code"], d.get("name") or d["code"]
    u.parent_code, u.head_nip = d.get("parent_code"), d.get("head_nip")
    s.add(u)


def rm_employee(s: Session, d: dict, as_of: datetime | None = None) -> None:
    nip, agency = d.get("nip"), d.get("agency_code")
    if not isinstance(nip, str) or not nip or len(nip) > 18 or not isinstance(agency, str) or not agency:
        raise Reject("plans.employee.upserted needs nip and agency_code")
    p = s.get(Person, nip)
    if p is not None and is_stale(p.as_of, as_of):
        return  # an older event arriving late (a retry) never overwrites newer data
    p = p or Person(nip=nip)
    p.as_of = as_of
    p.agency_code = agency
    p.name = str(d.get("name") or nip)[:200]
    p.email = (d.get("email") or None) if isinstance(d.get("email"), (str, type(None))) else None
    p.phone = d.get("phone") if isinstance(d.get("phone"), str) else None
    p.position = d.get("position") if isinstance(d.get("position"), str) else None
    p.unit_code = d.get("unit_code") if isinstance(d.get("unit_code"), str) else None
    p.unit_name = d.get("unit_name") if isinstance(d.get("unit_name"), str) else None
    p.superior_nip = d.get("superior_nip") if isinstance(d.get("superior_nip"), str) else None
    p.language = d.get("language") if d.get("language") in LANGUAGES else "id"
    p.active = d.get("active") is not False
    p.updated_at = now()
    s.add(p)


def rebuild_read_model(s: Session, fetch) -> dict:
    """Replay the recipients from the plans API. ``fetch(path) -> json`` calls plans with a token
    that sees the agency (HR)."""

    snapshot = now()  # the API's answer is newer than any event sent before it
    counts = Counter()
    for u in walk_pages(fetch, "/plans/api/v1/units"):
        rm_unit(s, u, snapshot)
        counts["units"] += 1
    for e in walk_pages(fetch, "/plans/api/v1/employees"):
        rm_employee(s, e, snapshot)
        counts["people"] += 1
    return dict(counts)


# ------------------------------------------------------------------ HR contacts, agency settings, rules


def hr_contacts(s: Session, agency: str) -> list[HrContact]:
    return list(s.scalars(_HR_CONTACTS, {"agency": agency}))


def replace_hr_contacts(s: Session, p: Principal, agency: str, contacts: list[dict]) -> list[HrContact]:
    errors = []
    for i, c in enumerate(contacts):
        if c.get("email") and not domain.valid_email(c["email"]):
            errors.append(FieldError(f"contacts[{i}].email", "email.invalid"))
        if not c.get("email") and not c.get("nip"):
            errors.append(FieldError(f"contacts[{i}].email", "field.required"))
    if errors:
        raise Problem(422, "validation", errors=errors)
    before = [_contact_dict(c) for c in hr_contacts(s, agency)]
    for row in hr_contacts(s, agency):
        s.delete(row)
    s.flush()
    rows = []
    for c in contacts:
        row = HrContact(
            agency_code=agency,
            name=c["name"],
            email=c.get("email"),
            nip=c.get("nip"),
            language=c.get("language") or "id",
            created_at=now(),
        )
        s.add(row)
        rows.append(row)
    s.flush()
    audit(
        s,
        p,
        "hr_contacts.replaced",
        "hr_contacts",
        agency,
        before=before,
        after=[_contact_dict(c) for c in rows],
        agency=agency,
    )
    return rows


def _contact_dict(c: HrContact) -> dict:
    return {"name": c.name, "email": c.email, "nip": c.nip, "language": c.language}


def agency_settings(s: Session, agency: str) -> dict:
    row = s.get(AgencySettings, agency)
    return {"agency_code": agency, "apprise_urls": list(row.apprise_urls or []) if row else []}


def update_agency_settings(s: Session, p: Principal, agency: str, data: dict) -> dict:
    urls = data.get("apprise_urls", [])
    check_apprise_urls(urls, "apprise_urls", placeholders=True)
    before = agency_settings(s, agency)
    row = s.get(AgencySettings, agency) or AgencySettings(agency_code=agency)
    row.apprise_urls, row.updated_by, row.updated_at = list(urls), p.sub, now()
    s.add(row)
    s.flush()
    after = agency_settings(s, agency)
    audit(
        s,
        p,
        "agency_settings.updated",
        "agency_settings",
        agency,
        before=_masked_settings(before),
        after=_masked_settings(after),
        agency=agency,
    )
    return after


def _masked_settings(d: dict) -> dict:
    return {**d, "apprise_urls": [mask_url(u) for u in d["apprise_urls"]]}


def mask_url(url: str) -> str:
    """Apprise URLs carry tokens: show the scheme and host only."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "***"
    return f"{parts.scheme}://{host or '***'}/***" if parts.scheme else "***"


def rules_for(s: Session, agency: str) -> list[domain.Rule]:
    rows = s.scalars(_RULES, {"agency": agency}).all()
    if not rows:
        return list(domain.DEFAULT_RULES)
    return [
        domain.Rule(
            r.event_type,
            r.audience,
            r.template,
            r.enabled,
            {k: tuple(v) for k, v in r.when.items()} if r.when else None,
        )
        for r in rows
    ]


def rules_are_default(s: Session, agency: str) -> bool:
    return s.scalar(select(func.count()).select_from(RuleRow).where(RuleRow.agency_code == agency)) == 0


def replace_rules(s: Session, p: Principal, agency: str, rules: list[dict]) -> list[domain.Rule]:
    parsed, errors = [], []
    for i, r in enumerate(rules):
        try:
            parsed.append(domain.rule_from_dict(r))
        except domain.DomainError as exc:
            errors.append(FieldError(f"rules[{i}].{exc.field or 'rule'}", exc.code, exc.params))
    if errors:
        raise Problem(422, "validation", errors=errors)
    before = [domain.rule_to_dict(r) for r in rules_for(s, agency)]
    for row in s.scalars(select(RuleRow).where(RuleRow.agency_code == agency)):
        s.delete(row)
    s.flush()
    for i, rule in enumerate(parsed):
        d = domain.rule_to_dict(rule)
        s.add(
            RuleRow(
                agency_code=agency,
                position=i,
                event_type=d["event_type"],
                audience=d["audience"],
                template=d["template"],
                enabled=d["enabled"],
                when=d["when"],
            )
        )
    s.flush()
    audit(
        s,
        p,
        "notification_rules.replaced",
        "notification_rules",
        agency,
        before=before,
        after=[domain.rule_to_dict(r) for r in parsed],
        agency=agency,
    )
    return parsed


def reset_rules(s: Session, p: Principal, agency: str) -> list[domain.Rule]:
    before = [domain.rule_to_dict(r) for r in rules_for(s, agency)]
    for row in s.scalars(select(RuleRow).where(RuleRow.agency_code == agency)):
        s.delete(row)
    s.flush()
    audit(
        s,
        p,
        "notification_rules.reset",
        "notification_rules",
        agency,
        before=before,
        after=[domain.rule_to_dict(r) for r in domain.DEFAULT_RULES],
        agency=agency,
    )
    return list(domain.DEFAULT_RULES)


# ------------------------------------------------------------------ preferences

PREF_DEFAULTS = {
    "language": None,
    "email": True,
    "apprise": True,
    "overrides": {},
    "quiet_start": None,
    "quiet_end": None,
    "timezone": DEFAULT_TZ,
    "digest": False,
    "digest_hour": 7,
    "apprise_urls": [],
}


def preferences_of(s: Session, nip: str) -> dict:
    row = s.get(Preference, nip)
    person = s.get(Person, nip)
    out = dict(PREF_DEFAULTS, timezone=settings().default_timezone or DEFAULT_TZ)
    if row is not None:
        out.update(
            language=row.language,
            email=row.email,
            apprise=row.apprise,
            overrides=dict(row.overrides or {}),
            quiet_start=row.quiet_start,
            quiet_end=row.quiet_end,
            timezone=row.timezone,
            digest=row.digest,
            digest_hour=row.digest_hour,
            apprise_urls=list(row.apprise_urls or []),
        )
    out["nip"] = nip
    out["effective_language"] = out["language"] or (person.language if person else "id")
    out["email_address"] = person.email if person else None
    return out


def update_preferences(s: Session, p: Principal, data: dict) -> dict:
    nip = require_person(p)
    current = preferences_of(s, nip)
    merged = {k: current[k] for k in PREF_DEFAULTS} | data
    errors: list[FieldError] = []
    try:
        ZoneInfo(merged["timezone"])
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        errors.append(FieldError("timezone", "timezone.invalid"))
    for key in ("quiet_start", "quiet_end"):
        if merged[key] is not None:
            try:
                domain.parse_hhmm(merged[key])
            except domain.DomainError:
                errors.append(FieldError(key, "time.invalid"))
    if (merged["quiet_start"] is None) != (merged["quiet_end"] is None):
        errors.append(FieldError("quiet_end" if merged["quiet_end"] is None else "quiet_start", "quiet.incomplete"))
    for pattern, chans in (merged["overrides"] or {}).items():
        if not domain.valid_pattern(pattern):
            errors.append(FieldError(f"overrides.{pattern}", "webhook.pattern"))
        elif not isinstance(chans, list) or any(c not in ("inapp", *domain.PERSON_CHANNELS) for c in chans):
            errors.append(FieldError(f"overrides.{pattern}", "channel.invalid"))
    if errors:
        raise Problem(422, "validation", errors=errors)
    check_apprise_urls(merged["apprise_urls"], "apprise_urls")
    row = s.get(Preference, nip) or Preference(nip=nip)
    for key in PREF_DEFAULTS:
        setattr(row, key, merged[key])
    row.updated_at = now()
    s.add(row)
    s.flush()
    after = preferences_of(s, nip)
    audit(
        s,
        p,
        "preferences.updated",
        "preferences",
        nip,
        before={k: current[k] for k in PREF_DEFAULTS if k != "apprise_urls"},
        after={k: after[k] for k in PREF_DEFAULTS if k != "apprise_urls"},
        agency=p.agency,
        subject=nip,
    )
    return after


def check_apprise_urls(urls: list, field: str, placeholders: bool = False) -> None:
    apprise = channels.load_apprise()

    errors = []
    for i, url in enumerate(urls):
        candidate = url
        if placeholders:
            candidate = (
                fill_placeholders(
                    url, {"nip": "199001012015031004", "phone": "6281234567890", "email": "someone@example.go.id"}
                )
                or url
            )
        if not isinstance(url, str) or len(url) > 2000 or apprise.Apprise.instantiate(candidate) is None:
            errors.append(FieldError(f"{field}[{i}]", "apprise.invalid"))
            continue
        if not allow_private_targets():
            refused = channels.refuse_private_target(candidate, apprise_scheme=True)
            if refused:
                errors.append(FieldError(f"{field}[{i}]", "apprise.private", {"address": refused}))
    if errors:
        raise Problem(422, "validation", errors=errors)


def fill_placeholders(url: str, values: dict) -> str | None:
    """Agency Apprise URLs may name the recipient: ``{nip}``, ``{phone}`` (international digits),
    ``{email}``; None when a named value is missing (that URL is skipped for this person)."""
    from urllib.parse import quote

    out = url
    for key, value in values.items():
        token = "{" + key + "}"
        if token in out:
            if not value:
                return None
            out = out.replace(token, quote(str(value), safe="@+"))
    return out


def allow_private_targets() -> bool:
    return platform().config.embedded or bool(settings().webhook_allow_private)


# ------------------------------------------------------------------ recording notifications


@dataclass
class Target:
    key: str  # the NIP for people, hr:<id> for HR contacts without one
    nip: str | None
    name: str
    email: str | None
    phone: str | None
    language: str
    audience: str


class Recorder:
    """Records the notifications and deliveries of one event (or reminder batch) with the
    lookups it needs loaded once: people, preferences, agency settings, what already exists."""

    def __init__(self, s: Session, event_id: str, event_type: str, agency: str | None, at: datetime):
        self.s, self.event_id, self.event_type, self.agency, self.at = s, event_id, event_type, agency, at
        self.people: dict[str, Person | None] = {}
        self.prefs: dict[str, Preference | None] = {}
        self.units: dict[str, UnitRef | None] = {}
        # one message per (event, recipient) and one delivery per channel, even when the event is
        # handled again (as if its inbox row were lost): what exists already is skipped
        self.seen = set(s.scalars(_NOTIFIED, {"event_id": event_id}))
        self.seen_deliveries = set(s.execute(_DELIVERED, {"event_id": event_id}).tuples())
        self._agency_urls: list[str] | None = None
        self.recorded = 0
        # rows written together by flush(): one multi-row INSERT per table instead of the ORM's
        # unit of work per object (the recorder writes thousands per cycle stage)
        self._notes: list[dict] = []
        self._deliveries: list[tuple[int | None, dict]] = []  # (index in _notes or None, row)

    # -- lookups
    def person(self, nip: str | None) -> Person | None:
        if not nip:
            return None
        if nip not in self.people:
            with self.s.no_autoflush:  # a lookup: the pending notifications are inserted together later
                self.people[nip] = self.s.get(Person, nip)
        return self.people[nip]

    def preload(self, nips, *, superiors: bool = False) -> None:
        """People and their preferences, two queries per 500 (``superiors``: their superiors as
        well, in the same two queries)."""
        missing = sorted({n for n in nips if n and (n not in self.people or n not in self.prefs)})
        people_q, prefs_q = (_PEOPLE_AND_SUPERIORS, _PREFS_AND_SUPERIORS) if superiors else (_PEOPLE, _PREFS)
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            with self.s.no_autoflush:
                found = {p.nip: p for p in self.s.scalars(people_q, {"nips": chunk})}
                prefs = {p.nip: p for p in self.s.scalars(prefs_q, {"nips": chunk})}
            for nip in chunk:
                self.people.setdefault(nip, found.get(nip))
                self.prefs[nip] = prefs.get(nip)
            for nip, person in found.items():  # the superiors
                if nip not in self.people or nip not in self.prefs:
                    self.people.setdefault(nip, person)
                    self.prefs[nip] = prefs.get(nip)

    def pref(self, nip: str | None) -> Preference | None:
        if not nip:
            return None
        if nip not in self.prefs:
            with self.s.no_autoflush:
                self.prefs[nip] = self.s.get(Preference, nip)
        return self.prefs[nip]

    def unit(self, code: str) -> dict:
        if code not in self.units:
            with self.s.no_autoflush:
                self.units[code] = self.s.scalar(
                    select(UnitRef).where(UnitRef.agency_code == (self.agency or ""), UnitRef.code == code)
                )
        u = self.units[code]
        return {"code": code, "name": u.name if u else code}

    def agency_urls(self) -> list[str]:
        if self._agency_urls is None:
            with self.s.no_autoflush:
                row = self.s.get(AgencySettings, self.agency) if self.agency else None
            self._agency_urls = list(row.apprise_urls or []) if row else []
        return self._agency_urls

    # -- targets
    def person_target(self, nip: str | None, audience: str) -> Target | None:
        person = self.person(nip)
        if person is None or not person.active:
            return None
        return Target(
            person.nip, person.nip, person.name, person.email, person.phone, person.language or "id", audience
        )

    def hr_targets(self, audience: str = "hr") -> list[Target]:
        out = []
        for c in hr_contacts(self.s, self.agency or ""):
            person = self.person(c.nip) if c.nip else None
            if person is not None:
                out.append(
                    Target(
                        person.nip,
                        person.nip,
                        c.name or person.name,
                        c.email or person.email,
                        person.phone,
                        c.language or person.language,
                        audience,
                    )
                )
            else:
                out.append(Target(f"hr:{c.id}", None, c.name, c.email, None, c.language or "id", audience))
        return out

    def audience(self, audience: str, data: dict) -> list[Target]:
        if audience == "hr":
            return self.hr_targets()
        if audience == "agency_all":
            people = list(
                self.s.scalars(
                    select(Person)
                    .where(Person.agency_code == (self.agency or ""), Person.active.is_(True))
                    .order_by(Person.nip)
                )
            )
            for p in people:
                self.people[p.nip] = p
            self.preload([p.nip for p in people])
            return [t for t in (self.person_target(p.nip, audience) for p in people) if t]
        if audience == "employee":
            nip = data.get("employee_nip")
        elif audience == "owner":
            nip = data.get("owner_nip")
        elif audience == "penilai":
            nip = (
                data["penilai_nip"]
                if "penilai_nip" in data
                else getattr(self.person(data.get("employee_nip")), "superior_nip", None)
            )
        elif audience == "atasan":
            if "atasan_nip" in data:
                nip = data["atasan_nip"]
            else:
                penilai = data.get("penilai_nip") or getattr(
                    self.person(data.get("employee_nip")), "superior_nip", None
                )
                nip = getattr(self.person(penilai), "superior_nip", None)
        else:  # pragma: no cover - rules are validated
            return []
        target = self.person_target(nip if isinstance(nip, str) else None, audience)
        return [target] if target else []

    # -- context
    def context(self, data: dict, target: Target, lang: str, extra: dict | None) -> dict:
        pref = self.pref(target.nip)
        tz = pref.timezone if pref and pref.timezone else settings().default_timezone or DEFAULT_TZ
        ctx = {
            "recipient": {"name": target.name, "nip": target.nip, "audience": target.audience},
            "data": data,
            "event": {"id": self.event_id, "type": self.event_type},
            "link": (settings().portal_url or "").rstrip("/") + domain.link_path(data),
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
            ctx["stage_text"] = state_text(data.get("state"), lang)
            ctx["previous_text"] = state_text(data.get("previous"), lang)
            ctx["hint_key"] = stage_hint(data.get("state"))
        ctx.update(extra or {})
        return ctx

    # -- channels
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
        count(channel, status)
        self._deliveries.append((note, row))
        return row

    def flush(self) -> None:
        """Write the pending notifications (their ids returned in order) and then their deliveries:
        one multi-row INSERT per table (Core, on the tables: the ORM's bulk path compiles a statement
        per row shape)."""
        notes, deliveries = Notification.__table__, Delivery.__table__
        ids = []
        if self._notes:
            ids = self.s.scalars(insert(notes).returning(notes.c.id, sort_by_parameter_order=True), self._notes).all()
        rows = []
        for note, row in self._deliveries:
            if note is not None:
                row["notification_id"] = ids[note]
            rows.append(row)
        if rows:
            self.s.execute(insert(deliveries), rows)
        self.recorded += len(ids)
        self._notes, self._deliveries = [], []

    def _emit_failed(self, rows: list[dict]) -> None:
        """Failed deliveries (an unusable address, a template that does not render) are written at
        once and published as ``notifications.notification.failed``."""
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

    def record(self, target: Target, template: str, data: dict, extra: dict | None = None) -> bool:
        """Render one recipient's message and queue it with its deliveries for :meth:`flush`; False
        when this recorder has the recipient already (or the message could not be rendered)."""
        if target.key in self.seen:
            return False
        self.seen.add(target.key)
        pref = self.pref(target.nip)
        lang = (pref.language if pref is not None and pref.language in LANGUAGES else None) or target.language
        lang = lang if lang in LANGUAGES else "id"
        planned = self.planned_channels(target, pref)
        try:
            rendered = render(
                template, lang, self.context(data, target, lang, extra), translate=lambda key, **kw: t(key, lang, **kw)
            )
        except RenderError as exc:
            log.warning("notification %s for %s not rendered: %s", template, target.key, exc.reason)
            failed = [
                self.delivery(
                    target,
                    ch,
                    "failed",
                    note=None,
                    template=template,
                    target_value=val,
                    error=f"template: {exc.reason}",
                )
                for ch, val in planned
            ]
            self._emit_failed([d for d in failed if d is not None])
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
                "link": (settings().portal_url or "").rstrip("/") + domain.link_path(data),
                "in_inbox": target.nip is not None and self.event_type != DIGEST_EVENT,
                "created_at": self.at,
            }
        )
        failed = []
        for channel, value in planned:
            if channel == "inapp":
                self.delivery(target, "inapp", "sent", note=note, template=template, target_value=value)
            elif not self.channel_allowed(pref, channel):
                self.delivery(
                    target,
                    channel,
                    "skipped",
                    note=note,
                    template=template,
                    target_value=value,
                    error="delivery.preference",
                )
            elif channel == "email" and not value:
                self.delivery(target, "email", "skipped", note=note, template=template, error="delivery.no_address")
            elif channel == "email" and not domain.valid_email(value):
                failed.append(
                    self.delivery(
                        target,
                        "email",
                        "failed",
                        note=note,
                        template=template,
                        target_value=value,
                        error="delivery.invalid_address",
                    )
                )
            else:
                status, next_at, digest = self.timing(pref, channel)
                self.delivery(
                    target,
                    channel,
                    status,
                    note=note,
                    template=template,
                    target_value=value,
                    next_at=next_at,
                    digest=digest,
                )
        failed = [d for d in failed if d is not None]
        if failed:
            self._emit_failed(failed)
        return True

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


def emit_failed(s: Session, d: Delivery, at: datetime) -> None:
    emit(
        s,
        "notifications.notification.failed",
        d.id,
        {**_delivery_ref(d), "error": (d.last_error or "failed")[:1000], "failed_at": at},
    )


def _delivery_ref(d: Delivery) -> dict:
    return {
        "delivery_id": d.id,
        "notification_id": d.notification_id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "template": d.template,
        "channel": d.channel,
        "agency_code": d.agency_code,
        "recipient_nip": d.recipient_nip,
        "subscription_id": d.subscription_id,
        "attempts": d.attempts,
    }


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


def handle_event(s: Session, envelope: dict) -> dict:
    """The consumer's entrypoint: read model, reminder requests, rules → notifications, webhooks.
    Records only (queued deliveries); the dispatcher sends."""
    type_ = envelope["type"]
    data = envelope.get("data") or {}
    if type_ == "plans.employee.upserted":
        rm_employee(s, data, event_time(envelope))
    elif type_ == "plans.unit.upserted":
        rm_unit(s, data, event_time(envelope))
    s.flush()
    if domain.event_matches("*.reminder.requested", type_):
        try:
            request_reminders(s, None, data, agency=data.get("agency_code"))
        except Problem as exc:
            raise Reject(f"reminder request refused: {exc.code} {exc.errors or exc.params}") from None
        return {"reminders": 1}
    if domain.event_matches("*.reminder.escalation_requested", type_):
        batch = s.scalar(
            select(ReminderBatch).where(
                ReminderBatch.agency_code == (data.get("agency_code") or ""),
                ReminderBatch.batch_key == (data.get("batch_key") or ""),
            )
        )
        if batch is None:
            raise Reject("escalation requested for an unknown reminder batch")
        escalate(s, None, batch, {k: data[k] for k in ("recipients", "to") if k in data})
        return {"escalations": 1}
    agency = event_agency(s, data)
    recorded = notify_event(s, envelope, agency)
    webhooks = queue_webhooks(s, envelope, agency)
    return {"notifications": recorded, "webhooks": webhooks}


def notify_event(s: Session, envelope: dict, agency: str | None) -> int:
    if agency is None:
        return 0
    type_, data = envelope["type"], envelope.get("data") or {}
    picks = domain.audiences_for(rules_for(s, agency), type_, data)
    if not picks:
        return 0
    rec = Recorder(s, envelope["id"], type_, agency, now())
    named = [data.get(key) for _, key in PERSON_FIELDS if isinstance(data.get(key), str)]
    # the people the event names (audiences and template context) and their superiors (penilai and
    # atasan by default): two queries, not two per person
    rec.preload(named, superiors=True)
    rec.preload([getattr(rec.people.get(nip), "superior_nip", None) for nip in named])  # superiors not in the directory
    chosen = [(target, template) for audience, template in picks for target in rec.audience(audience, data)]
    rec.preload(target.nip for target, _ in chosen)  # one query for everyone's preferences
    for target, template in chosen:
        rec.record(target, template, data)
    rec.flush()
    return rec.recorded


def queue_webhooks(s: Session, envelope: dict, agency: str | None) -> int:
    """One queued delivery per active subscription of the event's agency whose patterns match."""
    type_ = envelope["type"]
    if agency is None or ".reminder." in f".{type_}.":
        return 0
    subs = s.scalars(_ACTIVE_SUBSCRIPTIONS, {"agency": agency}).all()
    matching = [sub for sub in subs if any(domain.event_matches(p, type_) for p in sub.event_types or [])]
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


# ------------------------------------------------------------------ reminders and escalation


def _event_id(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def _deadline_iso(batch: ReminderBatch) -> str | None:
    d = utc(batch.deadline)
    return d.isoformat().replace("+00:00", "Z") if d else None


def request_reminders(s: Session, p: Principal | None, data: dict, *, agency: str | None = None) -> dict:
    """Create (or extend) a reminder batch; one reminder per (batch key, recipient), ever."""
    if p is not None:
        agency = agency_of(p, data.get("agency_code"))
    if not agency:
        raise Problem(422, "validation", errors=[FieldError("agency_code", "notifications.agency_required")])
    template = data.get("template")
    if template not in domain.REMINDER_TEMPLATES:
        raise Problem(
            422,
            "validation",
            errors=[FieldError("template", "reminder.template", {"allowed": ", ".join(domain.REMINDER_TEMPLATES)})],
        )
    escalate_to = data.get("escalate_to") or "hr"
    if escalate_to not in domain.ESCALATION_TARGETS:
        raise Problem(422, "validation", errors=[FieldError("escalate_to", "reminder.escalate_to")])
    batch_key = str(data.get("batch_key") or "")
    if not batch_key:
        raise Problem(422, "validation", errors=[FieldError("batch_key", "field.required")])
    recipients = [r if isinstance(r, dict) else {"nip": r} for r in data.get("recipients") or []]
    at = now()
    batch = s.scalar(
        select(ReminderBatch).where(ReminderBatch.agency_code == agency, ReminderBatch.batch_key == batch_key)
    )
    deadline = data.get("deadline")
    if isinstance(deadline, str):
        try:
            deadline = datetime.fromisoformat(deadline.replace("Z", "+00:00"))
        except ValueError:
            raise Problem(422, "validation", errors=[FieldError("deadline", "field.type")]) from None
    if isinstance(deadline, datetime):
        if deadline.tzinfo is None:
            deadline = deadline.replace(tzinfo=zone(None))
        deadline = deadline.astimezone(timezone.utc)  # stored in UTC (SQLite keeps no offset)
    elif deadline is not None:
        raise Problem(422, "validation", errors=[FieldError("deadline", "field.type")])
    if batch is None:
        batch = ReminderBatch(
            agency_code=agency,
            batch_key=batch_key,
            template=template,
            deadline=deadline,
            params=dict(data.get("params") or {}),
            escalate_to=escalate_to,
            hr_after_hours=int(data.get("hr_after_hours") or 48),
            created_by=p.sub if p else "system:events",
            created_at=at,
        )
        s.add(batch)
        s.flush()
        audit(
            s,
            p,
            "reminder_batch.created",
            "reminder_batch",
            batch.id,
            agency=agency,
            after={
                "batch_key": batch_key,
                "template": template,
                "deadline": _deadline_iso(batch),
                "escalate_to": escalate_to,
            },
        )
    elif batch.template != template:
        raise Problem(409, "reminder.batch_conflict", batch_key=batch_key, template=batch.template)
    _check_renders(batch, recipients)
    existing = {i.recipient_nip: i for i in s.scalars(select(ReminderItem).where(ReminderItem.batch_id == batch.id))}
    rec = Recorder(s, "", REMINDER_EVENT, agency, at)
    nips = [r.get("nip") for r in recipients if isinstance(r.get("nip"), str)]
    rec.preload(nips)
    created, already, unknown = [], [], []
    for r in recipients:
        nip = r.get("nip")
        if not isinstance(nip, str):
            unknown.append(str(nip))
            continue
        if nip in existing:
            already.append(nip)
            continue
        person = rec.person(nip)
        if person is None or person.agency_code != agency or not person.active:
            unknown.append(nip)
            continue
        item = ReminderItem(
            batch_id=batch.id,
            recipient_nip=nip,
            params=dict(r.get("params") or {}),
            event_id=_event_id("reminder", batch.id, nip),
            escalation_level=0,
            escalations=[],
            created_at=at,
        )
        s.add(item)
        existing[nip] = item
        created.append(nip)
        rec.event_id = item.event_id
        rec.seen, rec.seen_deliveries = set(), set()
        target = rec.person_target(nip, "employee")
        rec.record(
            target,
            batch.template,
            {**batch.params, **item.params, "batch_key": batch.batch_key},
            {"deadline": _deadline_iso(batch)},
        )
    rec.flush()
    s.flush()
    return {**batch_summary(s, batch), "created": created, "already": already, "unknown": unknown}


def _check_renders(batch: ReminderBatch, recipients: list[dict]) -> None:
    """Refuse a batch whose template lacks a parameter up front (422), rather than recording a
    failed delivery per recipient."""
    sample = recipients[0].get("params") if recipients and isinstance(recipients[0], dict) else {}
    ctx = {
        "recipient": {"name": "-", "nip": None, "audience": "employee"},
        "data": {**batch.params, **(sample or {}), "batch_key": batch.batch_key},
        "event": {},
        "link": "",
        "deadline": _deadline_iso(batch),
        "timezone": DEFAULT_TZ,
    }
    for lang in LANGUAGES:
        try:
            render(batch.template, lang, ctx, translate=lambda key, lang=lang, **kw: t(key, lang, **kw))
        except RenderError as exc:
            raise Problem(422, "validation", errors=[FieldError("params", "reminder.params", {"reason": exc.reason})])


def batch_summary(s: Session, batch: ReminderBatch) -> dict:
    items = list(s.scalars(select(ReminderItem).where(ReminderItem.batch_id == batch.id).order_by(ReminderItem.id)))
    return {
        "batch_key": batch.batch_key,
        "agency_code": batch.agency_code,
        "template": batch.template,
        "deadline": utc(batch.deadline),
        "escalate_to": batch.escalate_to,
        "hr_after_hours": batch.hr_after_hours,
        "items": [
            {
                "recipient_nip": i.recipient_nip,
                "escalation_level": i.escalation_level,
                "escalations": i.escalations or [],
                "done_at": utc(i.done_at),
            }
            for i in items
        ],
    }


def get_batch(s: Session, p: Principal, batch_key: str, agency: str | None = None) -> ReminderBatch:
    agency = agency_of(p, agency)
    batch = s.scalar(
        select(ReminderBatch).where(ReminderBatch.agency_code == agency, ReminderBatch.batch_key == batch_key)
    )
    if batch is None:
        raise not_found("reminder batch", batch_key)
    return batch


def escalate(s: Session, p: Principal | None, batch: ReminderBatch, data: dict) -> dict:
    """Escalate the items still open: to the recipient's superior from the deadline, then to HR
    ``hr_after_hours`` later (or at once up to ``to``), each level once per item — a repeated call
    adds nothing. ``recipients`` lists who is still overdue; the others are marked done."""
    at = now()
    pending = data.get("recipients")
    items = list(
        s.scalars(
            select(ReminderItem)
            .where(ReminderItem.batch_id == batch.id, ReminderItem.done_at.is_(None))
            .order_by(ReminderItem.id)
        )
    )
    if pending is not None:
        still = set(pending)
        for item in items:
            if item.recipient_nip not in still:
                item.done_at = at
        items = [i for i in items if i.recipient_nip in still]
    cap = domain.ESCALATION_TARGETS.index(batch.escalate_to)
    forced = data.get("to")
    if forced is not None and forced not in domain.ESCALATION_TARGETS:
        raise Problem(422, "validation", errors=[FieldError("to", "reminder.escalate_to")])
    target_level = domain.escalation_level(
        at, utc(batch.deadline), hr_after=timedelta(hours=batch.hr_after_hours), target=batch.escalate_to
    )
    if forced:
        target_level = max(target_level, min(domain.ESCALATION_TARGETS.index(forced), cap))
    task_key = f"task.{batch.template}"
    escalated = 0
    # one recorder for the batch: people and preferences loaded once (two queries), not per item;
    # each escalation keeps its own event id, and the item's level makes a repeat add nothing
    rec = Recorder(s, "", ESCALATION_EVENT, batch.agency_code, at)
    rec.preload([i.recipient_nip for i in items])
    rec.preload([o.superior_nip for o in (rec.people.get(i.recipient_nip) for i in items) if o and o.superior_nip])
    for item in items:
        for level in range(item.escalation_level + 1, target_level + 1):
            to = domain.ESCALATION_TARGETS[level]
            rec.event_id = _event_id("escalation", batch.id, item.recipient_nip, level)
            rec.seen, rec.seen_deliveries = set(), set()
            overdue = rec.person(item.recipient_nip)
            superior = rec.person(overdue.superior_nip) if overdue and overdue.superior_nip else None
            if to == "superior":
                targets = [t_ for t_ in [rec.person_target(superior.nip, "superior")] if t_] if superior else []
            else:
                targets = rec.hr_targets()
            data_ = {
                **batch.params,
                **(item.params or {}),
                "batch_key": batch.batch_key,
                "employee_nip": item.recipient_nip,
            }
            extra = {
                "overdue": {"name": overdue.name if overdue else item.recipient_nip, "nip": item.recipient_nip},
                "superior": {"name": superior.name, "nip": superior.nip} if superior else None,
                "deadline": _deadline_iso(batch),
            }
            for target in targets:
                lang = _target_lang(rec, target)
                extra["task_text"] = data_.get("task") or t(task_key, lang)
                rec.record(target, f"escalation.{to}", data_, dict(extra))
            item.escalations = [
                *(item.escalations or []),
                {
                    "level": level,
                    "to": to,
                    "recipients": [t_.key for t_ in targets],
                    "at": at.isoformat().replace("+00:00", "Z"),
                },
            ]
            item.escalation_level = level
            escalated += 1
    rec.flush()
    s.flush()
    if escalated:
        audit(
            s,
            p,
            "reminder_batch.escalated",
            "reminder_batch",
            batch.id,
            agency=batch.agency_code,
            after={"level": target_level, "escalations": escalated},
        )
    return {**batch_summary(s, batch), "escalated": escalated}


def _target_lang(rec: Recorder, target: Target) -> str:
    pref = rec.pref(target.nip)
    lang = (pref.language if pref is not None and pref.language else None) or target.language
    return lang if lang in LANGUAGES else "id"


# ------------------------------------------------------------------ inbox


def inbox_query(p: Principal, unread: bool | None = None):
    nip = require_person(p)
    stmt = select(Notification).where(Notification.recipient_nip == nip, Notification.in_inbox.is_(True))
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return stmt


def get_notification(s: Session, p: Principal, notification_id: int) -> Notification:
    nip = require_person(p)
    n = s.get(Notification, notification_id)
    if n is None or n.recipient_nip != nip or not n.in_inbox:
        raise not_found("notification", notification_id)
    return n


def unread_count(s: Session, p: Principal) -> int:
    return s.scalar(select(func.count()).select_from(inbox_query(p, unread=True).subquery()))


def mark_read(s: Session, p: Principal, notification_id: int) -> Notification:
    n = get_notification(s, p, notification_id)
    if n.read_at is None:
        n.read_at = now()
    return n


def mark_all_read(s: Session, p: Principal) -> int:
    nip = require_person(p)
    result = s.execute(
        update(Notification)
        .where(Notification.recipient_nip == nip, Notification.in_inbox.is_(True), Notification.read_at.is_(None))
        .values(read_at=now()),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount or 0


# ------------------------------------------------------------------ webhook subscriptions


def check_webhook_url(url: str) -> None:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise Problem(422, "validation", errors=[FieldError("url", "webhook.url_scheme")]) from None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise Problem(422, "validation", errors=[FieldError("url", "webhook.url_scheme")])
    if allow_private_targets():
        return
    try:
        addresses = channels.resolve_addresses(host, parts.port)
    except (OSError, UnicodeError) as exc:
        raise Problem(
            422, "validation", errors=[FieldError("url", "webhook.url_unresolvable", {"reason": str(exc)[:200]})]
        ) from None
    for address in addresses:
        if not domain.is_public_address(address):
            raise Problem(422, "validation", errors=[FieldError("url", "webhook.url_private", {"address": address})])


def _check_patterns(patterns: list[str]) -> None:
    errors = [
        FieldError(f"event_types[{i}]", "webhook.pattern")
        for i, pat in enumerate(patterns)
        if not domain.valid_pattern(pat)
    ]
    if errors:
        raise Problem(422, "validation", errors=errors)


def can_manage(p: Principal, sub: WebhookSubscription) -> bool:
    if p.is_admin:
        return True
    if p.agency != sub.agency_code:
        return False
    return p.has("hr") or (p.has("agency") and p.sub == sub.owner_sub)


def subscriptions_query(p: Principal):
    stmt = select(WebhookSubscription).where(WebhookSubscription.deleted_at.is_(None))
    if p.is_admin:
        return stmt
    if not p.has("hr", "agency") or not p.agency:
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required="hr, agency")
    stmt = stmt.where(WebhookSubscription.agency_code == p.agency)
    if not p.has("hr"):
        stmt = stmt.where(WebhookSubscription.owner_sub == p.sub)
    return stmt


def get_subscription(s: Session, p: Principal, subscription_id: int) -> WebhookSubscription:
    sub = s.get(WebhookSubscription, subscription_id)
    if sub is None or sub.deleted_at is not None or not can_manage(p, sub):
        raise not_found("webhook", subscription_id)
    return sub


def create_subscription(s: Session, p: Principal, data: dict) -> tuple[WebhookSubscription, str]:
    agency = agency_of(p, data.get("agency_code"), roles=("hr", "agency"))
    check_webhook_url(data["url"])
    _check_patterns(data["event_types"])
    secret = domain.new_webhook_secret(os.urandom(32))
    at = now()
    sub = WebhookSubscription(
        agency_code=agency,
        owner_sub=p.sub,
        owner_nip=p.nip,
        url=data["url"],
        event_types=list(data["event_types"]),
        secret=secret,
        description=data.get("description"),
        active=True,
        consecutive_failures=0,
        created_at=at,
        updated_at=at,
    )
    s.add(sub)
    s.flush()
    audit(
        s,
        p,
        "webhook.created",
        "webhook_subscription",
        sub.id,
        agency=agency,
        after={"url": sub.url, "event_types": sub.event_types},
    )
    return sub, secret


def update_subscription(s: Session, p: Principal, sub: WebhookSubscription, data: dict) -> WebhookSubscription:
    before = {"url": sub.url, "event_types": sub.event_types, "active": sub.active, "description": sub.description}
    if "url" in data:
        check_webhook_url(data["url"])
        sub.url = data["url"]
    if "event_types" in data:
        _check_patterns(data["event_types"])
        sub.event_types = list(data["event_types"])
    if "description" in data:
        sub.description = data["description"]
    if "active" in data and data["active"] != sub.active:
        sub.active = data["active"]
        if sub.active:  # re-enabled: a fresh start
            sub.disabled_at, sub.disabled_reason, sub.consecutive_failures, sub.failing_since = None, None, 0, None
        else:
            sub.disabled_at, sub.disabled_reason = now(), "manual"
    sub.updated_at = now()
    s.flush()
    audit(
        s,
        p,
        "webhook.updated",
        "webhook_subscription",
        sub.id,
        agency=sub.agency_code,
        before=before,
        after={"url": sub.url, "event_types": sub.event_types, "active": sub.active, "description": sub.description},
    )
    return sub


def rotate_secret(s: Session, p: Principal, sub: WebhookSubscription) -> str:
    sub.secret = domain.new_webhook_secret(os.urandom(32))
    sub.updated_at = now()
    audit(s, p, "webhook.secret_rotated", "webhook_subscription", sub.id, agency=sub.agency_code)
    return sub.secret


def delete_subscription(s: Session, p: Principal, sub: WebhookSubscription) -> None:
    at = now()
    sub.active, sub.deleted_at, sub.updated_at = False, at, at
    _skip_pending(s, sub, at, "delivery.subscription_disabled")
    audit(
        s,
        p,
        "webhook.deleted",
        "webhook_subscription",
        sub.id,
        agency=sub.agency_code,
        before={"url": sub.url, "event_types": sub.event_types},
    )


def _skip_pending(s: Session, sub: WebhookSubscription, at: datetime, reason: str) -> int:
    result = s.execute(
        update(Delivery)
        .where(Delivery.subscription_id == sub.id, Delivery.status.in_(("queued", "deferred")))
        .values(status="skipped", last_error=reason, next_attempt_at=None, updated_at=at),
        execution_options={"synchronize_session": False},
    )
    count("webhook", "skipped", result.rowcount or 0)
    return result.rowcount or 0


def redeliver(s: Session, p: Principal, sub: WebhookSubscription, delivery_id: int) -> Delivery:
    d = s.get(Delivery, delivery_id)
    if d is None or d.subscription_id != sub.id:
        raise not_found("delivery", delivery_id)
    if not sub.active:
        raise Problem(409, "webhook.inactive")
    at = now()
    before = {"status": d.status, "attempts": d.attempts}
    d.status, d.next_attempt_at, d.first_attempt_at, d.last_error, d.updated_at = "queued", at, None, None, at
    d.target = sub.url
    count("webhook", "queued")
    audit(
        s, p, "webhook.redelivery", "delivery", d.id, agency=sub.agency_code, before=before, after={"status": "queued"}
    )
    return d


def disable_subscription(s: Session, sub: WebhookSubscription, reason: str, at: datetime) -> None:
    """Disable after repeated failures; tell the owner (inbox) and the agency's HR contacts (e-mail),
    and publish ``notifications.webhook.disabled``."""
    sub.active, sub.disabled_at, sub.disabled_reason, sub.updated_at = False, at, reason, at
    _skip_pending(s, sub, at, "delivery.subscription_disabled")
    data = {
        "subscription_id": sub.id,
        "agency_code": sub.agency_code,
        "url": sub.url,
        "owner": sub.owner_sub,
        "reason": reason,
        "consecutive_failures": sub.consecutive_failures,
        "failing_since": utc(sub.failing_since),
        "disabled_at": at,
    }
    envelope = emit(s, "notifications.webhook.disabled", sub.id, data)
    audit(
        s,
        None,
        "webhook.disabled",
        "webhook_subscription",
        sub.id,
        agency=sub.agency_code,
        after={"reason": reason, "consecutive_failures": sub.consecutive_failures},
    )
    rec = Recorder(s, envelope["id"], "notifications.webhook.disabled", sub.agency_code, at)
    targets = []
    owner = rec.person_target(sub.owner_nip, "owner") if sub.owner_nip else None
    if owner:
        targets.append(owner)
    targets += rec.hr_targets()
    notice = {**envelope["data"]}
    for target in targets:
        rec.record(target, "webhook.disabled", notice)
    rec.flush()


# ------------------------------------------------------------------ delivery log


def deliveries_query(p: Principal, args: dict):
    stmt = select(Delivery)
    if p.is_admin:
        pass
    elif p.has("hr") and p.agency:
        stmt = stmt.where(Delivery.agency_code == p.agency)
    elif p.has("agency") and p.agency:
        owned = select(WebhookSubscription.id).where(
            WebhookSubscription.agency_code == p.agency, WebhookSubscription.owner_sub == p.sub
        )
        stmt = stmt.where(Delivery.subscription_id.in_(owned))
    else:
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required="hr, agency")
    for key in ("status", "channel", "event_type", "recipient_nip", "subscription_id", "event_id"):
        if args.get(key) is not None:
            stmt = stmt.where(getattr(Delivery, key) == args[key])
    return stmt


def get_delivery(s: Session, p: Principal, delivery_id: int) -> Delivery:
    d = s.scalar(deliveries_query(p, {}).where(Delivery.id == delivery_id))
    if d is None:
        raise not_found("delivery", delivery_id)
    return d


def attempts_of(s: Session, delivery_id: int) -> list[DeliveryAttempt]:
    return list(
        s.scalars(
            select(DeliveryAttempt).where(DeliveryAttempt.delivery_id == delivery_id).order_by(DeliveryAttempt.id)
        )
    )


def delivery_out(d: Delivery, lang: str) -> dict:
    """A delivery as the log shows it: reasons translated, Apprise tokens masked."""
    target = d.target
    if d.channel == "apprise" and target:
        try:
            target = ", ".join(mask_url(u) for u in json.loads(target))
        except ValueError:
            target = "***"
    error = d.last_error
    if error and platform().catalogue.has(error):
        error = t(error, lang, address=d.target or "")
    return {
        "id": d.id,
        "event_id": d.event_id,
        "event_type": d.event_type,
        "template": d.template,
        "notification_id": d.notification_id,
        "subscription_id": d.subscription_id,
        "recipient_nip": d.recipient_nip,
        "agency_code": d.agency_code,
        "channel": d.channel,
        "target": target,
        "status": d.status,
        "attempts": d.attempts,
        "next_attempt_at": utc(d.next_attempt_at),
        "first_attempt_at": utc(d.first_attempt_at),
        "last_attempt_at": utc(d.last_attempt_at),
        "sent_at": utc(d.sent_at),
        "error": error,
        "digest": d.digest,
        "bundled_into": d.bundled_into,
        "created_at": utc(d.created_at),
    }


# ------------------------------------------------------------------ digest


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
    built = 0
    for key, group in by_key.items():
        first = group[0]
        rec = Recorder(s, _event_id("digest", key, first.id), DIGEST_EVENT, first.agency_code, at)
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
        name = (
            person.name
            if person
            else (notes[first.notification_id].recipient_name if first.notification_id in notes else key)
        )
        lang = (notes[first.notification_id].language if first.notification_id in notes else None) or "id"
        target = Target(key, first.recipient_nip, name, first.target, None, lang, "digest")
        rec.record(target, "digest", {"count": len(items)}, {"items": items})
        rec.flush()
        digest = s.scalar(select(Delivery).where(Delivery.event_id == rec.event_id, Delivery.channel == "email"))
        if digest is None:  # pragma: no cover - record() always logs the e-mail channel
            continue
        for d in group:
            d.bundled_into, d.next_attempt_at, d.updated_at = digest.id, None, at
        if digest.status in ("queued", "deferred"):
            digest.status, digest.next_attempt_at, digest.digest = "queued", at, False
        else:  # switched off meanwhile, or the digest could not be rendered
            s.flush()
            _settle_bundle(s, digest, digest.status, at)
        built += 1
    s.flush()
    return built


# ------------------------------------------------------------------ dispatch (sending)


def dispatch_due(
    s: Session,
    at: datetime | None = None,
    *,
    limit: int | None = None,
    channels_: tuple[str, ...] = ("email", "apprise", "webhook"),
) -> dict[str, int]:
    """Send what is due, in batches of ``limit``: build the due digests, claim due deliveries
    (a lease, committed), send them outside any transaction, record the outcomes (committed).
    Returns counts per outcome. Safe to run from several workers (PostgreSQL: SKIP LOCKED)."""
    at = at or now()
    cfg = settings()
    limit = limit or int(cfg.dispatch_batch or 200)
    if "email" in channels_:
        build_digests(s, at)
        s.commit()
    claimed = _claim(s, at, limit, channels_)
    if not claimed:
        s.commit()
        return {}
    outgoing, deferred = _prepare(s, claimed, at)
    s.commit()  # the lease is taken: nothing of ours stays locked while we talk to servers
    results = _send(outgoing, at, cfg)
    totals = _record_outcomes(s, claimed, results, at)
    for _ in deferred:
        totals["deferred"] += 1
    s.commit()
    return dict(totals)


def deliver_due(s: Session, at: datetime | None = None, *, limit: int | None = None) -> dict[str, int]:
    """Webhooks only (what a flow or the worker calls to drive agency deliveries)."""
    return dispatch_due(s, at, limit=limit, channels_=("webhook",))


def _claim(s: Session, at: datetime, limit: int, channels_: tuple[str, ...]) -> list[Delivery]:
    stmt = (
        select(Delivery)
        .where(
            Delivery.status.in_(("queued", "deferred")),
            Delivery.channel.in_(channels_),
            Delivery.next_attempt_at.is_not(None),
            Delivery.next_attempt_at <= at,
            Delivery.digest.is_(False),
            Delivery.bundled_into.is_(None),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if s.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(s.scalars(stmt))
    for d in rows:
        d.next_attempt_at = at + LEASE
    return rows


def _prepare(s: Session, rows: list[Delivery], at: datetime) -> tuple[list[channels.Outgoing], list[Delivery]]:
    notes = {
        n.id: n
        for n in s.scalars(
            select(Notification).where(Notification.id.in_([d.notification_id for d in rows if d.notification_id]))
        )
    }
    subs = {
        sub.id: sub
        for sub in s.scalars(
            select(WebhookSubscription).where(
                WebhookSubscription.id.in_([d.subscription_id for d in rows if d.subscription_id])
            )
        )
    }
    prefs = {
        p.nip: p
        for p in s.scalars(
            select(Preference).where(
                Preference.nip.in_([d.recipient_nip for d in rows if d.recipient_nip and d.channel != "webhook"])
            )
        )
    }
    out, deferred = [], []
    for d in rows:
        if d.channel == "webhook":
            sub = subs.get(d.subscription_id)
            if sub is None or not sub.active or sub.deleted_at is not None:
                d.status, d.next_attempt_at, d.last_error, d.updated_at = (
                    "skipped",
                    None,
                    "delivery.subscription_disabled",
                    at,
                )
                count("webhook", "skipped")
                continue
            out.append(
                channels.Outgoing(
                    d.id,
                    "webhook",
                    d.event_id,
                    target=sub.url,
                    body=d.body,
                    secret=sub.secret,
                    group=f"webhook:{sub.id}",
                )
            )
            continue
        n = notes.get(d.notification_id)
        if n is None:
            d.status, d.next_attempt_at, d.last_error, d.updated_at = "failed", None, "notification missing", at
            count(d.channel, "failed")
            continue
        pref = prefs.get(d.recipient_nip or "")
        if pref is not None and d.template != "digest":
            until = domain.quiet_until(at, zone(pref.timezone), _hhmm(pref.quiet_start), _hhmm(pref.quiet_end))
            if until is not None:  # a retry that fell into the quiet hours waits for their end
                d.status, d.next_attempt_at, d.updated_at = "deferred", until, at
                count(d.channel, "deferred")
                deferred.append(d)
                continue
        out.append(
            channels.Outgoing(
                d.id,
                d.channel,
                d.event_id,
                target=d.target,
                recipient_name=n.recipient_name,
                subject=n.title,
                text=n.body_text,
                html=n.body_html,
                language=n.language,
                group="smtp" if d.channel == "email" else (d.target or ""),
            )
        )
    return out, deferred


def _hhmm(value):
    try:
        return domain.parse_hhmm(value) if value else None
    except domain.DomainError:
        return None


def _send(outgoing: list[channels.Outgoing], at: datetime, cfg) -> list[tuple[channels.Outgoing, channels.Outcome]]:
    results = []
    by_channel: dict[str, list[channels.Outgoing]] = defaultdict(list)
    for item in outgoing:
        by_channel[item.channel].append(item)
    allow_private = allow_private_targets()
    for channel, items in by_channel.items():
        sender = make_sender(channel, cfg, at, allow_private)
        try:
            with sender:
                for item in items:
                    try:
                        outcome = sender.send(item)
                    except Exception as exc:  # noqa: BLE001 - a sender bug must not lose the batch
                        log.exception("sender %s crashed on delivery %s", channel, item.delivery_id)
                        outcome = channels.Outcome(False, f"{type(exc).__name__}: {exc}"[:1000])
                    results.append((item, outcome))
        finally:
            if channel == "email":
                m = _metrics()
                if m is not None:
                    m["smtp_connections"].inc(getattr(sender, "connections", 0))
    return results


def make_sender(channel: str, cfg, at: datetime, allow_private: bool):
    if channel == "email":
        url = cfg.smtp_url
        if not url:
            return channels.LogOnlyEmailSender()
        return channels.EmailSender(
            channels.SmtpSettings.from_url(url, float(cfg.smtp_timeout or 10)),
            cfg.mail_from or "Kinerja <no-reply@kinerja.local>",
            at,
        )
    if channel == "apprise":
        return channels.AppriseSender(timeout=float(cfg.apprise_timeout or 10), allow_private=allow_private)
    if channel == "webhook":
        return channels.WebhookSender(timeout=float(cfg.webhook_timeout or 10), allow_private=allow_private, now=at)
    raise ValueError(channel)


def _record_outcomes(s: Session, rows: list[Delivery], results, at: datetime) -> Counter:
    by_id = {d.id: d for d in rows}
    totals: Counter = Counter()
    attempts = []
    touched_subs: dict[int, WebhookSubscription] = {}
    cfg = settings()
    delays = tuple(int(x) for x in cfg.email_retry_delays or domain.EMAIL_RETRY_DELAYS)
    window = timedelta(hours=float(cfg.webhook_retry_hours or 24))
    for item, outcome in results:
        d = by_id[item.delivery_id]
        d.updated_at = at
        if outcome.postponed:
            d.next_attempt_at, d.last_error = at + POSTPONE, outcome.error
            totals["postponed"] += 1
            continue
        d.attempts += 1
        d.first_attempt_at = d.first_attempt_at or at
        d.last_attempt_at = at
        sub = None
        if d.channel == "webhook":
            sub = touched_subs.get(d.subscription_id) or s.get(WebhookSubscription, d.subscription_id)
            touched_subs[sub.id] = sub
        if outcome.ok:
            d.status, d.sent_at, d.next_attempt_at, d.last_error = "sent", at, None, None
            attempts.append(_attempt(d, at, "sent", outcome))
            count(d.channel, "sent")
            count_attempt(d.channel, "sent")
            totals["sent"] += 1
            if sub is not None:
                sub.consecutive_failures, sub.failing_since = 0, None
            else:
                emit(s, "notifications.notification.sent", d.id, {**_delivery_ref(d), "sent_at": at})
            if d.template == "digest":
                _settle_bundle(s, d, "sent", at)
            continue
        d.last_error = outcome.error
        if outcome.error == "delivery.smtp_not_configured":
            d.status, d.next_attempt_at = "skipped", None
            attempts.append(_attempt(d, at, "skipped", outcome))
            count(d.channel, "skipped")
            totals["skipped"] += 1
            if d.template == "digest":
                _settle_bundle(s, d, "skipped", at)
            continue
        if outcome.permanent:
            nxt = None
        elif d.channel == "webhook":
            nxt = domain.next_webhook_attempt(utc(d.first_attempt_at), d.attempts, at, window)
        else:
            nxt = domain.next_email_attempt(d.attempts, at, delays)
        if sub is not None:
            sub.failing_since = sub.failing_since or at
        if nxt is not None:
            d.status, d.next_attempt_at = "queued", nxt
            attempts.append(_attempt(d, at, "retry", outcome))
            count_attempt(d.channel, "retry")
            totals["retry"] += 1
            continue
        d.status, d.next_attempt_at = "failed", None
        attempts.append(_attempt(d, at, "failed", outcome))
        count(d.channel, "failed")
        count_attempt(d.channel, "failed")
        totals["failed"] += 1
        s.flush()
        emit_failed(s, d, at)
        if d.template == "digest":
            _settle_bundle(s, d, "failed", at)
        if sub is not None:
            sub.consecutive_failures += 1
            if outcome.gone and sub.active:
                disable_subscription(s, sub, "gone", at)
    if attempts:
        s.add_all(attempts)
    after = int(cfg.webhook_disable_after or 5)
    for sub in touched_subs.values():
        if not sub.active:
            continue
        reason = domain.should_disable(
            sub.consecutive_failures, utc(sub.failing_since), at, after_deliveries=after, window=window
        )
        if reason:
            disable_subscription(s, sub, reason, at)
            totals["disabled"] += 1
    s.flush()
    return totals


def _attempt(d: Delivery, at: datetime, outcome: str, o: channels.Outcome) -> DeliveryAttempt:
    return DeliveryAttempt(
        delivery_id=d.id, at=at, outcome=outcome, http_status=o.http_status, error=o.error, duration_ms=o.duration_ms
    )


def _settle_bundle(s: Session, digest: Delivery, status: str, at: datetime) -> None:
    values = {"status": status, "updated_at": at, "last_error": digest.last_error if status != "sent" else None}
    if status == "sent":
        values["sent_at"] = at
    result = s.execute(
        update(Delivery).where(Delivery.bundled_into == digest.id).values(**values),
        execution_options={"synchronize_session": False},
    )
    count("email", status, result.rowcount or 0)
