"""Append-only audit log with a hash chain: each row carries the hash of the previous one."""

from __future__ import annotations

import functools
import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from .context import get_request_id
from .tables import PlatformTables

GENESIS = "0" * 64
_LOCK_KEY = 7_242_001  # pg_advisory_xact_lock key serialising writers of the chain


def _canonical(row: dict) -> str:
    return json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def row_hash(prev_hash: str, row: dict) -> str:
    return hashlib.sha256((prev_hash + _canonical(row)).encode()).hexdigest()


def record(
    session: Session,
    tables: PlatformTables,
    *,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    now: datetime,
    before: Any = None,
    after: Any = None,
    agency: str | None = None,
    subject: str | None = None,
) -> None:
    """Write one audit row in the caller's transaction."""
    t = tables.audit
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
    prev = session.execute(_last_hash(t)).scalar() or GENESIS
    now = _utc(now)  # hash the instant in UTC: the database may hand it back in another zone
    content = {
        "at": now.isoformat(),
        "actor": actor,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "agency": agency,
        "subject": subject,
        "before": before,
        "after": after,
        "request_id": get_request_id(),
    }
    # the values as parameters of one prepared statement (building .values() per row cost ~0.25 ms)
    session.execute(insert(t), content | {"at": now, "prev_hash": prev, "hash": row_hash(prev, content)})


@functools.lru_cache(maxsize=32)
def _last_hash(audit):
    return select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)


def _utc(at: datetime) -> datetime:
    """The instant in UTC (stored in UTC; SQLite returns it naive, PostgreSQL in the session's zone)."""
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def verify_chain(session: Session, tables: PlatformTables) -> tuple[bool, int | None]:
    """(True, None) when every row's hash matches its content and its predecessor."""
    t = tables.audit
    prev = GENESIS
    for row in session.execute(select(t).order_by(t.c.id)).mappings():
        at = row["at"]
        content = {
            "at": _utc(at).isoformat(),
            "actor": row["actor"],
            "action": row["action"],
            "entity_type": row["entity_type"],
            "entity_id": row["entity_id"],
            "agency": row["agency"],
            "subject": row["subject"],
            "before": row["before"],
            "after": row["after"],
            "request_id": row["request_id"],
        }
        if row["prev_hash"] != prev or row["hash"] != row_hash(prev, content):
            return False, row["id"]
        prev = row["hash"]
    return True, None


def make_blueprint(service: str):
    """``GET /<service>/api/v1/audit``: HR and admins read their agency's rows, anyone else the
    rows that concern them (``subject`` = their NIP)."""
    from flask import current_app
    from flask.views import MethodView
    from flask_smorest import Blueprint
    from marshmallow import Schema, fields
    from sqlalchemy import or_

    from .auth import current_principal
    from .errors import FieldError, Problem
    from .http import PageArgs, decode_cursor, encode_cursor, page_schema

    class AuditQuery(PageArgs):
        entity_type = fields.String()
        entity_id = fields.String()
        subject = fields.String()

    class AuditOut(Schema):
        id = fields.Integer()
        at = fields.Function(lambda row: _utc(row["at"]).isoformat())
        actor = fields.String()
        action = fields.String()
        entity_type = fields.String()
        entity_id = fields.String()
        subject = fields.String(allow_none=True)
        before = fields.Raw(allow_none=True)
        after = fields.Raw(allow_none=True)
        request_id = fields.String(allow_none=True)
        prev_hash = fields.String()
        hash = fields.String()

    blp = Blueprint(
        f"{service}_audit",
        __name__,
        url_prefix=f"/{service}/api/v1/audit",
        description="Append-only audit log (hash-chained)",
    )

    @blp.route("")
    class AuditList(MethodView):
        @blp.arguments(AuditQuery, location="query")
        @blp.response(200, page_schema(AuditOut))
        def get(self, args):
            principal = current_principal()
            platform = current_app.extensions["kinerja"]
            t = platform.tables.audit
            stmt = select(t)
            if principal.is_admin:
                pass
            elif principal.has("hr"):
                # without a NIP, ``subject == None`` would become ``subject IS NULL``: every agency's rows
                mine = [t.c.agency == (principal.agency or "\0")] + (
                    [t.c.subject == principal.nip] if principal.nip else []
                )
                stmt = stmt.where(or_(*mine))
            else:
                stmt = stmt.where(t.c.subject == (principal.nip or "\0"))
            for key in ("entity_type", "entity_id", "subject"):
                if key in args:
                    stmt = stmt.where(t.c[key] == args[key])
            if args.get("cursor"):
                after = decode_cursor(args["cursor"])
                if not isinstance(after, int) or isinstance(after, bool):
                    raise Problem(422, "validation", errors=[FieldError("cursor", "pagination.cursor")])
                stmt = stmt.where(t.c.id > after)
            limit = args["limit"]
            with platform.session_factory() as s:
                rows = s.execute(stmt.order_by(t.c.id).limit(limit + 1)).mappings().all()
            nxt = encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None
            return {"items": [dict(r) for r in rows[:limit]], "next_cursor": nxt}

    return blp
