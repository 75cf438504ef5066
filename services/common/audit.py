"""Append-only audit log with a hash chain: each row carries the hash of the previous one.

The product checks the chain (:func:`check`): ``kinerja audit verify``, a periodic job of every
worker and the ``/audit`` API's ``chain``, against signed anchors of its head kept outside the
database (:mod:`services.common.audit_watch`). Triggers refuse UPDATE and DELETE on the table.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Text, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from .context import get_request_id
from .tables import PlatformTables

GENESIS = "0" * 64
_LOCK_KEY = 7_242_001  # pg_advisory_xact_lock key serialising writers of the chain

#: what each finding means, for people (the API's catalogue keys are ``audit.problem.<code>``)
PROBLEMS = {
    "hash_mismatch": "its content does not match its hash (the row was changed)",
    "broken_link": "it does not link to the row before it (rows before it were removed or changed)",
    "anchor_row_missing": "the anchored row is gone (rows were deleted from the end of the log)",
    "anchor_hash_changed": "its hash is not the anchored one (rows up to it were changed and the hashes recomputed)",
    "anchor_signature": "an anchor's signature is not valid (the anchor file was edited, or AUDIT_ANCHOR_KEY changed)",
    "tail_missing": "the last row verified before is gone or changed (rows were deleted from the end)",
}


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
    """Write one audit row in the caller's transaction (:func:`record_many` of one)."""
    entry = {"actor": actor, "action": action, "entity_type": entity_type, "entity_id": entity_id}
    entry |= {"before": before, "after": after, "agency": agency, "subject": subject}
    record_many(session, tables, [entry], now=now)


def record_many(session: Session, tables: PlatformTables, entries: list[dict], *, now: datetime) -> None:
    """Write several audit rows (each the keyword arguments of :func:`record` but ``now``) in the
    caller's transaction, chained in the given order: the rows' content made before the chain's lock
    is taken (the lock, held until commit, covers only reading the last hash and the insert), the
    last hash read once, the rows inserted in one statement (a directory import of thousands)."""
    if not entries:
        return
    t = tables.audit
    now = _utc(now)
    request_id = get_request_id()
    contents = [
        {
            "at": now.isoformat(),
            "actor": e["actor"],
            "action": e["action"],
            "entity_type": e["entity_type"],
            "entity_id": str(e["entity_id"]),
            "agency": e.get("agency"),
            "subject": e.get("subject"),
            "before": e.get("before"),
            "after": e.get("after"),
            "request_id": request_id,
        }
        for e in entries
    ]
    canonicals = [_canonical(c) for c in contents]
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        if len(contents) == 1:
            # one row (every request's write): the database reads the last hash and chains the row
            # in the insert itself — sha256 of the same UTF-8 text as row_hash — one round trip, not
            # two. The insert's snapshot is taken after the lock is held, so it sees the last row.
            session.execute(_chained_insert(t), contents[0] | {"at": now, "canonical": canonicals[0]})
            return
    prev = session.execute(_last_hash(t)).scalar() or GENESIS
    rows = []
    for content, canonical in zip(contents, canonicals):
        digest = hashlib.sha256((prev + canonical).encode()).hexdigest()
        rows.append(content | {"at": now, "prev_hash": prev, "hash": digest})
        prev = digest
    # one statement (parameters, not .values() built per row): the rows take their ids in this order,
    # the chain is verified by id; one row as a plain execute, not an executemany
    session.execute(insert(t), rows[0] if len(rows) == 1 else rows)


@functools.lru_cache(maxsize=32)
def _last_hash(audit):
    return select(audit.c.hash).order_by(audit.c.id.desc()).limit(1)


_CONTENT_COLUMNS = ("at", "actor", "action", "entity_type", "entity_id", "agency", "subject", "before", "after")


