"""flask-smorest blueprints of the plans service: thin views calling ``service`` functions."""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import ValidationError

from services.common.auth import current_principal
from services.common.errors import FieldError, Problem, flatten_messages
from services.common.http import page_schema, paginate, require_if_match, with_etag

from . import schemas as sc
from . import service as svc
from .models import Employee, Plan, Unit

PREFIX = "/plans/api/v1"
directory = Blueprint("directory", __name__, url_prefix=PREFIX, description="Agencies, units, employees, import")
cycles = Blueprint("cycles", __name__, url_prefix=f"{PREFIX}/cycles", description="Evaluation cycles and stages")
plans = Blueprint("plans", __name__, url_prefix=f"{PREFIX}/plans", description="SKP plans, cascade, versions")
progress = Blueprint(
    "progress", __name__, url_prefix=PREFIX, description="Realisation, evidence, daily logs and continuous feedback"
)


def uow():
    return current_app.extensions["kinerja"].uow()


# ------------------------------------------------------------------ directory


@directory.route("/agencies")
class Agencies(MethodView):
    @directory.arguments(sc.AgencyIn)
    @directory.response(201, sc.AgencyOut)
    def post(self, data):
        """Register an agency (admin)."""
        with uow() as s:
            return svc.create_agency(s, current_principal(), data)


@directory.route("/agencies/<code>")
class AgencyItem(MethodView):
    @directory.response(200, sc.AgencyOut)
    def get(self, code):
        p = current_principal()
        if not (p.is_admin or p.agency == code):
            raise svc.not_found("agency", code)
        with uow() as s:
            return svc.get_agency(s, code)


@directory.route("/units")
class Units(MethodView):
    @directory.arguments(sc.UnitQuery, location="query")
    @directory.response(200, page_schema(sc.UnitOut))
    def get(self, args):
        """Units of the caller's agency (a tree through parent_code)."""
        from sqlalchemy import select

        p = current_principal()
        with uow() as s:
            stmt = select(Unit).where(Unit.agency_code == (p.agency or "\0"))
            if "parent_code" in args:
                parent = svc.unit_by_code(s, p.agency or "", args["parent_code"])
                stmt = stmt.where(Unit.parent_id == (parent.id if parent else -1))
            page = paginate(s, stmt, Unit.id, args.get("cursor"), args["limit"])
            page["items"] = [svc.unit_payload(u) | {"version": u.version} for u in page["items"]]
            return page

    @directory.arguments(sc.UnitIn)
    @directory.response(201, sc.UnitOut)
    def post(self, data):
        """Create or update a unit by code (HR)."""
        p = current_principal()
        with uow() as s:
            unit, _ = svc.upsert_unit(s, p, p.agency or "", data)
            return svc.unit_payload(unit) | {"version": unit.version}


@directory.route("/employees")
class Employees(MethodView):
    @directory.arguments(sc.EmployeeQuery, location="query")
    @directory.response(200, page_schema(sc.EmployeeOut))
    def get(self, args):
        """Employees the caller may see: HR their agency, a supervisor their reporting line, others themselves."""
        p = current_principal()
        with uow() as s:
            return paginate(s, svc.employee_query(s, p, args), Employee.id, args.get("cursor"), args["limit"])

    @directory.arguments(sc.EmployeeIn)
    @directory.response(201, sc.EmployeeOut)
    def post(self, data):
        """Create or update an employee by NIP (HR). NIP validated; superior must exist; no reporting cycles."""
        p = current_principal()
        with uow() as s:
            emp, _ = svc.upsert_employee(s, p, p.agency or "", data)
            return with_etag(emp)


@directory.route("/employees/<nip>")
class EmployeeItem(MethodView):
    @directory.response(200, sc.EmployeeOut)
    def get(self, nip):
        with uow() as s:
            return with_etag(svc.get_employee(s, current_principal(), nip))

    @directory.arguments(sc.EmployeeUpdate)
    @directory.response(200, sc.EmployeeOut)
    def patch(self, changes, nip):
        """Change an employee (HR); requires If-Match."""
        p = current_principal()
        with uow() as s:
            emp = svc.get_employee(s, p, nip)
            require_if_match(emp.version)
            return with_etag(svc.update_employee(s, p, emp, changes))


def _load_row(kind: str, row: dict):
    schema = sc.UnitIn() if kind == "units" else sc.EmployeeIn()
    try:
        return schema.load(row), []
    except ValidationError as exc:
        return None, flatten_messages(exc.messages)


