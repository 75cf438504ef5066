"""The notifications service's rule book: who is told about which event (the default rules, as
data), the channels and delivery statuses, quiet hours and the daily digest, retry and
backoff schedules, the Standard Webhooks signature, which webhook targets are allowed, and
the escalation ladder of reminders.

Pure functions and small value classes only — no Flask, no SQLAlchemy, no I/O and no clock
calls: every instant is a parameter (tz-aware UTC), every random byte is handed in. Errors
carry message-catalogue keys, a field name and parameters, never user-facing prose.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone, tzinfo

from services.common.rules import DomainError  # noqa: F401 (the rule book's error, re-exported)
from services.common.rules import topic_matches as event_matches  # noqa: F401 (AMQP topic matching)

__all__ = [
    "ACTING_AUDIENCES",
    "ACTING_REMINDERS",
    "AUDIENCES",
    "CHANNELS",
    "DEFAULT_RULES",
    "DELIVERY_STATUSES",
    "DomainError",
    "ESCALATION_TARGETS",
    "EMAIL_RETRY_DELAYS",
    "PERSON_CHANNELS",
    "REMINDER_TEMPLATES",
    "Rule",
    "STAGE_OPENINGS",
    "TEMPLATES",
    "WEBHOOK_RETRY_WINDOW",
    "audiences_for",
    "digest_due_at",
    "escalation_level",
    "event_matches",
    "is_public_address",
    "link_path",
    "new_webhook_secret",
    "next_email_attempt",
    "next_webhook_attempt",
    "normalise_phone",
    "parse_hhmm",
    "quiet_until",
    "rule_from_dict",
    "rule_to_dict",
    "should_disable",
    "sign_webhook",
    "valid_email",
    "valid_pattern",
    "verify_webhook",
    "webhook_key",
]


# --------------------------------------------------------------------------- vocabularies

#: Where a notification goes. ``inapp`` (the inbox) is always on for a person in the directory.
CHANNELS = ("inapp", "email", "apprise", "webhook")
#: The channels a person may switch on or off (per person, and per event type).
PERSON_CHANNELS = ("email", "apprise")
#: queued → sent | failed (after retries); deferred (quiet hours / digest) → queued/sent; skipped (not sent on purpose)
DELIVERY_STATUSES = ("queued", "sent", "failed", "deferred", "skipped")
#: Who a rule addresses, relative to the event's payload. ``penilai`` and ``atasan`` include whoever
#: stands in for them (Plt/Plh) on the day; ``acting`` is the acting official an appointment names.
AUDIENCES = ("employee", "penilai", "atasan", "hr", "owner", "agency_all", "rater", "giver", "acting")
#: The audiences an acting official (Plt/Plh) hears in the place of the official they stand in for.
ACTING_AUDIENCES = ("penilai", "atasan")
#: Reminders of what a penilai or atasan does (rate, sign, countersign): a Plt/Plh is reminded too.
ACTING_REMINDERS = ("reminder.rating", "reminder.sign_off")
#: Reminder escalation ladder: the recipient's superior first, then the agency's HR contacts.
ESCALATION_TARGETS = ("none", "superior", "hr")

#: Every message template (one Jinja2 file per language under ``templates/<lang>/``).
TEMPLATES = (
    "plan.submitted",
    "plan.returned",
    "plan.approved",
    "plan.revised",
    "feedback.given",
    "feedback.replied",
    "evidence.reviewed",
    "cycle.stage_changed",
    "cycle.stage_opened",
    "acting.appointed",
    "evaluation.opened",
    "self_assessment.submitted",
    "evaluation.rated",
    "evaluation.signed",
    "evaluation.acknowledged.atasan",
    "evaluation.acknowledged.employee",
    "evaluation.countersigned",
    "objection.filed",
    "objection.decided",
    "calibration.violation_found",
    "followup.planned",
    "followup.updated",
    "peers.proposed",
    "peer.requested",
    "ikm.computed",
    "reminder.generic",
    "reminder.skp_submission",
    "reminder.self_assessment",
    "reminder.rating",
    "reminder.sign_off",
    "escalation.superior",
    "escalation.hr",
    "webhook.disabled",
    "digest",
)
REMINDER_TEMPLATES = tuple(t for t in TEMPLATES if t.startswith("reminder."))

#: Cycle states at which a new stage or period opens for everyone in the agency
#: (``state`` of ``plans.cycle.stage_changed``; ``*`` matches the period number).
STAGE_OPENINGS = ("planning", "monitoring:*:check_in", "monitoring:*:self_assessment", "annual_evaluation")


# --------------------------------------------------------------------------- rules (data)


@dataclass(frozen=True)
class Rule:
    """``event_type`` (exact type or topic pattern) notifies ``audience`` with ``template``;
    ``when`` restricts it to payloads whose fields match one of the listed glob patterns."""

    event_type: str
    audience: str
    template: str
    enabled: bool = True
    when: Mapping[str, tuple[str, ...]] | None = field(default=None, hash=False, compare=True)

    def applies(self, event_type: str, data: Mapping) -> bool:
        if not self.enabled or not event_matches(self.event_type, event_type):
            return False
        for key, patterns in (self.when or {}).items():
            value = data.get(key)
            if value is None or not any(fnmatch.fnmatchcase(str(value), p) for p in patterns):
                return False
        return True


def _r(event_type: str, audience: str, template: str, **when) -> Rule:
    return Rule(event_type, audience, template, True, {k: tuple(v) for k, v in when.items()} or None)


#: The defaults every agency starts with (HR may replace them through the API).
DEFAULT_RULES: tuple[Rule, ...] = (
    _r("plans.plan.submitted", "penilai", "plan.submitted"),
    _r("plans.plan.returned", "employee", "plan.returned"),
    _r("plans.plan.approved", "employee", "plan.approved"),
    _r("plans.plan.revised", "penilai", "plan.revised"),
    _r("plans.feedback.given", "employee", "feedback.given"),
    _r("plans.feedback.replied", "giver", "feedback.replied"),
    _r("plans.evidence.reviewed", "employee", "evidence.reviewed"),
    _r("plans.cycle.stage_changed", "hr", "cycle.stage_changed"),
    _r("plans.cycle.stage_changed", "agency_all", "cycle.stage_opened", state=STAGE_OPENINGS),
    # an appointment made (not one ended early): the acting official learns what they now do
    _r("plans.acting.upserted", "acting", "acting.appointed", ended_early=("False",)),
    _r("reviews.evaluation.opened", "employee", "evaluation.opened"),
    _r("reviews.self_assessment.submitted", "penilai", "self_assessment.submitted"),
    _r("reviews.evaluation.rated", "employee", "evaluation.rated"),
    _r("reviews.evaluation.signed", "employee", "evaluation.signed"),
    _r("reviews.evaluation.acknowledged", "atasan", "evaluation.acknowledged.atasan"),
    _r("reviews.evaluation.acknowledged", "employee", "evaluation.acknowledged.employee"),
    _r("reviews.evaluation.countersigned", "employee", "evaluation.countersigned"),
    _r("reviews.objection.filed", "atasan", "objection.filed"),
    _r("reviews.objection.filed", "penilai", "objection.filed"),
    _r("reviews.objection.filed", "hr", "objection.filed"),
    _r("reviews.objection.decided", "employee", "objection.decided"),
    _r("reviews.objection.decided", "penilai", "objection.decided"),
    _r("reviews.calibration.violation_found", "hr", "calibration.violation_found"),
    _r("reviews.followup.planned", "employee", "followup.planned"),
    _r("reviews.followup.planned", "owner", "followup.planned"),
    # the employee hears when their development plan or recognition is done, or dropped
    _r("reviews.followup.updated", "employee", "followup.updated", status=("completed", "cancelled")),
    _r("reviews.peers.proposed", "penilai", "peers.proposed"),
    _r("reviews.peer.requested", "rater", "peer.requested"),
    _r("surveys.ikm.computed", "hr", "ikm.computed"),
)

_PATTERN = re.compile(r"^(\*|#|[a-z0-9_-]+)(\.(\*|#|[a-z0-9_-]+))*$")


def valid_pattern(pattern: str) -> bool:
    """A routing-key pattern: dot-separated words, ``*`` one word, ``#`` any number."""
    return isinstance(pattern, str) and 0 < len(pattern) <= 120 and bool(_PATTERN.match(pattern))


