"""flask-smorest blueprints of the notifications service: thin views calling ``service`` functions."""

from __future__ import annotations

from flask import current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint

from services.common.auth import current_principal, require_roles
from services.common.http import page_schema, paginate, remote_fetcher

from . import domain
from . import schemas as sc
from . import service as svc
from .models import Delivery, Notification, WebhookSubscription

PREFIX = "/notifications/api/v1"
inbox = Blueprint("inbox", __name__, url_prefix=PREFIX, description="My notifications (in-app inbox) and preferences")
admin = Blueprint(
    "notifications_admin",
    __name__,
    url_prefix=PREFIX,
    description="HR: contacts, rules, agency channels, reminders, delivery log, read model",
)
webhooks = Blueprint(
    "webhooks",
    __name__,
    url_prefix=f"{PREFIX}/webhooks",
    description="Webhook subscriptions of agencies (Standard Webhooks signatures)",
)


DeliveryPage = page_schema(sc.DeliveryOut)


def uow():
    return current_app.extensions["kinerja"].uow()


def lang() -> str:
    return g.get("lang", "id")


# ------------------------------------------------------------------ inbox


@inbox.route("/inbox")
class Inbox(MethodView):
    @inbox.arguments(sc.InboxQuery, location="query")
    @inbox.response(200, page_schema(sc.NotificationOut))
    def get(self, args):
        """My notifications, oldest first (cursor pagination); ``unread=true`` for the unread ones."""
        p = current_principal()
        with uow() as s:
            return paginate(
                s, svc.inbox_query(p, args.get("unread")), Notification.id, args.get("cursor"), args["limit"]
            )


@inbox.route("/inbox/unread-count")
class UnreadCount(MethodView):
    @inbox.response(200, sc.UnreadOut)
    def get(self):
        with uow() as s:
            return {"unread": svc.unread_count(s, current_principal())}


@inbox.route("/inbox/read-all")
class ReadAll(MethodView):
    @inbox.response(200, sc.MarkedOut)
    def post(self):
        """Mark all my notifications read."""
        with uow() as s:
            return {"marked": svc.mark_all_read(s, current_principal())}


@inbox.route("/inbox/<int:notification_id>")
class InboxItem(MethodView):
    @inbox.response(200, sc.NotificationDetail)
    def get(self, notification_id):
        """One of my notifications (another person's is 404)."""
        with uow() as s:
            return svc.get_notification(s, current_principal(), notification_id)


@inbox.route("/inbox/<int:notification_id>/read")
class InboxRead(MethodView):
    @inbox.response(200, sc.NotificationOut)
    def post(self, notification_id):
        """Mark one of my notifications read (repeatable)."""
        with uow() as s:
            return svc.mark_read(s, current_principal(), notification_id)


@inbox.route("/preferences")
class Preferences(MethodView):
    @inbox.response(200, sc.PreferencesOut)
    def get(self):
        """My language, channels, quiet hours, digest and Apprise targets (defaults until I change them)."""
        p = current_principal()
        with uow() as s:
            return svc.preferences_of(s, svc.require_person(p))

    @inbox.arguments(sc.PreferencesIn)
    @inbox.response(200, sc.PreferencesOut)
    def patch(self, data):
        """Change some of my preferences; the fields not sent keep their value."""
        with uow() as s:
            return svc.update_preferences(s, current_principal(), data)


# ------------------------------------------------------------------ HR: contacts, rules, agency channels


@admin.route("/hr-contacts")
class HrContacts(MethodView):
    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.response(200, sc.HrContactsOut)
    def get(self, args):
        """Who hears about the agency's HR matters (objections, calibration, IKM, escalations)."""
        p = current_principal()
        agency = svc.agency_of(p, args.get("agency_code"))
        with uow() as s:
            return {"agency_code": agency, "contacts": svc.hr_contacts(s, agency)}

    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.arguments(sc.HrContactsIn)
    @admin.response(200, sc.HrContactsOut)
    def put(self, args, data):
        """Replace the agency's HR contacts (HR)."""
        p = current_principal()
        agency = svc.agency_of(p, args.get("agency_code"))
        with uow() as s:
            return {"agency_code": agency, "contacts": svc.replace_hr_contacts(s, p, agency, data["contacts"])}


def _rules_out(s, agency):
    return {
        "agency_code": agency,
        "default": svc.rules_are_default(s, agency),
        "rules": [domain.rule_to_dict(r) for r in svc.rules_for(s, agency)],
        "templates": list(domain.TEMPLATES),
        "audiences": list(domain.AUDIENCES),
    }