@directory.route("/directory/import")
class DirectoryImport(MethodView):
    @directory.arguments(sc.ImportQuery, location="query")
    @directory.response(200, sc.ImportReport)
    def post(self, args):
        """CSV import of units or employees (HR). ``dry_run=true`` reports without writing; otherwise
        every row is applied or, if any row is wrong, none (422 with the errors per row).
        Send ``text/csv`` or a multipart ``file``. Units: code,name,parent_code. Employees:
        nip,name,email,phone,position,grade,unit_code,superior_nip,language."""
        p = current_principal()
        if request.mimetype == "multipart/form-data":
            f = request.files.get("file")
            if f is None:
                raise Problem(422, "validation", errors=[FieldError("file", "field.required")])
            raw = f.read()
        elif request.mimetype == "text/csv":
            raw = request.get_data()
        else:
            raise Problem(415, "http.media_type", expected="text/csv")
        if len(raw) > current_app.extensions["kinerja"].config.max_content_length:
            raise Problem(413, "http.too_large", limit=current_app.extensions["kinerja"].config.max_content_length)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Problem(422, "validation", errors=[FieldError("file", "import.encoding")])
        with uow() as s:
            report = svc.import_directory(
                s, p, p.agency or "", args["kind"], text, dry_run=args["dry_run"], load_row=_load_row
            )
        cat = current_app.extensions["kinerja"].catalogue
        from flask import g

        for e in report["errors"]:
            e["detail"] = (
                cat.t(e["code"], g.lang, **(e.get("params") or {}))
                if cat.has(e["code"])
                else (e.get("message") or e["code"])
            )
        return report


@directory.route("/acting")
class Acting(MethodView):
    @directory.arguments(sc.ActingIn)
    @directory.response(201, sc.ActingOut)
    def post(self, data):
        """Record an acting official (Plt/Plh) who stands in as penilai for someone (HR)."""
        with uow() as s:
            return svc.create_acting(s, current_principal(), data)


# ------------------------------------------------------------------ cycles


@cycles.route("")
class Cycles(MethodView):
    @cycles.arguments(sc.CycleQuery, location="query")
    @cycles.response(200, page_schema(sc.CycleOut))
    def get(self, args):
        from sqlalchemy import select

        from .models import Cycle

        p = current_principal()
        with uow() as s:
            stmt = select(Cycle)
            if not p.is_admin:
                stmt = stmt.where(Cycle.agency_code == (p.agency or "\0"))
            for key in ("year", "stage"):
                if key in args:
                    stmt = stmt.where(getattr(Cycle, key) == args[key])
            page = paginate(s, stmt, Cycle.id, args.get("cursor"), args["limit"])
            page["items"] = [svc.cycle_out(c) for c in page["items"]]
            return page

    @cycles.arguments(sc.CycleIn)
    @cycles.response(201, sc.CycleOut)
    def post(self, data):
        """Create an evaluation cycle with its periods (HR); it starts in stage ``draft``."""
        with uow() as s:
            return with_etag(svc.create_cycle(s, current_principal(), data))


@cycles.route("/<int:cycle_id>")
class CycleItem(MethodView):
    @cycles.response(200, sc.CycleOut)
    def get(self, cycle_id):
        with uow() as s:
            return with_etag(svc.get_cycle(s, current_principal(), cycle_id))


@cycles.route("/<int:cycle_id>/periods/<int:seq>")
class CyclePeriod(MethodView):
    @cycles.arguments(sc.PeriodUpdate)
    @cycles.response(200, sc.CycleOut)
    def patch(self, data, cycle_id, seq):
        """Set a period's fill-in deadline (HR, stage draft or planning); requires If-Match of the cycle."""
        p = current_principal()
        with uow() as s:
            c = svc.get_cycle(s, p, cycle_id)
            require_if_match(c.version)
            return with_etag(svc.update_period(s, p, c, seq, data))


@cycles.route("/<int:cycle_id>/advance")
class CycleAdvance(MethodView):
    @cycles.arguments(sc.AdvanceIn)
    @cycles.response(200, sc.CycleOut)
    def post(self, data, cycle_id):
        """Move the cycle to its next stage (or period/phase). Send ``expected`` to make the call
        safe to repeat: when the cycle is no longer there, 409 names the current stage."""
        p = current_principal()
        with uow() as s:
            c = svc.get_cycle(s, p, cycle_id)
            return with_etag(svc.advance_cycle(s, p, c, data.get("expected")))


# ------------------------------------------------------------------ plans


