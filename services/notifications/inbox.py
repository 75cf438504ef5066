"""The in-app inbox: a person's own notifications (another person's are 404), unread count, marking
read. Its rows are written by ``recording`` in the consumer's transaction.

HR officers sign in without a NIP, and the ``hr`` audience reaches the agency's HR contacts: a
contact that is a person of the directory reads those messages in their own inbox, a contact that
is only an address (``hr:<id>``) had them nowhere but in e-mail. A caller with the ``hr`` role and
no NIP therefore reads the agency's HR inbox: the messages of its address-only HR contacts, one per
event and template (two such contacts got the same message twice), read and marked read together."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate
from services.common.usecase import not_found, now

from .models import Notification
from .recorder import DIGEST_EVENT
from .shared import PREFIX, require_person, uow

blp = Blueprint("inbox", __name__, url_prefix=PREFIX, description="My notifications (in-app inbox)")


# ------------------------------------------------------------------ schemas


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


# ------------------------------------------------------------------ use cases


def hr_agency(p: Principal) -> str | None:
    """The agency whose HR inbox the caller reads: HR without a NIP (None: the caller's own inbox)."""
    if p.nip or p.is_admin or not p.has("hr") or not p.agency:
        return None
    return p.agency


def _mine(p: Principal) -> list:
    """The conditions of the caller's messages: a person's own, or (HR without a NIP) the agency's
    address-only HR contacts' (digests excluded: their items are in the inbox already)."""
    agency = hr_agency(p)
    if agency is None:
        return [Notification.recipient_nip == require_person(p), Notification.in_inbox.is_(True)]
    return [
        Notification.agency_code == agency,
        Notification.recipient_nip.is_(None),
        Notification.recipient_key.like("hr:%"),
        Notification.event_type != DIGEST_EVENT,
    ]


def inbox_query(p: Principal, unread: bool | None = None):
    mine = _mine(p)
    stmt = select(Notification).where(*mine)
    if hr_agency(p) is not None:  # one row per event and template, however many address-only contacts
        first = select(func.min(Notification.id)).where(*mine).group_by(Notification.event_id, Notification.template)
        stmt = stmt.where(Notification.id.in_(first))
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return stmt


def get_notification(s: Session, p: Principal, notification_id: int) -> Notification:
    n = s.scalar(inbox_query(p).where(Notification.id == notification_id))
    if n is None:
        raise not_found("notification", notification_id)
    return n


def unread_count(s: Session, p: Principal) -> int:
    return s.scalar(select(func.count()).select_from(inbox_query(p, unread=True).subquery()))


def mark_read(s: Session, p: Principal, notification_id: int) -> Notification:
    n = get_notification(s, p, notification_id)
    if n.read_at is None:
        at = now()
        if hr_agency(p) is not None:  # the same message to the agency's other address-only contacts too
            s.execute(
                update(Notification)
                .where(*_mine(p), Notification.event_id == n.event_id, Notification.template == n.template)
                .where(Notification.read_at.is_(None))
                .values(read_at=at),
                execution_options={"synchronize_session": False},
            )
        n.read_at = at
    return n


def mark_all_read(s: Session, p: Principal) -> int:
    shown = unread_count(s, p) if hr_agency(p) is not None else None  # HR: the messages as its inbox shows them
    result = s.execute(
        update(Notification).where(*_mine(p), Notification.read_at.is_(None)).values(read_at=now()),
        execution_options={"synchronize_session": False},
    )
    return shown if shown is not None else (result.rowcount or 0)


# ------------------------------------------------------------------ views


@blp.route("/inbox")
class Inbox(MethodView):
    @blp.arguments(InboxQuery, location="query")
    @blp.response(200, page_schema(NotificationOut))
    def get(self, args):
        """My notifications, oldest first (cursor pagination); ``unread=true`` for the unread ones.
        HR without a NIP: the agency's HR inbox (the messages of its HR contacts that are only an address)."""
        p = current_principal()
        with uow() as s:
            return paginate(s, inbox_query(p, args.get("unread")), Notification.id, args.get("cursor"), args["limit"])


@blp.route("/inbox/unread-count")
class UnreadCount(MethodView):
    @blp.response(200, UnreadOut)
    def get(self):
        with uow() as s:
            return {"unread": unread_count(s, current_principal())}


@blp.route("/inbox/read-all")
class ReadAll(MethodView):
    @blp.response(200, MarkedOut)
    def post(self):
        """Mark all my notifications read."""
        with uow() as s:
            return {"marked": mark_all_read(s, current_principal())}


@blp.route("/inbox/<int:notification_id>")
class InboxItem(MethodView):
    @blp.response(200, NotificationDetail)
    def get(self, notification_id):
        """One of my notifications (another person's is 404)."""
        with uow() as s:
            return get_notification(s, current_principal(), notification_id)


@blp.route("/inbox/<int:notification_id>/read")
class InboxRead(MethodView):
    @blp.response(200, NotificationOut)
    def post(self, notification_id):
        """Mark one of my notifications read (repeatable)."""
        with uow() as s:
            return mark_read(s, current_principal(), notification_id)