@admin.route("/rules")
class Rules(MethodView):
    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.response(200, sc.RulesOut)
    def get(self, args):
        """Which events notify whom with which template (the defaults until HR edits them)."""
        p = current_principal()
        agency = svc.agency_of(p, args.get("agency_code"))
        with uow() as s:
            return _rules_out(s, agency)

    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.arguments(sc.RulesIn)
    @admin.response(200, sc.RulesOut)
    def put(self, args, data):
        """Replace the agency's rules (HR)."""
        p = current_principal()
        agency = svc.agency_of(p, args.get("agency_code"))
        with uow() as s:
            svc.replace_rules(s, p, agency, data["rules"])
            return _rules_out(s, agency)

    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.response(200, sc.RulesOut)
    def delete(self, args):
        """Back to the default rules (HR)."""
        p = current_principal()
        agency = svc.agency_of(p, args.get("agency_code"))
        with uow() as s:
            svc.reset_rules(s, p, agency)
            return _rules_out(s, agency)


@admin.route("/agency-settings")
class AgencySettingsView(MethodView):
    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.response(200, sc.AgencySettingsOut)
    def get(self, args):
        """The agency's Apprise URLs (Telegram, a WhatsApp gateway, chat tools) used for people who set
        none of their own; ``{nip}``, ``{phone}``, ``{email}`` are filled per recipient."""
        p = current_principal()
        agency = svc.agency_of(p, args.get("agency_code"))
        with uow() as s:
            return svc.agency_settings(s, agency)

    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.arguments(sc.AgencySettingsIn)
    @admin.response(200, sc.AgencySettingsOut)
    def put(self, args, data):
        p = current_principal()
        agency = svc.agency_of(p, args.get("agency_code"))
        with uow() as s:
            return svc.update_agency_settings(s, p, agency, data)


# ------------------------------------------------------------------ reminders


@admin.route("/reminders")
class Reminders(MethodView):
    @admin.arguments(sc.ReminderIn)
    @admin.response(200, sc.ReminderBatchOut)
    def post(self, data):
        """Send a batch of reminders (HR, or a flow with an HR token). Idempotent per (batch key,
        recipient): a repeated or extended request reminds only those not reminded yet."""
        with uow() as s:
            return svc.request_reminders(s, current_principal(), data)


@admin.route("/reminders/<batch_key>/escalate")
class Escalate(MethodView):
    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.arguments(sc.EscalateIn)
    @admin.response(200, sc.ReminderBatchOut)
    def post(self, args, data, batch_key):
        """Escalate who is still overdue: the superior from the deadline, HR ``hr_after_hours`` later
        (or now up to ``to``); each level once per person."""
        p = current_principal()
        with uow() as s:
            return svc.escalate(s, p, svc.get_batch(s, p, batch_key, args.get("agency_code")), data)


@admin.route("/reminders/<batch_key>")
class ReminderBatchView(MethodView):
    @admin.arguments(sc.AgencyQuery, location="query")
    @admin.response(200, sc.ReminderBatchOut)
    def get(self, args, batch_key):
        p = current_principal()
        with uow() as s:
            return svc.batch_summary(s, svc.get_batch(s, p, batch_key, args.get("agency_code")))


# ------------------------------------------------------------------ delivery log, metrics, read model


@admin.route("/deliveries")
class Deliveries(MethodView):
    @admin.arguments(sc.DeliveryQuery, location="query")
    @admin.response(200, DeliveryPage)
    def get(self, args):
        """The delivery log of the agency (HR): every channel with status and attempts; ``status=failed``
        lists the permanent failures. An agency client sees its own webhooks' deliveries."""
        p = current_principal()
        with uow() as s:
            page = paginate(s, svc.deliveries_query(p, args), Delivery.id, args.get("cursor"), args["limit"])
            page["items"] = [svc.delivery_out(d, lang()) for d in page["items"]]
            return page


@admin.route("/deliveries/<int:delivery_id>")
class DeliveryItem(MethodView):
    @admin.response(200, sc.DeliveryDetailOut)
    def get(self, delivery_id):
        """One delivery with its attempts."""
        p = current_principal()
        with uow() as s:
            d = svc.get_delivery(s, p, delivery_id)
            return {**svc.delivery_out(d, lang()), "attempt_log": svc.attempts_of(s, d.id)}