@plans.route("")
class Plans(MethodView):
    @plans.arguments(sc.PlanQuery, location="query")
    @plans.response(200, page_schema(sc.PlanSummary))
    def get(self, args):
        """SKPs the caller may see, filtered by cycle, unit, status, employee or penilai."""
        p = current_principal()
        with uow() as s:
            return paginate(s, svc.plan_query(s, p, args), Plan.id, args.get("cursor"), args["limit"])

    @plans.arguments(sc.PlanCreate)
    @plans.response(201, sc.PlanOut)
    def post(self, data):
        """Draft my SKP for a cycle (the employee, in stage planning)."""
        with uow() as s:
            return with_etag(svc.create_plan(s, current_principal(), data))


@plans.route("/cascade-options")
class PlanCascadeOptions(MethodView):
    @plans.arguments(sc.CascadeQuery, location="query")
    @plans.response(200, sc.CascadeOptionsOut)
    def get(self, args):
        """The RHK my SKP in a cycle may cascade from: my penilai's RHK (ids, kinds, descriptions only),
        and whether I am a head of unit (who may name an organisation goal instead)."""
        with uow() as s:
            return svc.cascade_options(s, current_principal(), args["cycle_id"])


@plans.route("/<int:plan_id>")
class PlanItem(MethodView):
    @plans.response(200, sc.PlanOut)
    def get(self, plan_id):
        with uow() as s:
            return with_etag(svc.get_plan(s, current_principal(), plan_id))

    @plans.arguments(sc.PlanContent)
    @plans.response(200, sc.PlanOut)
    def put(self, data, plan_id):
        """Replace the content of my SKP while it is draft, returned or opened for revision; requires If-Match.
        RHK and IKI sent with their ``id`` keep it (realisations and cascade links stay attached)."""
        p = current_principal()
        with uow() as s:
            plan = svc.get_plan(s, p, plan_id)
            require_if_match(plan.version)
            return with_etag(svc.update_plan(s, p, plan, data))


def _plan_action(plan_id: int, action):
    p = current_principal()
    with uow() as s:
        plan = svc.get_plan(s, p, plan_id)
        if request.headers.get("If-Match"):
            require_if_match(plan.version)
        return with_etag(action(s, p, plan))


@plans.route("/<int:plan_id>/submit")
class PlanSubmit(MethodView):
    @plans.response(200, sc.PlanOut)
    def post(self, plan_id):
        """Submit my SKP to my penilai. Every BerAKHLAK expectation and a cascade link per RHK are required."""
        return _plan_action(plan_id, svc.submit_plan)


@plans.route("/<int:plan_id>/return")
class PlanReturn(MethodView):
    @plans.arguments(sc.ReturnIn)
    @plans.response(200, sc.PlanOut)
    def post(self, data, plan_id):
        """Return a submitted SKP with a note (the penilai or an acting official)."""
        return _plan_action(plan_id, lambda s, p, plan: svc.return_plan(s, p, plan, data["note"]))


@plans.route("/<int:plan_id>/approve")
class PlanApprove(MethodView):
    @plans.response(200, sc.PlanOut)
    def post(self, plan_id):
        """Approve a submitted SKP (the penilai or an acting official); the version is kept."""
        return _plan_action(plan_id, svc.approve_plan)


@plans.route("/<int:plan_id>/revise")
class PlanRevise(MethodView):
    @plans.response(200, sc.PlanOut)
    def post(self, plan_id):
        """Reopen my approved SKP for revision when expectations change; approved versions stay retrievable."""
        return _plan_action(plan_id, svc.revise_plan)


@plans.route("/<int:plan_id>/versions")
class PlanVersions(MethodView):
    @plans.response(200, sc.PlanVersionOut(many=True))
    def get(self, plan_id):
        with uow() as s:
            return svc.plan_versions(s, svc.get_plan(s, current_principal(), plan_id))


@plans.route("/<int:plan_id>/versions/<int:revision>")
class PlanVersionItem(MethodView):
    @plans.response(200, sc.PlanVersionOut)
    def get(self, plan_id, revision):
        with uow() as s:
            for v in svc.plan_versions(s, svc.get_plan(s, current_principal(), plan_id)):
                if v.revision == revision:
                    return v
            raise svc.not_found("plan version", revision)


@plans.route("/<int:plan_id>/coverage")
class PlanCoverage(MethodView):
    @plans.response(200, sc.CoverageOut)
    def get(self, plan_id):
        """Cascade coverage: which of this plan's RHK are supported by subordinates' RHK, and who supports none."""
        with uow() as s:
            return svc.coverage(s, svc.get_plan(s, current_principal(), plan_id))


