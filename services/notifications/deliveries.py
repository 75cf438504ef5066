"""The delivery log: every channel's delivery with its status and attempts, as HR sees it for the
agency (an agency client: its own webhooks' deliveries), and the outcome events it publishes
(``notifications.notification.sent`` / ``.failed``)."""

from __future__ import annotations

import json
from datetime import datetime

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate
from services.common.scopes import accepts
from services.common.usecase import emit, not_found, platform

from . import domain
from .models import Delivery, DeliveryAttempt, WebhookSubscription
from .schemas import NIP
from .shared import PREFIX, lang, mask_url, t, uow, utc

blp = Blueprint(
    "deliveries", __name__, url_prefix=PREFIX, description="HR: the delivery log of every channel, with attempts"
)


# ------------------------------------------------------------------ schemas


class DeliveryQuery(PageArgs):
    status = fields.String(validate=validate.OneOf(domain.DELIVERY_STATUSES))
    channel = fields.String(validate=validate.OneOf(domain.CHANNELS))
    event_type = fields.String(validate=validate.Length(max=120))
    event_id = fields.String(validate=validate.Length(max=36))
    recipient_nip = fields.String(validate=NIP)
    subscription_id = fields.Integer()


class AttemptOut(Schema):
    at = UtcDateTime()
    outcome = fields.String()
    http_status = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()


class DeliveryOut(Schema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    template = fields.String(allow_none=True)
    notification_id = fields.Integer(allow_none=True)
    subscription_id = fields.Integer(allow_none=True)
    recipient_nip = fields.String(allow_none=True)
    agency_code = fields.String(allow_none=True)
    channel = fields.String()
    target = fields.String(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    next_attempt_at = UtcDateTime(allow_none=True)
    first_attempt_at = UtcDateTime(allow_none=True)
    last_attempt_at = UtcDateTime(allow_none=True)
    sent_at = UtcDateTime(allow_none=True)
    error = fields.String(allow_none=True)
    digest = fields.Boolean()
    bundled_into = fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class DeliveryDetailOut(DeliveryOut):
    attempt_log = fields.List(fields.Nested(AttemptOut))


DeliveryPage = page_schema(DeliveryOut)


# ------------------------------------------------------------------ use cases


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


def deliveries_page(s: Session, p: Principal, args: dict) -> dict:
    """A page of the log, as :func:`delivery_out` shows it."""
    page = paginate(s, deliveries_query(p, args), Delivery.id, args.get("cursor"), args["limit"])
    page["items"] = [delivery_out(d, lang()) for d in page["items"]]
    return page


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


# ------------------------------------------------------------------ outcome events


def emit_sent(s: Session, d: Delivery, at: datetime) -> None:
    emit(s, "notifications.notification.sent", d.id, {**_delivery_ref(d), "sent_at": at})


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


# ------------------------------------------------------------------ views


@blp.route("/deliveries")
class Deliveries(MethodView):
    @accepts("webhooks:manage")
    @blp.arguments(DeliveryQuery, location="query")
    @blp.response(200, DeliveryPage)
    def get(self, args):
        """The delivery log of the agency (HR): every channel with status and attempts; ``status=failed``
        lists the permanent failures. An agency client sees its own webhooks' deliveries."""
        with uow() as s:
            return deliveries_page(s, current_principal(), args)


@blp.route("/deliveries/<int:delivery_id>")
class DeliveryItem(MethodView):
    @accepts("webhooks:manage")
    @blp.response(200, DeliveryDetailOut)
    def get(self, delivery_id):
        """One delivery with its attempts."""
        with uow() as s:
            d = get_delivery(s, current_principal(), delivery_id)
            return {**delivery_out(d, lang()), "attempt_log": attempts_of(s, d.id)}
