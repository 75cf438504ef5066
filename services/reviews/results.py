"""The results feed (issue 16): the final result per employee and period, for the systems that pay
the tunjangan kinerja / TPP and run career services (SIASN), read without a person in between.

**Final** means countersigned: the last step of the sign-off chain (DOMAIN.md §6: the penilai signs,
the employee acknowledges receipt, the atasan penilai countersigns). A signed or acknowledged
evaluation is not in the feed: the atasan has not closed it yet. A final result can still change —
an objection filed within the window may be decided "changed" by the atasan — so each item carries
its objection state and comes again when it changes.

**changed_at** (``evaluations.result_changed_at``) is when the item last changed: the result became
final (countersign), an objection against the final result was filed or decided, or the decision
changed its ratings. :func:`stamp_result` sets it, strictly increasing across the service and in
commit order (a transaction-scoped lock serialises the writers, each stamping after every earlier
one committed), so the order ``(changed_at, id)`` never puts a new change before a position a
client has already read.

**Incremental sync**: ``changed_since`` (RFC 3339 with an offset; after that instant, exclusive)
and a keyset cursor ``(changed_at, id)``. A client pages with ``next_cursor`` until it is null and
keeps the ``changed_at`` of the last item; next time it asks ``changed_since`` = that value. A
result read and then changed again moves past the cursor: it comes again later in the same walk
(or the next pull), never before the cursor, and nothing is skipped.

Who: HR of the agency, an admin (every agency), and the agency's machine clients (role ``agency``,
no NIP) — the feed is what they are for. A person (employee, supervisor) is refused (403 ``auth.role``)."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate
from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.common.db import is_postgres
from services.common.errors import FieldError, Problem
from services.common.grants import act_for, agency_arg
from services.common.http import PageArgs, decode_cursor, encode_cursor, page_schema
from services.common.scopes import accepts
from services.common.usecase import emit, now, validation

from .access import ANNUAL, PREFIX, machine_client, uow
from .events import ResultItem
from .models import CycleRef, Evaluation, GrantRef, Objection
from .schemas import ID, SEQ, UNIT_CODE_DOC

blp = Blueprint(
    "results",
    __name__,
    url_prefix=PREFIX,
    description="The results feed: final results per employee and period, for allowance (TPP) and career systems",
)

FEED_LOCK = 7_242_016  # pg_advisory_xact_lock key serialising the stamps of the feed (taken after the audit's)
FINAL = "countersigned"  # the sign-off step that makes a result final (see the module's docstring)


class ResultQuery(PageArgs):
    cycle_id = fields.Integer(validate=ID)
    period_seq = fields.Integer(validate=SEQ, metadata={"description": "0 for the annual result"})
    unit_code = fields.String(validate=validate.Length(min=1, max=40), metadata=UNIT_CODE_DOC)
    agency = agency_arg()
    changed_since = fields.String(
        validate=validate.Length(max=64),
        metadata={
            "format": "date-time",
            "description": "RFC 3339 with an offset (e.g. 2026-07-01T00:00:00Z): only results changed after this "
            "instant; not in the future",
        },
    )


# ------------------------------------------------------------------ stamping (called by sign-off and objections)


def _utc(at: datetime) -> datetime:
    """An instant in UTC (SQLite hands stored instants back naive, in UTC)."""
    return at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)


def stamp_result(s: Session, ev: Evaluation) -> datetime:
    """Set ``ev.result_changed_at`` to now — or, when the clock has not moved past the latest stamp,
    a microsecond after it — so stamps are unique and increase in commit order. Call it after the
    change's ``record(...)`` (its audit lock comes first, always in that order)."""
    if is_postgres(s):
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": FEED_LOCK})  # held until commit
    last = s.scalar(select(func.max(Evaluation.result_changed_at)))
    at = _utc(now())
    if last is not None and at <= _utc(last):
        at = _utc(last) + timedelta(microseconds=1)
    ev.result_changed_at = at
    s.flush()
    return at


