"""Sending: :func:`dispatch_due` builds the due digests, claims due deliveries in a short
transaction (a lease), sends them in batches outside any transaction — one SMTP connection per
batch, one HTTP connection per webhook host, timeouts everywhere — and records the outcomes (sent,
retry with backoff, failed; a webhook subscription disabled after repeated failures) in another
short transaction."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime, timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import require_roles
from services.common.usecase import now, platform, settings

from . import channels, domain
from .deliveries import emit_failed, emit_sent
from .digests import build_digests, settle_bundle
from .models import Delivery, DeliveryAttempt, Notification, Preference, WebhookSubscription
from .shared import PREFIX, allow_private_targets, count, count_attempt, log, metrics, utc, zone
from .webhook_channel import WebhookSender
from .webhooks import disable_subscription

LEASE = timedelta(minutes=5)  # a claimed delivery is due again after this if its sender died
POSTPONE = timedelta(seconds=60)  # a delivery not attempted because its server failed in the batch

blp = Blueprint("dispatch", __name__, url_prefix=PREFIX, description="Admin: send what is due now")


class DispatchOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


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
    if deferred:
        totals["deferred"] += len(deferred)
    s.commit()
    return dict(totals)


def deliver_due(s: Session, at: datetime | None = None, *, limit: int | None = None) -> dict[str, int]:
    """Webhooks only (what a flow or the worker calls to drive agency deliveries)."""
    return dispatch_due(s, at, limit=limit, channels_=("webhook",))


# ------------------------------------------------------------------ claim and prepare


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


def _by_id(s: Session, model, ids) -> dict:
    return {row.id: row for row in s.scalars(select(model).where(model.id.in_([i for i in ids if i])))}


def _prepare(s: Session, rows: list[Delivery], at: datetime) -> tuple[list[channels.Outgoing], list[Delivery]]:
    """What to send of the claimed rows; the rest settled here (a disabled subscription: skipped; a
    retry that fell into quiet hours: deferred to their end)."""
    notes = _by_id(s, Notification, [d.notification_id for d in rows])
    subs = _by_id(s, WebhookSubscription, [d.subscription_id for d in rows])
    people = [d.recipient_nip for d in rows if d.recipient_nip and d.channel != "webhook"]
    prefs = {p.nip: p for p in s.scalars(select(Preference).where(Preference.nip.in_(people)))}
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
        until = _quiet_until(prefs.get(d.recipient_nip or ""), at) if d.template != "digest" else None
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


def _quiet_until(pref: Preference | None, at: datetime) -> datetime | None:
    if pref is None:
        return None
    return domain.quiet_until(at, zone(pref.timezone), _hhmm(pref.quiet_start), _hhmm(pref.quiet_end))


def _hhmm(value):
    try:
        return domain.parse_hhmm(value) if value else None
    except domain.DomainError:
        return None


# ------------------------------------------------------------------ send


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
                m = metrics()
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
        return WebhookSender(timeout=float(cfg.webhook_timeout or 10), allow_private=allow_private, now=at)
    raise ValueError(channel)


# ------------------------------------------------------------------ outcomes


class _Outcomes:
    """Records the outcomes of one batch: the delivery rows, their attempts, the counters, the
    subscriptions touched (disabled after repeated failures)."""

    def __init__(self, s: Session, at: datetime):
        cfg = settings()
        self.s, self.at = s, at
        self.totals: Counter = Counter()
        self.attempts: list[DeliveryAttempt] = []
        self.subs: dict[int, WebhookSubscription] = {}
        self.delays = tuple(int(x) for x in cfg.email_retry_delays or domain.EMAIL_RETRY_DELAYS)
        self.window = timedelta(hours=float(cfg.webhook_retry_hours or 24))
        self.disable_after = int(cfg.webhook_disable_after or 5)

    def attempt(self, d: Delivery, outcome: str, o: channels.Outcome) -> None:
        self.attempts.append(
            DeliveryAttempt(
                delivery_id=d.id,
                at=self.at,
                outcome=outcome,
                http_status=o.http_status,
                error=o.error,
                duration_ms=o.duration_ms,
            )
        )

    def one(self, d: Delivery, outcome: channels.Outcome) -> None:
        s, at = self.s, self.at
        d.updated_at = at
        if outcome.postponed:
            d.next_attempt_at, d.last_error = at + POSTPONE, outcome.error
            self.totals["postponed"] += 1
            return
        d.attempts += 1
        d.first_attempt_at = d.first_attempt_at or at
        d.last_attempt_at = at
        sub = None
        if d.channel == "webhook":
            sub = self.subs.get(d.subscription_id) or s.get(WebhookSubscription, d.subscription_id)
            self.subs[sub.id] = sub
        if outcome.ok:
            self.sent(d, sub, outcome)
            return
        d.last_error = outcome.error
        if outcome.error == "delivery.smtp_not_configured":
            d.status, d.next_attempt_at = "skipped", None
            self.attempt(d, "skipped", outcome)
            count(d.channel, "skipped")
            self.totals["skipped"] += 1
            if d.template == "digest":
                settle_bundle(s, d, "skipped", at)
            return
        if outcome.permanent:
            nxt = None
        elif d.channel == "webhook":
            nxt = domain.next_webhook_attempt(utc(d.first_attempt_at), d.attempts, at, self.window)
        else:
            nxt = domain.next_email_attempt(d.attempts, at, self.delays)
        if sub is not None:
            sub.failing_since = sub.failing_since or at
        if nxt is not None:
            d.status, d.next_attempt_at = "queued", nxt
            self.attempt(d, "retry", outcome)
            count_attempt(d.channel, "retry")
            self.totals["retry"] += 1
            return
        self.failed(d, sub, outcome)

    def sent(self, d: Delivery, sub: WebhookSubscription | None, outcome: channels.Outcome) -> None:
        d.status, d.sent_at, d.next_attempt_at, d.last_error = "sent", self.at, None, None
        self.attempt(d, "sent", outcome)
        count(d.channel, "sent")
        count_attempt(d.channel, "sent")
        self.totals["sent"] += 1
        if sub is not None:
            sub.consecutive_failures, sub.failing_since = 0, None
        else:
            emit_sent(self.s, d, self.at)
        if d.template == "digest":
            settle_bundle(self.s, d, "sent", self.at)

    def failed(self, d: Delivery, sub: WebhookSubscription | None, outcome: channels.Outcome) -> None:
        d.status, d.next_attempt_at = "failed", None
        self.attempt(d, "failed", outcome)
        count(d.channel, "failed")
        count_attempt(d.channel, "failed")
        self.totals["failed"] += 1
        self.s.flush()
        emit_failed(self.s, d, self.at)
        if d.template == "digest":
            settle_bundle(self.s, d, "failed", self.at)
        if sub is not None:
            sub.consecutive_failures += 1
            if outcome.gone and sub.active:
                disable_subscription(self.s, sub, "gone", self.at)

    def disable_failing(self) -> None:
        for sub in self.subs.values():
            if not sub.active:
                continue
            reason = domain.should_disable(
                sub.consecutive_failures,
                utc(sub.failing_since),
                self.at,
                after_deliveries=self.disable_after,
                window=self.window,
            )
            if reason:
                disable_subscription(self.s, sub, reason, self.at)
                self.totals["disabled"] += 1


def _record_outcomes(s: Session, rows: list[Delivery], results, at: datetime) -> Counter:
    by_id = {d.id: d for d in rows}
    outcomes = _Outcomes(s, at)
    for item, outcome in results:
        outcomes.one(by_id[item.delivery_id], outcome)
    if outcomes.attempts:
        s.add_all(outcomes.attempts)
    outcomes.disable_failing()
    s.flush()
    return outcomes.totals


# ------------------------------------------------------------------ views


@blp.route("/dispatch")
class Dispatch(MethodView):
    @blp.response(200, DispatchOut)
    def post(self):
        """Send what is due now (admin; the worker does this on its own every few seconds)."""
        require_roles("admin")
        with platform().session_factory() as s:
            return {"counts": dispatch_due(s, platform().clock())}