#: What a machine client of an agency (role ``agency``) may receive by webhook: the directory, the
#: cycles, the calibration's verdict per unit, the surveys' campaigns, response counts and index —
#: nothing about one person's plan, progress, feedback, appraisal, objection or follow-up.
MACHINE_EVENT_FAMILIES = (
    "plans.unit",
    "plans.employee",
    "plans.cycle",
    "reviews.calibration",
    "surveys.campaign",
    "surveys.response",
    "surveys.ikm",
)


#: families that name people, open to a machine client holding the scope that reads them elsewhere
#: (the results feed's events for an allowance or career system with ``results:read``)
SCOPED_EVENT_FAMILIES = {"reviews.result": "results:read"}


def machine_families(scopes=()) -> tuple[str, ...]:
    """The event families a machine client holding ``scopes`` may subscribe to."""
    return MACHINE_EVENT_FAMILIES + tuple(f for f, scope in SCOPED_EVENT_FAMILIES.items() if scope in scopes)


def machine_pattern(pattern: str, scopes=()) -> bool:
    """A pattern a machine client may subscribe with: its first two words, without wildcards, name
    one of :func:`machine_families` (so it can match no other event type)."""
    return ".".join(pattern.split(".")[:2]) in machine_families(scopes)


def rule_from_dict(d: Mapping) -> Rule:
    """Validate one rule as HR sends it; raises :class:`DomainError` naming the field."""
    event_type = d.get("event_type")
    if not valid_pattern(event_type):
        raise DomainError("rule.event_type", "event_type")
    audience = d.get("audience")
    if audience not in AUDIENCES:
        raise DomainError("rule.audience", "audience", allowed=", ".join(AUDIENCES))
    template = d.get("template")
    if template not in TEMPLATES:
        raise DomainError("rule.template", "template", template=str(template))
    when = d.get("when")
    if when is not None:
        if not isinstance(when, Mapping) or not all(
            isinstance(k, str) and isinstance(v, (list, tuple)) and v and all(isinstance(p, str) for p in v)
            for k, v in when.items()
        ):
            raise DomainError("rule.when", "when")
        when = {k: tuple(v) for k, v in when.items()} or None
    return Rule(event_type, audience, template, bool(d.get("enabled", True)), when)