def is_final(ev: Evaluation) -> bool:
    """In the feed: countersigned (and stamped)."""
    return ev.status == FINAL and ev.result_changed_at is not None


def result_changed(s: Session, ev: Evaluation, event: str | None = None, objection: Objection | None = None) -> None:
    """Stamp the final result ``ev`` and, when ``event`` names one, publish it with the feed item as payload."""
    stamp_result(s, ev)
    if event:
        emit(s, event, ev.id, result_item(s, ev, objection))


# ------------------------------------------------------------------ the item


def _period_span(cycle: CycleRef | None, seq: int) -> tuple[date | None, date | None]:
    periods = [p for p in (cycle.periods if cycle else None) or [] if p.get("start") and p.get("end")]
    try:
        if seq == ANNUAL:
            if periods:
                return min(date.fromisoformat(str(p["start"])) for p in periods), max(
                    date.fromisoformat(str(p["end"])) for p in periods
                )
            return (date(cycle.year, 1, 1), date(cycle.year, 12, 31)) if cycle else (None, None)
        span = next((p for p in periods if p.get("seq") == seq), None)
        if span:
            return date.fromisoformat(str(span["start"])), date.fromisoformat(str(span["end"]))
    except (TypeError, ValueError):
        pass
    return None, None


def _objection(obj: Objection | None) -> dict:
    if obj is None:
        return {"status": "none", "decision": None, "filed_at": None, "decided_at": None}
    return {
        "status": "decided" if obj.status == "decided" else "filed",  # under review is still filed
        "decision": obj.decision,
        "filed_at": obj.filed_at,
        "decided_at": obj.decided_at,
    }


def result_item(
    s: Session, ev: Evaluation, objection: Objection | None = None, cycle: CycleRef | None = None, *, lookup=True
) -> dict:
    """The feed item of a final result (``events.ResultItem``); ``objection`` and ``cycle`` are looked up
    unless given (or ``lookup`` is False: a page passes what it loaded for all its items)."""
    if lookup:
        objection = objection or s.scalar(select(Objection).where(Objection.evaluation_id == ev.id))
        cycle = cycle or s.get(CycleRef, ev.cycle_id)
    start, end = _period_span(cycle, ev.period_seq)
    return {
        "evaluation_id": ev.id,
        "agency_code": ev.agency_code,
        "employee_nip": ev.employee_nip,
        "employee_name": ev.employee_name,
        "unit_code": ev.unit_code,
        "unit_name": ev.unit_name,
        "cycle_id": ev.cycle_id,
        "year": cycle.year if cycle else None,
        "kind": ev.kind,
        "period_seq": ev.period_seq,
        "period_name": ev.period_name,
        "period_start": start,
        "period_end": end,
        "rating_hasil": ev.rating_hasil,
        "rating_perilaku": ev.rating_perilaku,
        "predikat": ev.predikat,
        "org_result": ev.org_result,
        "content_hash": ev.content_hash,
        "document_version": ev.document_version,
        "signed_at": ev.signed_at,
        "acknowledged_at": ev.acknowledged_at,
        "countersigned_at": ev.countersigned_at,
        "objection": _objection(objection),
        "changed_at": ev.result_changed_at,
    }


# ------------------------------------------------------------------ the feed


def feed_reader(p: Principal) -> None:
    """HR of an agency, an admin, or a machine client of an agency (role ``agency``, no NIP); a person
    is refused with 403 ``auth.role``, whatever else their token says."""
    if not (p.is_admin or p.has("hr") or machine_client(p)):
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required="hr, agency, admin")


RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _instant(value: str, field: str) -> datetime:
    """An RFC 3339 instant with its offset (``Z`` or ``±hh:mm``), in UTC; else 422 on ``field``."""
    m = RFC3339.match(value.strip())
    try:
        if not m:
            raise ValueError(value)
        day, clock, fraction, offset = m.groups()
        offset = "+00:00" if offset in ("Z", "z") else offset
        at = datetime.fromisoformat(f"{day}T{clock}{(fraction or '')[:7]}{offset}")  # microseconds at most
        return at.astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise validation([(field, "results.changed_since_format", {"given": value[:64]})]) from None


