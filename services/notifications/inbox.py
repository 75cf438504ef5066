"""The in-app inbox: a person's own notifications (another person's are 404), unread count, marking
read. Its rows are written by ``recording`` in the consumer's transaction."""

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


# ------------------------------------------------------------------ views


@blp.route("/inbox")
class Inbox(MethodView):
    @blp.arguments(InboxQuery, location="query")
    @blp.response(200, page_schema(NotificationOut))
    def get(self, args):
        """My notifications, oldest first (cursor pagination); ``unread=true`` for the unread ones."""
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