def rule_to_dict(rule: Rule) -> dict:
    return {
        "event_type": rule.event_type,
        "audience": rule.audience,
        "template": rule.template,
        "enabled": rule.enabled,
        "when": {k: list(v) for k, v in rule.when.items()} if rule.when else None,
    }


def audiences_for(rules: Iterable[Rule], event_type: str, data: Mapping) -> list[tuple[str, str]]:
    """``(audience, template)`` of the rules that apply, in rule order, each audience once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for rule in rules:
        if rule.audience not in seen and rule.applies(event_type, data):
            seen.add(rule.audience)
            out.append((rule.audience, rule.template))
    return out


#: Events whose message points elsewhere than the page their payload's ids name: a reply to feedback
#: takes the superior who wrote it to their team member's feedback page, not the employee's own SKP;
#: an acting appointment takes the Plt/Plh to the team page.
EVENT_LINKS = {
    "plans.feedback.replied": ("plan_id", "/tim/skp/{}/umpan-balik"),
    "plans.acting.upserted": ("id", "/tim"),  # an acting official: the team they now rate
}


def link_path(data: Mapping, event_type: str | None = None) -> str:
    """The portal page a notification points to (relative to the portal's base URL)."""
    special = EVENT_LINKS.get(event_type or "")
    for key, path in (
        *((special,) if special else ()),
        ("objection_id", "/keberatan/{}"),
        ("evaluation_id", "/evaluasi/{}"),
        ("plan_id", "/skp/{}"),
        ("followup_id", "/evaluasi"),
        ("campaign_id", "/hr/survei"),
        ("cycle_id", "/"),
    ):
        value = data.get(key)
        if isinstance(value, (int, str)) and str(value).isdigit():
            return path.format(value)
    return "/"


# --------------------------------------------------------------------------- addresses

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def valid_email(address) -> bool:
    """A deliverable-looking address (ASCII local part, dotted domain, no display name)."""
    if not isinstance(address, str) or len(address) > 254 or ".." in address:
        return False
    local = address.split("@", 1)[0]
    return (
        0 < len(local) <= 64 and not local.startswith(".") and not local.endswith(".") and bool(_EMAIL.match(address))
    )


def normalise_phone(phone) -> str | None:
    """An Indonesian number as international digits (``0812-3456`` → ``628123456``), for chat gateways."""
    if not isinstance(phone, str):
        return None
    digits = re.sub(r"[^0-9]", "", phone)
    if not digits:
        return None
    if phone.strip().startswith("+"):
        return digits
    if digits.startswith("0"):
        return "62" + digits[1:]
    return digits


def is_public_address(ip: str) -> bool:
    """True for a globally routable unicast address; loopback, private (RFC 1918, ULA), link-local,
    shared (CGNAT), reserved, multicast and unspecified addresses are not."""
    try:
        addr = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return not (
        addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
        or not addr.is_global
    )


# --------------------------------------------------------------------------- quiet hours and digest


def parse_hhmm(value) -> time:
    """``"21:30"`` → 21:30; raises :class:`DomainError` ``time.invalid``."""
    if isinstance(value, str) and re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", value):
        return time(int(value[:2]), int(value[3:]))
    raise DomainError("time.invalid", None, value=str(value))


def quiet_until(now: datetime, tz: tzinfo, start: time | None, end: time | None) -> datetime | None:
    """If ``now`` falls inside the daily quiet window [start, end) in the person's zone, the UTC
    instant the window ends; else None. A window may cross midnight (21:00–07:00); start == end
    means no quiet hours."""
    if start is None or end is None or start == end:
        return None
    local = now.astimezone(tz)
    t = local.time().replace(tzinfo=None)
    if start < end:
        inside = start <= t < end
        end_day = local.date()
    else:  # crosses midnight
        inside = t >= start or t < end
        end_day = local.date() + timedelta(days=1) if t >= start else local.date()
    if not inside:
        return None
    return datetime.combine(end_day, end, tzinfo=tz).astimezone(timezone.utc)


def digest_due_at(now: datetime, tz: tzinfo, hour: int) -> datetime:
    """The next digest run for a person: ``hour``:00 local time, today if still ahead, else tomorrow."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), time(hour), tzinfo=tz)
    if candidate <= local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour), tzinfo=tz)
    return candidate.astimezone(timezone.utc)


# --------------------------------------------------------------------------- retries

#: E-mail and Apprise: seconds before attempts 2, 3, 4, 5; failed after the last.
EMAIL_RETRY_DELAYS = (60, 300, 900, 3600)
#: Webhooks are retried with exponential backoff for this long after the first attempt.
WEBHOOK_RETRY_WINDOW = timedelta(hours=24)
WEBHOOK_FIRST_DELAY = 30  # seconds; doubled per attempt
WEBHOOK_MAX_DELAY = 4 * 3600


def next_email_attempt(attempts: int, now: datetime, delays: Sequence[int] = EMAIL_RETRY_DELAYS) -> datetime | None:
    """After ``attempts`` failed attempts, when to try again; None when they are used up."""
    if attempts < 1:
        raise ValueError("attempts counts the attempts made, at least 1")
    if attempts > len(delays):
        return None
    return now + timedelta(seconds=delays[attempts - 1])


def next_webhook_attempt(
    first_attempt_at: datetime, attempts: int, now: datetime, window: timedelta = WEBHOOK_RETRY_WINDOW
) -> datetime | None:
    """Exponential backoff (30 s, 1 min, 2 min, … capped at 4 h) inside ``window`` from the first
    attempt; the last retry lands at the end of the window; None once the window is used up."""
    if attempts < 1:
        raise ValueError("attempts counts the attempts made, at least 1")
    deadline = first_attempt_at + window
    if now >= deadline:
        return None
    delay = min(WEBHOOK_FIRST_DELAY * 2 ** min(attempts - 1, 30), WEBHOOK_MAX_DELAY)
    return min(now + timedelta(seconds=delay), deadline)


def should_disable(
    consecutive_failed: int,
    failing_since: datetime | None,
    now: datetime,
    *,
    after_deliveries: int,
    window: timedelta = WEBHOOK_RETRY_WINDOW,
) -> str | None:
    """Why a webhook subscription is to be disabled (``failed_deliveries`` when every attempt of
    ``after_deliveries`` consecutive deliveries failed, ``failing_24h`` when nothing succeeded for
    the whole window), or None."""
    if consecutive_failed >= after_deliveries:
        return "failed_deliveries"
    if failing_since is not None and now - failing_since >= window:
        return "failing_24h"
    return None


# --------------------------------------------------------------------------- Standard Webhooks signature

WEBHOOK_SECRET_PREFIX = "whsec_"


def new_webhook_secret(random_bytes: bytes) -> str:
    """``whsec_<base64>`` of 24+ random bytes (handed in by the caller)."""
    if len(random_bytes) < 24:
        raise ValueError("a webhook secret needs at least 24 random bytes")
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(random_bytes).decode()


def webhook_key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(WEBHOOK_SECRET_PREFIX))


def sign_webhook(secret: str, msg_id: str, timestamp: int, body: str | bytes) -> str:
    """``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`` (standardwebhooks.com)."""
    payload = body.encode() if isinstance(body, str) else bytes(body)
    message = f"{msg_id}.{int(timestamp)}.".encode() + payload
    digest = hmac.new(webhook_key(secret), message, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify_webhook(secret: str, msg_id: str, timestamp: int, body: str | bytes, header: str) -> bool:
    """True when one of the space-separated signatures of ``header`` matches."""
    expected = sign_webhook(secret, msg_id, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in header.split())


# --------------------------------------------------------------------------- reminders


def escalation_level(now: datetime, deadline: datetime | None, *, hr_after: timedelta, target: str = "hr") -> int:
    """How far an item still open at ``now`` should have been escalated: 0 before the deadline,
    1 (the superior) from the deadline, 2 (HR) from ``deadline + hr_after`` — capped by ``target``."""
    if target not in ESCALATION_TARGETS:
        raise ValueError(target)
    cap = ESCALATION_TARGETS.index(target)
    if deadline is None or now < deadline:
        return 0
    level = 2 if now >= deadline + hr_after else 1
    return min(level, cap)
