"""Daily logs (log harian): what an employee did on a day, optionally against one IKI of their SKP,
read by themselves, their superiors (``team``) and HR. The blueprint, its schemas and its use
cases."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal, forbid
from services.common.errors import Problem
from services.common.http import PageArgs, UtcDateTime, page_schema, paginate
from services.common.usecase import not_found, now, platform, record, today, validation

from .access import PREFIX, acting_for, can_read_person, refuse_machine_client
from .cycles import guard_stage
from .models import Cycle, DailyLog, Employee, Iki, Plan, Rhk

blp = Blueprint("daily_logs", __name__, url_prefix=PREFIX, description="Daily logs of work done")


class DailyLogIn(Schema):
    date = fields.Date(required=True)
    activity = fields.String(required=True, validate=validate.Length(min=3, max=2000))
    minutes = fields.Integer(required=True, validate=validate.Range(min=1, max=1440))
    iki_id = fields.String(load_default=None, allow_none=True)


class DailyLogOut(Schema):
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


def write_daily_log(s: Session, p: Principal, data: dict) -> DailyLog:
    emp = s.scalar(select(Employee).where(Employee.nip == (p.nip or "\0")))
    if emp is None:
        raise Problem(403, "plan.not_employee")
    if data["date"] > today():
        raise validation([("date", "dailylog.future")])
    cycle = s.scalar(
        select(Cycle)
        .where(Cycle.agency_code == emp.agency_code, Cycle.year == data["date"].year, Cycle.stage != "closed")
        .order_by(Cycle.id.desc())
    )
    plan_id = None
    if cycle is not None:
        guard_stage(cycle, "dailylog.write")
        # the plan's id only: loading the SKP with its RHK and IKI was most of a log's cost
        plan_id = s.scalar(select(Plan.id).where(Plan.cycle_id == cycle.id, Plan.employee_nip == emp.nip))
    if data.get("iki_id"):
        if (
            plan_id is None
            or s.scalar(
                select(Iki.id).join(Rhk, Iki.rhk_id == Rhk.id).where(Rhk.plan_id == plan_id, Iki.id == data["iki_id"])
            )
            is None
        ):
            raise validation([("iki_id", "iki.unknown")])
    log = DailyLog(
        agency_code=emp.agency_code,
        employee_nip=emp.nip,
        superior_nip=emp.superior_nip,
        plan_id=plan_id,
        iki_id=data.get("iki_id"),
        date=data["date"],
        activity=data["activity"],
        minutes=data["minutes"],
        created_at=now(),
    )
    s.add(log)
    s.flush()
    after = {"date": str(log.date), "minutes": log.minutes, "activity": log.activity}
    record(s, p, "dailylog.written", "daily_log", log.id, after=after, agency=emp.agency_code, subject=emp.nip)
    return log


def daily_log_query(s: Session, p: Principal, args: dict):
    refuse_machine_client(p)
    stmt = select(DailyLog)
    if args.get("team"):
        if not p.nip:
            raise forbid()
        leads = {p.nip} | acting_for(s, p.nip, today())
        stmt = stmt.where(DailyLog.employee_nip.in_(select(Employee.nip).where(Employee.superior_nip.in_(leads))))
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
    @blp.arguments(DailyLogQuery, location="query")
    @blp.response(200, page_schema(DailyLogOut))
    def get(self, args):
        """My daily log; ``team=true``: my direct reports' entries as they are written (newest last);
        ``employee_nip``: one person in my reporting line (or my agency, for HR)."""
        p = current_principal()
        with platform().uow() as s:
            return paginate(s, daily_log_query(s, p, args), DailyLog.id, args.get("cursor"), args["limit"])

    @blp.arguments(DailyLogIn)
    @blp.response(201, DailyLogOut)
    def post(self, data):
        with platform().uow() as s:
            return write_daily_log(s, current_principal(), data)
