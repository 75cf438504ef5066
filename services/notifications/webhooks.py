"""Webhook subscriptions of other agencies: a URL and routing-key patterns, a signing secret shown
once (Standard Webhooks), their delivery log and manual redelivery, and disabling one after repeated
failures (its owner and the agency's HR are told, ``notifications.webhook.disabled`` is published).
The deliveries themselves are queued by ``recording`` and sent by ``dispatch``."""

from __future__ import annotations

import os
from datetime import datetime
from urllib.parse import urlsplit

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import FieldError, Problem
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate
from services.common.scopes import accepts
from services.common.usecase import changing, not_found, now, record, validation

from . import channels, domain
from .deliveries import DeliveryOut, DeliveryPage, DeliveryQuery, deliveries_page, delivery_out
from .models import Delivery, WebhookSubscription
from .recorder import Recorder
from .recording import SUBSCRIPTIONS_MEMO
from .shared import PREFIX, agency_of, allow_private_targets, count, lang, uow, utc

blp = Blueprint(
    "webhooks",
    __name__,
    url_prefix=f"{PREFIX}/webhooks",
    description="Webhook subscriptions of agencies (Standard Webhooks signatures)",
)


# ------------------------------------------------------------------ schemas


class WebhookIn(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    event_types = fields.List(
        fields.String(validate=validate.Length(min=1, max=120)),
        required=True,
        validate=validate.Length(min=1, max=50),
        metadata={"description": "routing-key patterns, e.g. reviews.evaluation.* or plans.#"},
    )
    description = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))
    agency_code = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "admin only"})


class WebhookUpdate(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    event_types = fields.List(
        fields.String(validate=validate.Length(min=1, max=120)), validate=validate.Length(min=1, max=50)
    )
    description = fields.String(allow_none=True, validate=validate.Length(max=500))
    active = fields.Boolean()


class WebhookOut(Schema):
    id = fields.Integer()
    agency_code = fields.String()
    owner = fields.String(attribute="owner_sub")
    url = fields.String()
    event_types = fields.List(fields.String())
    description = fields.String(allow_none=True)
    active = fields.Boolean()
    disabled_at = UtcDateTime(allow_none=True)
    disabled_reason = fields.String(allow_none=True)
    consecutive_failures = fields.Integer()
    failing_since = UtcDateTime(allow_none=True)
    created_at = UtcDateTime()


class WebhookCreated(WebhookOut):
    secret = fields.String(metadata={"description": "whsec_<base64>: shown once, keep it to verify signatures"})


class SecretOut(Schema):
    id = fields.Integer()
    secret = fields.String()


# ------------------------------------------------------------------ checks and access


def check_webhook_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise validation([("url", "webhook.url_scheme")]) from None
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        raise validation([("url", "webhook.url_scheme")])
    if allow_private_targets():
        return
    try:
        address = channels.private_address(host, parts.port)
    except (OSError, UnicodeError) as exc:
        raise validation([("url", "webhook.url_unresolvable", {"reason": str(exc)[:200]})]) from None
    if address is not None:
        raise validation([("url", "webhook.url_private", {"address": address})])


def _check_patterns(p: Principal, patterns: list[str]) -> None:
    """Valid patterns; for a machine client (not HR, not an admin) only the event families that name
    no person (``domain.MACHINE_EVENT_FAMILIES``) and those its scopes read elsewhere
    (``reviews.result.*`` with ``results:read``), field by field."""
    machine = not (p.is_admin or p.has("hr"))
    scopes = getattr(p, "scopes", frozenset())
    families = ", ".join(f"{f}.*" for f in domain.machine_families(scopes))
    errors = []
    for i, pat in enumerate(patterns):
        if not domain.valid_pattern(pat):
            errors.append(FieldError(f"event_types[{i}]", "webhook.pattern"))
        elif machine and not domain.machine_pattern(pat, scopes):
            errors.append(FieldError(f"event_types[{i}]", "webhook.person_data", {"allowed": families}))
    if errors:
        raise validation(errors)


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


# ------------------------------------------------------------------ use cases


def _state(sub: WebhookSubscription) -> dict:
    """What a subscriber can change (the audit row's before and after)."""
    return {"url": sub.url, "event_types": sub.event_types, "active": sub.active, "description": sub.description}


def create_subscription(s: Session, p: Principal, data: dict) -> tuple[WebhookSubscription, str]:
    s.info.pop(SUBSCRIPTIONS_MEMO, None)  # the consumer's memo of the agency's subscriptions
    agency = agency_of(p, data.get("agency_code"), roles=("hr", "agency"))
    check_webhook_url(data["url"])
    _check_patterns(p, data["event_types"])
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
    after = {"url": sub.url, "event_types": sub.event_types}
    record(s, p, "webhook.created", "webhook_subscription", sub.id, agency=agency, after=after)
    return sub, secret


def update_subscription(s: Session, p: Principal, sub: WebhookSubscription, data: dict) -> WebhookSubscription:
    s.info.pop(SUBSCRIPTIONS_MEMO, None)  # the consumer's memo of the agency's subscriptions
    with changing(s, p, "webhook.updated", "webhook_subscription", sub.id, lambda: _state(sub), agency=sub.agency_code):
        if "url" in data:
            check_webhook_url(data["url"])
            sub.url = data["url"]
        if "event_types" in data:
            _check_patterns(p, data["event_types"])
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
    return sub


def rotate_secret(s: Session, p: Principal, sub: WebhookSubscription) -> str:
    sub.secret = domain.new_webhook_secret(os.urandom(32))
    sub.updated_at = now()
    record(s, p, "webhook.secret_rotated", "webhook_subscription", sub.id, agency=sub.agency_code)
    return sub.secret


def delete_subscription(s: Session, p: Principal, sub: WebhookSubscription) -> None:
    s.info.pop(SUBSCRIPTIONS_MEMO, None)  # the consumer's memo of the agency's subscriptions
    at = now()
    before = {"url": sub.url, "event_types": sub.event_types}
    sub.active, sub.deleted_at, sub.updated_at = False, at, at
    _skip_pending(s, sub, at, "delivery.subscription_disabled")
    record(s, p, "webhook.deleted", "webhook_subscription", sub.id, agency=sub.agency_code, before=before)


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
    after = {"status": "queued"}
    record(s, p, "webhook.redelivery", "delivery", d.id, agency=sub.agency_code, before=before, after=after)
    return d


def disable_subscription(s: Session, sub: WebhookSubscription, reason: str, at: datetime) -> None:
    """Disable after repeated failures; tell the owner (inbox) and the agency's HR contacts (e-mail),
    and publish ``notifications.webhook.disabled``."""
    s.info.pop(SUBSCRIPTIONS_MEMO, None)  # the consumer's memo of the agency's subscriptions
    sub.active, sub.disabled_at, sub.disabled_reason, sub.updated_at = False, at, reason, at
    _skip_pending(s, sub, at, "delivery.subscription_disabled")
    envelope = record(
        s,
        None,
        "webhook.disabled",
        "webhook_subscription",
        sub.id,
        agency=sub.agency_code,
        after={"reason": reason, "consecutive_failures": sub.consecutive_failures},
        event="notifications.webhook.disabled",
        data={
            "subscription_id": sub.id,
            "agency_code": sub.agency_code,
            "url": sub.url,
            "owner": sub.owner_sub,
            "reason": reason,
            "consecutive_failures": sub.consecutive_failures,
            "failing_since": utc(sub.failing_since),
            "disabled_at": at,
        },
    )
    rec = Recorder(s, envelope["id"], "notifications.webhook.disabled", sub.agency_code, at)
    owner = rec.person_target(sub.owner_nip, "owner") if sub.owner_nip else None
    notice = {**envelope["data"]}
    for target in ([owner] if owner else []) + rec.hr_targets():
        rec.record(target, "webhook.disabled", notice)
    rec.flush()


# ------------------------------------------------------------------ views


@blp.route("")
class Webhooks(MethodView):
    @accepts("webhooks:manage")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(WebhookOut))
    def get(self, args):
        """The agency's subscriptions (HR: all of them; an agency client: its own)."""
        p = current_principal()
        with uow() as s:
            return paginate(s, subscriptions_query(p), WebhookSubscription.id, args.get("cursor"), args["limit"])

    @accepts("webhooks:manage")
    @blp.arguments(WebhookIn)
    @blp.response(201, WebhookCreated)
    def post(self, data):
        """Subscribe a URL to event types (role agency or HR). A machine client (role agency) may name
        only events about no one person: ``plans.unit``, ``plans.employee``, ``plans.cycle``,
        ``reviews.calibration``, ``surveys.campaign``, ``surveys.response``, ``surveys.ikm`` (422
        ``webhook.person_data`` otherwise). The secret (``whsec_…``) is shown only
        in this response. In production, URLs resolving to loopback, private or link-local
        addresses are refused unless WEBHOOK_ALLOW_PRIVATE=1."""
        with uow() as s:
            sub, _secret = create_subscription(s, current_principal(), data)
            return sub  # WebhookCreated shows ``secret`` this once; WebhookOut never does


