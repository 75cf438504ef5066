"""marshmallow schemas of the notifications API (unknown fields are refused: marshmallow's default)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from services.common.http import PageArgs, UtcDateTime

from . import domain

LANG = validate.OneOf(("id", "en"))
STATUS = validate.OneOf(domain.DELIVERY_STATUSES)
CHANNEL = validate.OneOf(domain.CHANNELS)
NIP = validate.Length(min=1, max=18)
URLS = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), validate=validate.Length(max=20))


# ------------------------------------------------------------------ inbox


class InboxQuery(PageArgs):
    unread = fields.Boolean()


class NotificationOut(Schema):
    id = fields.Integer()
    event_id = fields.String()
    event_type = fields.String()
    template = fields.String()
    audience = fields.String()
    language = fields.String()
    title = fields.String()
    body = fields.String(attribute="body_text")
    link = fields.String(allow_none=True)
    created_at = UtcDateTime()
    read_at = UtcDateTime(allow_none=True)
    read = fields.Function(lambda n: n.read_at is not None)


class NotificationDetail(NotificationOut):
    body_html = fields.String()


class UnreadOut(Schema):
    unread = fields.Integer()


class MarkedOut(Schema):
    marked = fields.Integer()


# ------------------------------------------------------------------ preferences


class PreferencesIn(Schema):
    """Every field optional: what is sent replaces the stored value, the rest stays."""

    language = fields.String(allow_none=True, validate=LANG)
    email = fields.Boolean()
    apprise = fields.Boolean()
    overrides = fields.Dict(
        keys=fields.String(validate=validate.Length(max=120)),
        values=fields.List(fields.String(validate=validate.Length(max=12))),
        validate=validate.Length(max=50),
        metadata={"description": "event type pattern → channels (inapp, email, apprise)"},
    )
    quiet_start = fields.String(allow_none=True, metadata={"description": "HH:MM local time"})
    quiet_end = fields.String(allow_none=True, metadata={"description": "HH:MM local time"})
    timezone = fields.String(validate=validate.Length(min=1, max=64))
    digest = fields.Boolean(metadata={"description": "bundle e-mails into one daily digest"})
    digest_hour = fields.Integer(validate=validate.Range(min=0, max=23))
    apprise_urls = URLS


class PreferencesOut(Schema):
    nip = fields.String()
    language = fields.String(allow_none=True)
    effective_language = fields.String()
    email = fields.Boolean()
    apprise = fields.Boolean()
    overrides = fields.Dict()
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    timezone = fields.String()
    digest = fields.Boolean()
    digest_hour = fields.Integer()
    apprise_urls = fields.List(fields.String())
    email_address = fields.String(allow_none=True)


# ------------------------------------------------------------------ HR: contacts, rules, agency settings


class AgencyQuery(Schema):
    agency_code = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "admin only"})


class HrContactIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=320))
    nip = fields.String(allow_none=True, load_default=None, validate=NIP)
    language = fields.String(load_default="id", validate=LANG)


class HrContactOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    nip = fields.String(allow_none=True)
    language = fields.String()


class HrContactsIn(Schema):
    contacts = fields.List(fields.Nested(HrContactIn), required=True, validate=validate.Length(max=50))


class HrContactsOut(Schema):
    agency_code = fields.String()
    contacts = fields.List(fields.Nested(HrContactOut))


class RuleIn(Schema):
    event_type = fields.String(required=True, validate=validate.Length(min=1, max=120))
    audience = fields.String(required=True, validate=validate.Length(min=1, max=20))
    template = fields.String(required=True, validate=validate.Length(min=1, max=80))
    enabled = fields.Boolean(load_default=True)
    when = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), allow_none=True, load_default=None)


class RuleOut(Schema):
    event_type = fields.String()
    audience = fields.String()
    template = fields.String()
    enabled = fields.Boolean()
    when = fields.Dict(allow_none=True)


class RulesIn(Schema):
    rules = fields.List(fields.Nested(RuleIn), required=True, validate=validate.Length(max=200))


class RulesOut(Schema):
    agency_code = fields.String()
    default = fields.Boolean(metadata={"description": "true while the agency uses the default rules"})
    rules = fields.List(fields.Nested(RuleOut))
    templates = fields.List(fields.String())
    audiences = fields.List(fields.String())


class AgencySettingsIn(Schema):
    apprise_urls = URLS


class AgencySettingsOut(Schema):
    agency_code = fields.String()
    apprise_urls = fields.List(fields.String())


# ------------------------------------------------------------------ reminders


class ReminderRecipientIn(Schema):
    nip = fields.String(required=True, validate=NIP)
    params = fields.Dict(keys=fields.String(), load_default=dict)


class ReminderIn(Schema):
    batch_key = fields.String(required=True, validate=validate.Length(min=1, max=200))
    template = fields.String(required=True, validate=validate.OneOf(domain.REMINDER_TEMPLATES))
    recipients = fields.List(
        fields.Nested(ReminderRecipientIn), required=True, validate=validate.Length(min=1, max=5000)
    )
    deadline = fields.AwareDateTime(allow_none=True, load_default=None, default_timezone=None)
    params = fields.Dict(keys=fields.String(), load_default=dict)
    escalate_to = fields.String(
        load_default="hr",
        validate=validate.OneOf(domain.ESCALATION_TARGETS),
        metadata={"description": "none | superior | hr (superior first, then HR)"},
    )
    hr_after_hours = fields.Integer(load_default=48, validate=validate.Range(min=0, max=24 * 60))
    agency_code = fields.String(validate=validate.Length(min=1, max=40), metadata={"description": "admin only"})


class EscalateIn(Schema):
    recipients = fields.List(
        fields.String(validate=NIP),
        validate=validate.Length(max=5000),
        metadata={"description": "who is still overdue; the others are marked done"},
    )
    to = fields.String(
        validate=validate.OneOf(domain.ESCALATION_TARGETS),
        metadata={"description": "escalate at least this far now (else by the deadline)"},
    )


class ReminderItemOut(Schema):
    recipient_nip = fields.String()
    escalation_level = fields.Integer()
    escalations = fields.List(fields.Dict())
    done_at = UtcDateTime(allow_none=True)


class ReminderBatchOut(Schema):
    batch_key = fields.String()
    agency_code = fields.String()
    template = fields.String()
    deadline = UtcDateTime(allow_none=True)
    escalate_to = fields.String()
    hr_after_hours = fields.Integer()
    items = fields.List(fields.Nested(ReminderItemOut))
    created = fields.List(fields.String())
    already = fields.List(fields.String())
    unknown = fields.List(fields.String())
    escalated = fields.Integer()


# ------------------------------------------------------------------ webhooks


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


# ------------------------------------------------------------------ delivery log


class DeliveryQuery(PageArgs):
    status = fields.String(validate=STATUS)
    channel = fields.String(validate=CHANNEL)
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


class RebuildOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())


class DispatchOut(Schema):
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
