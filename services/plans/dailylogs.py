"""Daily logs (log harian): what an employee did on a day, optionally against one IKI of their SKP,
read by themselves, their superiors (``team``) and HR. The blueprint, its schemas and its use
cases."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import Problem
from services.common.http import ObjectSchema, PageArgs, UtcDateTime, page_schema, paginate
from services.common.usecase import not_found, now, platform, record, today, validation

from . import domain
from .access import PREFIX, can_read_person, leads_of, refuse_machine_client
from .models import Cycle, DailyLog, Employee, Iki, Plan, Rhk

blp = Blueprint("daily_logs", __name__, url_prefix=PREFIX, description="Daily logs of work done")


class DailyLogIn(Schema):
    date = fields.Date(required=True)
    activity = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=1440))
    iki_id = fields.String(load_default=None, allow_none=True)


class DailyLogOut(ObjectSchema):
    id = fields.Integer()
    employee_nip = fields.String()
    date = fields.Date()
    activity = fields.String()
    minutes = fields.Integer()
    iki_id = fields.String(allow_none=True)
    plan_id = fields.Integer(allow_none=True)
    created_at = UtcDateTime()


class DailyLogQuery(PageArgs):
    employee_nip = fields.String()
    team = fields.Boolean(load_default=False)
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")


def _writer_statement() -> Select:
    """The writer, the year's open cycle (the newest), their SKP in it and whether the IKI is one of
    its own: one statement (they were five, the ORM loading the employee's unit and the cycle's
    periods a log never reads), built once with its parameters (``nip``, ``year``, ``iki``)."""
    e, c, pl, iki, rhk = Employee.__table__, Cycle.__table__, Plan.__table__, Iki.__table__, Rhk.__table__
    latest = c.alias("latest")
    cycle_id = (
        select(latest.c.id)
        .where(latest.c.agency_code == e.c.agency_code, latest.c.year == bindparam("year"), latest.c.stage != "closed")
        .order_by(latest.c.id.desc())
        .limit(1)
        .correlate(e)
        .scalar_subquery()
    )
    own_iki = (
        select(iki.c.id)
        .join(rhk, iki.c.rhk_id == rhk.c.id)
        .where(rhk.c.plan_id == pl.c.id, iki.c.id == bindparam("iki"))
        .correlate(pl)
        .scalar_subquery()
    )
    return (
        select(
            e.c.agency_code, e.c.nip, e.c.superior_nip, c.c.id, c.c.stage, c.c.period_seq, c.c.phase, pl.c.id, own_iki
        )
        .select_from(e)
        .outerjoin(c, c.c.id == cycle_id)
        .outerjoin(pl, and_(pl.c.cycle_id == c.c.id, pl.c.employee_nip == e.c.nip))
        .where(e.c.nip == bindparam("nip"))
    )


_WRITER = _writer_statement()


def write_daily_log(s: Session, p: Principal, data: dict) -> DailyLog:
    iki_id = data.get("iki_id")
    params = {"nip": p.nip or "\0", "year": data["date"].year, "iki": iki_id or None}
    row = s.execute(_WRITER, params).first()
    if row is None:
        raise Problem(403, "plan.not_employee")
    agency_code, nip, superior_nip, cycle, stage, period_seq, phase, plan_id, found_iki = row
    if data["date"] > today():
        raise validation([("date", "dailylog.future")])
    if cycle is not None:
        domain.guard(domain.CycleState(stage, period_seq, phase), "dailylog.write")  # guard_stage
    else:
        plan_id = None
    if iki_id and (plan_id is None or found_iki is None):
        raise validation([("iki_id", "iki.unknown")])
    log = DailyLog(
        agency_code=agency_code,
        employee_nip=nip,
        superior_nip=superior_nip,
        plan_id=plan_id,
        iki_id=iki_id,
        date=data["date"],
        activity=data["activity"],
        minutes=data["minutes"],
        created_at=now(),
    )
    s.add(log)
    s.flush()
    after = {"date": str(log.date), "minutes": log.minutes, "activity": log.activity}
    record(s, p, "dailylog.written", "daily_log", log.id, after=after, agency=agency_code, subject=nip)
    return log


def daily_log_query(s: Session, p: Principal, args: dict):
    refuse_machine_client(p)
    stmt = select(DailyLog)
    if args.get("team"):
        if not p.nip:
            raise forbid()
        # my direct reports and those of whom I stand in for today: one statement
        stmt = stmt.where(DailyLog.employee_nip.in_(select(Employee.nip).where(leads_of(p.nip, today()))))
    elif args.get("employee_nip"):
        nip = args["employee_nip"]
        agency = s.scalar(select(Employee.agency_code).where(Employee.nip == nip))
        if agency is None or not can_read_person(s, p, agency, nip):
            raise not_found("employee", nip)
        stmt = stmt.where(DailyLog.employee_nip == nip)
    else:
        stmt = stmt.where(DailyLog.employee_nip == (p.nip or "\0"))
    if "date_from" in args:
        stmt = stmt.where(DailyLog.date >= args["date_from"])
    if "date_to" in args:
        stmt = stmt.where(DailyLog.date <= args["date_to"])
    return stmt


@blp.route("/daily-logs")
class DailyLogs(MethodView):
    @blp.arguments(DailyLogQuery(), location="query")  # one instance, not one per request
    @blp.response(200, page_schema(DailyLogOut))
    def get(self, args):
        """My daily log; ``team=true``: my direct reports' entries as they are written (newest last);
        ``employee_nip``: one person in my reporting line (or my agency, for HR)."""
        p = current_principal()
        with platform().uow() as s:
            return paginate(s, daily_log_query(s, p, args), DailyLog.id, args.get("cursor"), args["limit"])

    @blp.arguments(DailyLogIn())
    @blp.response(201, DailyLogOut)
    def post(self, data):
        with platform().uow() as s:
            return write_daily_log(s, current_principal(), data)