# ------------------------------------------------------------------ progress


@progress.route("/plans/<int:plan_id>/realisations")
class Realisations(MethodView):
    @progress.arguments(sc.RealisationQuery, location="query")
    @progress.response(200, sc.RealisationOut(many=True))
    def get(self, args, plan_id):
        with uow() as s:
            plan = svc.get_plan(s, current_principal(), plan_id)
            return svc.list_realisations(s, plan, args.get("period_seq"))

    @progress.arguments(sc.RealisationIn)
    @progress.response(201, sc.RealisationOut)
    def post(self, data, plan_id):
        """Record (or correct) the realisation of one IKI for one period."""
        p = current_principal()
        with uow() as s:
            return svc.record_realisation(s, p, svc.get_plan(s, p, plan_id), data)


@progress.route("/plans/<int:plan_id>/realisations:batch")
class RealisationsBatch(MethodView):
    @progress.arguments(sc.RealisationIn(many=True))
    @progress.response(201, sc.RealisationOut(many=True))
    def post(self, items, plan_id):
        """Record (or correct) several IKI at once — a period's whole form: all or none, errors
        name the item (``[3].value``); at most 100 items."""
        p = current_principal()
        with uow() as s:
            return svc.record_realisations(s, p, svc.get_plan(s, p, plan_id), items, limit=sc.REALISATION_BATCH_MAX)


@progress.route("/plans/<int:plan_id>/realisations/<int:realisation_id>/evidence")
class EvidenceUpload(MethodView):
    @progress.arguments(sc.EvidenceUpload, location="files")
    @progress.response(201, sc.EvidenceOut)
    def post(self, files, plan_id, realisation_id):
        """Upload an evidence file (PDF, PNG, JPEG, WebP, DOCX, XLSX, TXT, CSV; size-limited)."""
        from .models import Realisation

        p = current_principal()
        f = files["file"]
        content = f.read(current_app.extensions["kinerja"].config.max_upload_bytes + 1)
        with uow() as s:
            plan = svc.get_plan(s, p, plan_id)
            r = s.get(Realisation, realisation_id)
            if r is None or r.plan_id != plan.id:
                raise svc.not_found("realisation", realisation_id)
            return svc.add_evidence(s, p, plan, r, f.filename, f.mimetype, content)


@progress.route("/evidence/<int:evidence_id>")
class EvidenceDownload(MethodView):
    @progress.response(200)
    def get(self, evidence_id):
        with uow() as s:
            ev, content = svc.get_evidence(s, current_principal(), evidence_id)
        # header values must be latin-1 and may not break out of the quotes: an ASCII fallback name
        # plus the exact one in RFC 5987 form (a name like “laporan”.pdf broke the response)
        from urllib.parse import quote

        fallback = "".join(c for c in ev.filename if " " <= c <= "~" and c not in '"\\') or "bukti"
        return Response(
            content,
            mimetype=ev.content_type,
            headers={
                "Content-Disposition": f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(ev.filename)}",
                "X-Content-Type-Options": "nosniff",
            },
        )


@progress.route("/daily-logs")
class DailyLogs(MethodView):
    @progress.arguments(sc.DailyLogQuery, location="query")
    @progress.response(200, page_schema(sc.DailyLogOut))
    def get(self, args):
        """My daily log; ``team=true``: my direct reports' entries as they are written (newest last);
        ``employee_nip``: one person in my reporting line (or my agency, for HR)."""
        from .models import DailyLog

        p = current_principal()
        with uow() as s:
            return paginate(s, svc.daily_log_query(s, p, args), DailyLog.id, args.get("cursor"), args["limit"])

    @progress.arguments(sc.DailyLogIn)
    @progress.response(201, sc.DailyLogOut)
    def post(self, data):
        with uow() as s:
            return svc.write_daily_log(s, current_principal(), data)


@progress.route("/plans/<int:plan_id>/feedback")
class FeedbackList(MethodView):
    @progress.response(200, sc.FeedbackOut(many=True))
    def get(self, plan_id):
        with uow() as s:
            return svc.list_feedback(s, svc.get_plan(s, current_principal(), plan_id))

    @progress.arguments(sc.FeedbackIn)
    @progress.response(201, sc.FeedbackOut)
    def post(self, data, plan_id):
        """Continuous feedback from the superior on one RHK or one BerAKHLAK value."""
        p = current_principal()
        with uow() as s:
            return svc.give_feedback(s, p, svc.get_plan(s, p, plan_id), data)


BLUEPRINTS = [directory, cycles, plans, progress]