@blp.route("/<int:subscription_id>")
class WebhookItem(MethodView):
    @accepts("webhooks:manage")
    @blp.response(200, WebhookOut)
    def get(self, subscription_id):
        with uow() as s:
            return get_subscription(s, current_principal(), subscription_id)

    @accepts("webhooks:manage")
    @blp.arguments(WebhookUpdate)
    @blp.response(200, WebhookOut)
    def patch(self, data, subscription_id):
        """Change the URL, event types or description; ``active: true`` re-enables a disabled one."""
        p = current_principal()
        with uow() as s:
            return update_subscription(s, p, get_subscription(s, p, subscription_id), data)

    @accepts("webhooks:manage")
    @blp.response(204)
    def delete(self, subscription_id):
        p = current_principal()
        with uow() as s:
            delete_subscription(s, p, get_subscription(s, p, subscription_id))


@blp.route("/<int:subscription_id>/rotate-secret")
class WebhookSecret(MethodView):
    @accepts("webhooks:manage")
    @blp.response(200, SecretOut)
    def post(self, subscription_id):
        """A new signing secret (shown once); the old one stops working at once."""
        p = current_principal()
        with uow() as s:
            sub = get_subscription(s, p, subscription_id)
            return {"id": sub.id, "secret": rotate_secret(s, p, sub)}


@blp.route("/<int:subscription_id>/deliveries")
class WebhookDeliveries(MethodView):
    @accepts("webhooks:manage")
    @blp.arguments(DeliveryQuery, location="query")
    @blp.response(200, DeliveryPage)
    def get(self, args, subscription_id):
        """The subscription's delivery log."""
        p = current_principal()
        with uow() as s:
            sub = get_subscription(s, p, subscription_id)
            return deliveries_page(s, p, {**args, "subscription_id": sub.id})


@blp.route("/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
class WebhookRedeliver(MethodView):
    @accepts("webhooks:manage")
    @blp.response(200, DeliveryOut)
    def post(self, subscription_id, delivery_id):
        """Queue a delivery again (same ``webhook-id``: receivers deduplicate on it)."""
        p = current_principal()
        with uow() as s:
            d = redeliver(s, p, get_subscription(s, p, subscription_id), delivery_id)
            return delivery_out(d, lang())