@admin.route("/dispatch")
class Dispatch(MethodView):
    @admin.response(200, sc.DispatchOut)
    def post(self):
        """Send what is due now (admin; the worker does this on its own every few seconds)."""
        require_roles("admin")
        platform = current_app.extensions["kinerja"]
        with platform.session_factory() as s:
            return {"counts": svc.dispatch_due(s, platform.clock())}


@admin.route("/read-model/rebuild")
class Rebuild(MethodView):
    @admin.response(200, sc.RebuildOut)
    def post(self):
        """Rebuild the recipients (people, units) from the plans API with the caller's token (HR)."""
        require_roles("hr")
        base = current_app.extensions["kinerja"].settings.plans_url
        fetch = remote_fetcher(base, request.headers.get("Authorization", ""), "readmodel.plans_unreachable")

        with uow() as s:
            return {"counts": svc.rebuild_read_model(s, fetch)}


# ------------------------------------------------------------------ webhooks


@webhooks.route("")
class Webhooks(MethodView):
    @webhooks.arguments(sc.PageArgs, location="query")
    @webhooks.response(200, page_schema(sc.WebhookOut))
    def get(self, args):
        """The agency's subscriptions (HR: all of them; an agency client: its own)."""
        p = current_principal()
        with uow() as s:
            return paginate(s, svc.subscriptions_query(p), WebhookSubscription.id, args.get("cursor"), args["limit"])

    @webhooks.arguments(sc.WebhookIn)
    @webhooks.response(201, sc.WebhookCreated)
    def post(self, data):
        """Subscribe a URL to event types (role agency or HR). The secret (``whsec_…``) is shown only
        in this response. In production, URLs resolving to loopback, private or link-local
        addresses are refused unless WEBHOOK_ALLOW_PRIVATE=1."""
        with uow() as s:
            sub, _secret = svc.create_subscription(s, current_principal(), data)
            return sub  # WebhookCreated shows ``secret`` this once; WebhookOut never does


@webhooks.route("/<int:subscription_id>")
class WebhookItem(MethodView):
    @webhooks.response(200, sc.WebhookOut)
    def get(self, subscription_id):
        with uow() as s:
            return svc.get_subscription(s, current_principal(), subscription_id)

    @webhooks.arguments(sc.WebhookUpdate)
    @webhooks.response(200, sc.WebhookOut)
    def patch(self, data, subscription_id):
        """Change the URL, event types or description; ``active: true`` re-enables a disabled one."""
        p = current_principal()
        with uow() as s:
            return svc.update_subscription(s, p, svc.get_subscription(s, p, subscription_id), data)

    @webhooks.response(204)
    def delete(self, subscription_id):
        p = current_principal()
        with uow() as s:
            svc.delete_subscription(s, p, svc.get_subscription(s, p, subscription_id))


@webhooks.route("/<int:subscription_id>/rotate-secret")
class WebhookSecret(MethodView):
    @webhooks.response(200, sc.SecretOut)
    def post(self, subscription_id):
        """A new signing secret (shown once); the old one stops working at once."""
        p = current_principal()
        with uow() as s:
            sub = svc.get_subscription(s, p, subscription_id)
            return {"id": sub.id, "secret": svc.rotate_secret(s, p, sub)}


@webhooks.route("/<int:subscription_id>/deliveries")
class WebhookDeliveries(MethodView):
    @webhooks.arguments(sc.DeliveryQuery, location="query")
    @webhooks.response(200, DeliveryPage)
    def get(self, args, subscription_id):
        """The subscription's delivery log."""
        p = current_principal()
        with uow() as s:
            sub = svc.get_subscription(s, p, subscription_id)
            args = {**args, "subscription_id": sub.id}
            page = paginate(s, svc.deliveries_query(p, args), Delivery.id, args.get("cursor"), args["limit"])
            page["items"] = [svc.delivery_out(d, lang()) for d in page["items"]]
            return page


@webhooks.route("/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
class WebhookRedeliver(MethodView):
    @webhooks.response(200, sc.DeliveryOut)
    def post(self, subscription_id, delivery_id):
        """Queue a delivery again (same ``webhook-id``: receivers deduplicate on it)."""
        p = current_principal()
        with uow() as s:
            d = svc.redeliver(s, p, svc.get_subscription(s, p, subscription_id), delivery_id)
            return svc.delivery_out(d, lang())


BLUEPRINTS = [inbox, admin, webhooks]
