"""What the notifications service publishes (payload schemas, for the catalogue) and the events
it consumes: the plans directory (people, units, acting officials) for its read model of
recipients, every plans, reviews and surveys event a person should hear about (the rules decide
who), reminder requests, and — through the wildcard bindings — whatever an agency's webhook
subscription asks for.

Each family of events has its handler, referenced beside its routing key: the directory's
(``readmodel``), reminder and escalation requests (``reminders``), and every other event
(:func:`services.notifications.recording.handle_event`). They record notifications and deliveries
(queued) in the consumer's transaction; nothing is sent from here (the dispatcher sends, outside
any consumer transaction)."""

from __future__ import annotations

from marshmallow import Schema, fields

from services.common.catalogue import EventSpec
from services.common.consumers import on

from . import readmodel, recording, reminders


class DeliveryRef(Schema):
    delivery_id = fields.Integer(required=True)
    notification_id = fields.Integer(allow_none=True)
    event_id = fields.String(required=True, metadata={"description": "the event that caused the message"})
    event_type = fields.String(required=True)
    template = fields.String(allow_none=True)
    channel = fields.String(required=True, metadata={"description": "inapp | email | apprise | webhook"})
    agency_code = fields.String(allow_none=True)
    recipient_nip = fields.String(allow_none=True, metadata={"description": "null for HR contacts without a NIP"})
    subscription_id = fields.Integer(allow_none=True)
    attempts = fields.Integer(required=True)


class NotificationSent(DeliveryRef):
    sent_at = fields.DateTime(required=True)


class NotificationFailed(DeliveryRef):
    error = fields.String(required=True)
    failed_at = fields.DateTime(required=True)


class WebhookDisabled(Schema):
    subscription_id = fields.Integer(required=True)
    agency_code = fields.String(required=True)
    url = fields.String(required=True)
    owner = fields.String(required=True, metadata={"description": "the token subject that created it"})
    reason = fields.String(required=True, metadata={"description": "failed_deliveries | failing_24h | gone"})
    consecutive_failures = fields.Integer(required=True)
    failing_since = fields.DateTime(allow_none=True)
    disabled_at = fields.DateTime(required=True)


PUBLISHES = [
    EventSpec(
        "notifications.notification.sent",
        NotificationSent,
        "A message left on a channel (e-mail, Apprise or a webhook) and was accepted by the receiver.",
    ),
    EventSpec(
        "notifications.notification.failed",
        NotificationFailed,
        "A message could not be delivered and will not be retried (permanent refusal, retries used up, "
        "an invalid address or a template that could not be rendered).",
    ),
    EventSpec(
        "notifications.webhook.disabled",
        WebhookDisabled,
        "An agency's webhook subscription was disabled after repeated failures; its owner and the "
        "agency's HR contacts were told.",
    ),
]
TYPES = {spec.type: spec for spec in PUBLISHES}


#: Types the rules know about (documented here for the catalogue's "consumers" column) …
RULE_TYPES = (
    "plans.unit.upserted",
    "plans.employee.upserted",
    "plans.acting.upserted",
    "plans.plan.submitted",
    "plans.plan.returned",
    "plans.plan.approved",
    "plans.plan.revised",
    "plans.feedback.given",
    "plans.feedback.replied",
    "plans.cycle.stage_changed",
    "reviews.evaluation.opened",
    "reviews.self_assessment.submitted",
    "reviews.evaluation.rated",
    "reviews.evaluation.signed",
    "reviews.evaluation.acknowledged",
    "reviews.evaluation.countersigned",
    "reviews.objection.filed",
    "reviews.objection.decided",
    "reviews.calibration.violation_found",
    "reviews.followup.planned",
    "reviews.followup.updated",
    "reviews.peers.proposed",
    "reviews.peer.requested",
    "surveys.ikm.computed",
)
#: … and the wildcards that bring every other plans/reviews/surveys event for agency webhooks.
WILDCARDS = ("plans.#", "reviews.#", "surveys.#")

# The first key that matches a type picks its handler: the directory and the reminder requests any
# service may publish come before the wildcards.
CONSUMES = {
    "plans.unit.upserted": on(readmodel.unit_upserted, envelope=True, timed=True),
    "plans.employee.upserted": on(readmodel.employee_upserted, envelope=True, timed=True),
    "plans.acting.upserted": on(readmodel.acting_upserted, envelope=True, timed=True),
    "*.reminder.requested": on(reminders.reminder_requested, envelope=True),
    "*.reminder.escalation_requested": on(reminders.escalation_requested, envelope=True),
}
CONSUMES.update(
    {key: on(recording.handle_event, envelope=True) for key in (*RULE_TYPES, *WILDCARDS) if key not in CONSUMES}
)