def _cursor_key(cursor: str) -> tuple[datetime, int]:
    key = decode_cursor(cursor)
    try:
        at, ev_id = key
        if not isinstance(at, str) or isinstance(ev_id, bool) or not isinstance(ev_id, int):
            raise ValueError(key)
        stamp = datetime.fromisoformat(at)
        if stamp.tzinfo is None:
            raise ValueError(key)
        return stamp.astimezone(timezone.utc), ev_id
    except (TypeError, ValueError, OverflowError):
        raise Problem(422, "validation", errors=[FieldError("cursor", "pagination.cursor")]) from None


def results_query(s: Session, p: Principal, args: dict):
    feed_reader(p)
    stmt = select(Evaluation).where(Evaluation.result_changed_at.is_not(None), Evaluation.status == FINAL)
    if not p.is_admin:
        stmt = stmt.where(Evaluation.agency_code == (p.agency or "\0"))
    for key in ("cycle_id", "period_seq", "unit_code"):
        if key in args:
            stmt = stmt.where(getattr(Evaluation, key) == args[key])
    if args.get("changed_since") is not None:
        since = _instant(args["changed_since"], "changed_since")
        if since > _utc(now()):
            latest = s.scalar(select(func.max(Evaluation.result_changed_at)))  # a stamp may lead the clock by µs
            if latest is None or since > _utc(latest):
                raise validation(
                    [("changed_since", "results.changed_since_future", {"given": args["changed_since"][:64]})]
                )
        stmt = stmt.where(Evaluation.result_changed_at > since)
    return stmt


def results_page(s: Session, p: Principal, args: dict) -> dict:
    stmt = results_query(s, p, args)
    if args.get("cursor"):
        at, ev_id = _cursor_key(args["cursor"])
        rc = Evaluation.result_changed_at
        stmt = stmt.where(or_(rc > at, and_(rc == at, Evaluation.id > ev_id)))
    limit = args["limit"]
    rows = list(s.scalars(stmt.order_by(Evaluation.result_changed_at, Evaluation.id).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor([_utc(last.result_changed_at).isoformat(), last.id])
    ids = [ev.id for ev in rows]
    objections = {o.evaluation_id: o for o in s.scalars(select(Objection).where(Objection.evaluation_id.in_(ids)))}
    cycles = {c.id: c for c in s.scalars(select(CycleRef).where(CycleRef.id.in_({ev.cycle_id for ev in rows})))}
    items = [result_item(s, ev, objections.get(ev.id), cycles.get(ev.cycle_id), lookup=False) for ev in rows]
    return {"items": items, "next_cursor": next_cursor}


# ------------------------------------------------------------------ HTTP


@blp.route("/results")
class Results(MethodView):
    @accepts("results:read")  # a machine client needs this scope (services/common/scopes.py)
    @blp.arguments(ResultQuery, location="query")
    @blp.response(200, page_schema(ResultItem))
    def get(self, args):
        """The final (countersigned) result per employee and period of the caller's agency, ordered by
        ``changed_at`` then id: ratings, predikat, organisation result, the signed document's hash and
        version, sign-off dates and the objection state. Filters: cycle, period, unit, ``changed_since``
        (RFC 3339 with an offset, exclusive; not in the future). For incremental sync follow
        ``next_cursor`` to the end and keep the last item's ``changed_at`` for the next ``changed_since``:
        a result that changes again (an objection filed or decided) comes again after the cursor.
        HR of the agency, its machine clients (role ``agency``), admin. A machine client with a grant of
        another agency (``results:read``) reads that agency's results with ``agency``."""
        with uow() as s:
            return results_page(s, act_for(s, GrantRef, args.get("agency")), args)