@functools.lru_cache(maxsize=32)
def _chained_insert(audit):
    """PostgreSQL: ``INSERT … SELECT`` of one row whose ``prev_hash`` is the last row's hash (or
    :data:`GENESIS`) and whose ``hash`` is ``sha256(prev_hash || :canonical)`` in hex — what
    :func:`row_hash` computes — made by the database in the same statement."""
    prev = func.coalesce(_last_hash(audit).scalar_subquery(), GENESIS).label("prev")
    head = select(prev).subquery("head")
    chained = func.encode(func.sha256(func.convert_to(head.c.prev + bindparam("canonical", type_=Text), "UTF8")), "hex")
    values = [bindparam(c, type_=audit.c[c].type) for c in (*_CONTENT_COLUMNS, "request_id")]
    return insert(audit).from_select(
        [*_CONTENT_COLUMNS, "request_id", "prev_hash", "hash"], select(*values, head.c.prev, chained)
    )


def _utc(at: datetime) -> datetime:
    """The instant in UTC (stored in UTC; SQLite returns it naive, PostgreSQL in the session's zone)."""
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


_FIELDS = ("actor", "action", "entity_type", "entity_id", "agency", "subject", "before", "after", "request_id")


def _content(row) -> dict:
    return {"at": _utc(row["at"]).isoformat()} | {key: row[key] for key in _FIELDS}


def intact(row) -> bool:
    """The row's hash matches its content and the ``prev_hash`` it names (the row alone)."""
    return row["hash"] == row_hash(row["prev_hash"], _content(row))


# ---------------------------------------------------------------------------- verification


@dataclass
class ChainReport:
    """The outcome of one verification: ``first_bad_id`` and ``problem`` (a key of
    :data:`PROBLEMS`) name the earliest finding; ``rows`` and ``head_*`` what was read."""

    ok: bool = True
    rows: int = 0
    head_id: int | None = None
    head_hash: str = GENESIS
    first_bad_id: int | None = None
    problem: str | None = None
    detail: str = ""
    anchors: int = 0

    def fail(self, row_id: int | None, problem: str, detail: str = "") -> None:
        """Keep the earliest finding (by row id; a chain finding before an anchor's at the same id)."""
        earlier = self.ok or (row_id is not None and (self.first_bad_id is None or row_id < self.first_bad_id))
        if earlier:
            self.ok, self.first_bad_id, self.problem, self.detail = False, row_id, problem, detail

    def describe(self) -> str:
        if self.ok:
            return f"ok, {self.rows} rows, {self.anchors} anchors"
        where = f"row {self.first_bad_id}" if self.first_bad_id is not None else "anchors"
        return f"BROKEN at {where}: {self.problem} — {PROBLEMS[self.problem]}" + (
            f" ({self.detail})" if self.detail else ""
        )


def check(
    session: Session,
    tables: PlatformTables,
    *,
    start: tuple[int, str] | None = None,
    anchors: list[dict] = (),
    expect: tuple[int, str] | None = None,
    window: int | None = None,
) -> ChainReport:
    """Verify the chain after ``start`` (a trusted (id, hash); the whole chain by default), that
    every anchor is validly signed and its row still holds the anchored hash, and that ``expect``
    (the head a previous verification saw) is still there. ``window``: only the last so many rows
    after ``start`` (a request's bound; the rows before are the full verification's)."""
    t = tables.audit
    after, prev = start or (0, GENESIS)
    if window is not None:
        last = select(t.c.id, t.c.hash).where(t.c.id > after).order_by(t.c.id.desc()).offset(window).limit(1)
        after, prev = session.execute(last).first() or (after, prev)
    report = ChainReport(head_id=after or None, head_hash=prev)
    stmt = select(t).where(t.c.id > after).order_by(t.c.id)
    for row in session.execute(stmt.execution_options(yield_per=2000) if not after else stmt).mappings():
        if row["prev_hash"] != prev:
            report.fail(row["id"], "broken_link")
            break
        if row["hash"] != row_hash(prev, _content(row)):
            report.fail(row["id"], "hash_mismatch")
            break
        prev = row["hash"]
        report.rows, report.head_id, report.head_hash = report.rows + 1, row["id"], prev
    points = []  # (row id, the hash it must hold, why)
    for a in anchors:
        row_id = a.get("id") if isinstance(a.get("id"), int) else None
        if not a["valid"]:
            report.fail(row_id, "anchor_signature", f"anchor line {a['line']}")
        elif row_id is not None:
            points.append((row_id, a.get("hash"), f"anchored {a.get('at')}"))
    if expect is not None and expect[0] is not None:
        points.append((expect[0], expect[1], "verified before"))
    wanted = sorted({p[0] for p in points})
    held = {}
    for i in range(0, len(wanted), 500):
        held.update(session.execute(select(t.c.id, t.c.hash).where(t.c.id.in_(wanted[i : i + 500]))).all())
    for row_id, hash_, note in sorted(points, key=lambda p: p[0]):
        problem = "tail_missing" if note == "verified before" else None
        if row_id not in held:
            report.fail(row_id, problem or "anchor_row_missing", note)
        elif held[row_id] != hash_:
            report.fail(row_id, problem or "anchor_hash_changed", note)
    report.anchors = sum(1 for a in anchors if a["valid"])
    return report


def verify_chain(session: Session, tables: PlatformTables) -> tuple[bool, int | None]:
    """(True, None) when every row's hash matches its content and its predecessor."""
    report = check(session, tables)
    return report.ok, report.first_bad_id


# ---------------------------------------------------------------------------- append-only triggers


def append_only_ddl(dialect: str, table: str = "audit_log") -> list[str]:
    """Triggers refusing UPDATE and DELETE (PostgreSQL: and TRUNCATE) on ``table`` (the audit log;
    reviews' signed evaluation documents): tampering needs deliberate DDL. Used by the services'
    migrations; change it only with a new migration."""
    if dialect == "postgresql":
        run = f"EXECUTE FUNCTION {table}_append_only()"
        return [
            f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"RAISE EXCEPTION '{table} is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege'; "
            "END $$",
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} FOR EACH ROW {run}",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} FOR EACH ROW {run}",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} FOR EACH STATEMENT {run}",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op} refused'); END"
        for op in ("UPDATE", "DELETE")
    ]


def drop_append_only_ddl(dialect: str, table: str = "audit_log") -> list[str]:
    names = [f"{table}_no_{op}" for op in ("update", "delete", "truncate")]
    if dialect == "postgresql":
        drops = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name in names]
        return drops + [f"DROP FUNCTION IF EXISTS {table}_append_only()"]
    return [f"DROP TRIGGER IF EXISTS {name}" for name in names[:2]]


# ---------------------------------------------------------------------------- the API


def make_blueprint(service: str):
    """``GET /<service>/api/v1/audit``: HR and admins read their agency's rows, anyone else the
    rows that concern them (``subject`` = their NIP); ``chain`` says whether the log verifies."""
    from flask import current_app, g
    from flask.views import MethodView
    from flask_smorest import Blueprint
    from marshmallow import Schema, fields
    from sqlalchemy import or_

    from .audit_watch import monitor
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

    class ChainOut(Schema):
        ok = fields.Boolean(metadata={"description": "false: the log does not verify; show a warning"})
        first_bad_id = fields.Integer(allow_none=True, metadata={"description": "the earliest row found wrong"})
        problem = fields.String(allow_none=True, metadata={"description": "one of " + ", ".join(sorted(PROBLEMS))})
        message = fields.String(allow_none=True, metadata={"description": "the warning, in the asked language"})

    class AuditPage(page_schema(AuditOut)):
        chain = fields.Nested(ChainOut)

    blp = Blueprint(
        f"{service}_audit",
        __name__,
        url_prefix=f"/{service}/api/v1/audit",
        description="Append-only audit log (hash-chained, verified against signed anchors)",
    )

    @blp.record_once
    def _watch(state):  # at start: a wrong AUDIT_* setting stops the app, not its first page
        monitor(state.app.extensions["kinerja"])

    @blp.route("")
    class AuditList(MethodView):
        @blp.arguments(AuditQuery, location="query")
        @blp.response(200, AuditPage)
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
                report = monitor(platform).status(s, rows[:limit])
            nxt = encode_cursor(rows[limit - 1]["id"]) if len(rows) > limit else None
            chain = {"ok": report.ok, "first_bad_id": report.first_bad_id, "problem": report.problem, "message": None}
            if not report.ok:
                reason = platform.catalogue.t(f"audit.problem.{report.problem}", g.lang)
                chain["message"] = platform.catalogue.t(
                    "audit.chain_broken", g.lang, id=report.first_bad_id, reason=reason
                )
            return {"items": [dict(r) for r in rows[:limit]], "next_cursor": nxt, "chain": chain}

    return blp
