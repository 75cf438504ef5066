"""flask-smorest blueprints of the reviews service: thin views calling ``service`` functions."""

from __future__ import annotations

from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from services.common.auth import current_principal, require_roles
from services.common.http import page_schema, paginate, remote_fetcher, require_if_match, with_etag

from . import schemas as sc
from . import service as svc
from .models import Evaluation, FollowUp, OrgResult

PREFIX = "/reviews/api/v1"
evaluations = Blueprint(
    "evaluations",
    __name__,
    url_prefix=f"{PREFIX}/evaluations",
    description="Evaluations: self-assessment, rating, peer feedback, sign-off chain",
)
objections = Blueprint(
    "objections",
    __name__,
    url_prefix=f"{PREFIX}/objections",
    description="Objections (keberatan) within 14 days of acknowledgement",
)
calibration = Blueprint(
    "calibration",
    __name__,
    url_prefix=PREFIX,
    description="Organisation results, distribution rules, calibration, follow-up, consistency",
)


def uow():
    return current_app.extensions["kinerja"].uow()


def _action(evaluation_id: int, fn, *args):
    p = current_principal()
    with uow() as s:
        ev = svc.get_evaluation(s, p, evaluation_id)
        if request.headers.get("If-Match"):
            require_if_match(ev.version)
        return with_etag(fn(s, p, ev, *args))


# ------------------------------------------------------------------ evaluations


@evaluations.route("")
class Evaluations(MethodView):
    @evaluations.arguments(sc.EvaluationQuery, location="query")
    @evaluations.response(200, page_schema(sc.EvaluationSummary))
    def get(self, args):
        """Evaluations the caller may see: their own, those they rate (``role=penilai``) or
        countersign (``role=atasan``); HR their agency. Filters: cycle, period, unit, status, predikat."""
        p = current_principal()
        with uow() as s:
            return paginate(s, svc.evaluation_query(p, args), Evaluation.id, args.get("cursor"), args["limit"])


@evaluations.route("/<int:evaluation_id>")
class EvaluationItem(MethodView):
    @evaluations.response(200, sc.EvaluationOut)
    def get(self, evaluation_id):
        with uow() as s:
            return with_etag(svc.get_evaluation(s, current_principal(), evaluation_id))


@evaluations.route("/<int:evaluation_id>/suggestion")
class Suggestion(MethodView):
    @evaluations.response(200)
    def get(self, evaluation_id):
        """The suggested rating hasil kerja with the per-IKI and per-RHK classification behind it."""
        p = current_principal()
        with uow() as s:
            return svc.suggest_preview(s, p, svc.get_evaluation(s, p, evaluation_id))


@evaluations.route("/<int:evaluation_id>/self-assessment")
class SelfAssessment(MethodView):
    @evaluations.arguments(sc.SelfAssessmentIn)
    @evaluations.response(200, sc.EvaluationOut)
    def put(self, data, evaluation_id):
        """Save my self-assessment as a draft (the employee); requires If-Match."""
        p = current_principal()
        with uow() as s:
            ev = svc.get_evaluation(s, p, evaluation_id)
            require_if_match(ev.version)
            return with_etag(svc.save_self_assessment(s, p, ev, data))


@evaluations.route("/<int:evaluation_id>/self-assessment/submit")
class SelfAssessmentSubmit(MethodView):
    @evaluations.arguments(sc.SelfAssessmentIn)
    @evaluations.response(200, sc.EvaluationOut)
    def post(self, data, evaluation_id):
        """Submit my self-assessment (achievements, challenges and improvement plan required)."""
        return _action(evaluation_id, lambda s, p, ev: svc.save_self_assessment(s, p, ev, data, submit=True))


@evaluations.route("/<int:evaluation_id>/rating")
class Rating(MethodView):
    @evaluations.arguments(sc.RatingIn)
    @evaluations.response(200, sc.EvaluationOut)
    def put(self, data, evaluation_id):
        """Rate results and behaviour (the penilai); requires If-Match. Departing from the suggested
        rating hasil kerja needs ``deviation_reason``; the predikat follows the matrix."""
        p = current_principal()
        with uow() as s:
            ev = svc.get_evaluation(s, p, evaluation_id)
            require_if_match(ev.version)
            return with_etag(svc.rate(s, p, ev, data))


@evaluations.route("/<int:evaluation_id>/adjust")
class Adjust(MethodView):
    @evaluations.arguments(sc.AdjustIn)
    @evaluations.response(200, sc.EvaluationOut)
    def post(self, data, evaluation_id):
        """Calibration adjustment with a reason (HR or the penilai); before and after are kept."""
        return _action(evaluation_id, lambda s, p, ev: svc.adjust(s, p, ev, data))


@evaluations.route("/<int:evaluation_id>/sign")
class Sign(MethodView):
    @evaluations.response(200, sc.EvaluationOut)
    def post(self, evaluation_id):
        """The penilai signs: the content is frozen and its hash stored (blocked while the unit breaks the curve)."""
        return _action(evaluation_id, svc.sign)


@evaluations.route("/<int:evaluation_id>/acknowledge")
class Acknowledge(MethodView):
    @evaluations.response(200, sc.EvaluationOut)
    def post(self, evaluation_id):
        """The employee acknowledges receipt; the 14-day objection window starts."""
        return _action(evaluation_id, svc.acknowledge)


@evaluations.route("/<int:evaluation_id>/countersign")
class Countersign(MethodView):
    @evaluations.response(200, sc.EvaluationOut)
    def post(self, evaluation_id):
        """The atasan penilai countersigns; follow-up is planned."""
        return _action(evaluation_id, svc.countersign)


@evaluations.route("/<int:evaluation_id>/documents")
class Documents(MethodView):
    @evaluations.response(200, sc.DocumentOut(many=True))
    def get(self, evaluation_id):
        """Every signed version of the evaluation document with its content hash."""
        p = current_principal()
        with uow() as s:
            return svc.documents(s, svc.get_evaluation(s, p, evaluation_id))


@evaluations.route("/<int:evaluation_id>/document.pdf")
class DocumentPdf(MethodView):
    @evaluations.response(200)
    def get(self, evaluation_id):
        """The evaluation document as PDF (latest signed version, or a draft marked as such)."""
        from .document import render_pdf

        p = current_principal()
        with uow() as s:
            ev = svc.get_evaluation(s, p, evaluation_id)
            docs = svc.documents(s, ev)
            if docs:
                content, digest, version = docs[-1].content, docs[-1].content_hash, docs[-1].version
            else:
                content, digest, version = svc.document_content(s, ev), None, 0
            signatures = {
                "penilai": ev.signed_at,
                "employee": ev.acknowledged_at,
                "atasan_penilai": ev.countersigned_at,
            }  # the later signatures come after the freeze
        pdf = render_pdf(content, digest, version, lang=g.get("lang", "id"), signatures=signatures)
        return Response(
            pdf,
            mimetype="application/pdf",
            headers={"Content-Disposition": f'inline; filename="penilaian-{evaluation_id}-v{version}.pdf"'},
        )


@evaluations.route("/<int:evaluation_id>/peers")
class Peers(MethodView):
    @evaluations.arguments(sc.PeersIn)
    @evaluations.response(200, sc.PeerSummaryOut)
    def post(self, data, evaluation_id):
        """Nominate peer raters for behaviour feedback (the penilai)."""
        p = current_principal()
        with uow() as s:
            ev = svc.get_evaluation(s, p, evaluation_id)
            svc.nominate_peers(s, p, ev, data["rater_nips"])
            return svc.peer_summary(s, p, ev)


@evaluations.route("/<int:evaluation_id>/peer-feedback")
class PeerFeedback(MethodView):
    @evaluations.response(200, sc.PeerSummaryOut)
    def get(self, evaluation_id):
        """Peer feedback in aggregate only, and only once at least three raters answered."""
        p = current_principal()
        with uow() as s:
            ev = svc.get_evaluation(s, p, evaluation_id)
            return svc.peer_summary(s, p, ev)

    @evaluations.arguments(sc.PeerAnswerIn)
    @evaluations.response(201, sc.PeerSummaryOut)
    def post(self, data, evaluation_id):
        """Answer as a nominated peer rater (per BerAKHLAK value: above / meets / below)."""
        p = current_principal()
        with uow() as s:
            svc.answer_peer(s, p, evaluation_id, data)
            ev = s.get(Evaluation, evaluation_id)
            summary = svc.peer_summary(s, p, ev)
            return {**summary, "aggregate": None}  # a rater never sees the others' answers


@evaluations.route("/<int:evaluation_id>/objections")
class FileObjection(MethodView):
    @evaluations.arguments(sc.ObjectionIn)
    @evaluations.response(201, sc.ObjectionOut)
    def post(self, data, evaluation_id):
        """File an objection (the employee) within 14 days of acknowledging; one per evaluation."""
        p = current_principal()
        with uow() as s:
            return svc.file_objection(s, p, svc.get_evaluation(s, p, evaluation_id), data["reasons"])


# ------------------------------------------------------------------ objections


@objections.route("")
class Objections(MethodView):
    @objections.arguments(sc.ObjectionQuery, location="query")
    @objections.response(200, page_schema(sc.ObjectionOut))
    def get(self, args):
        """Objections HR of the agency sees (or, for a person, those they filed, answer as penilai or
        decide), by cycle, evaluation, status and decision."""
        from .models import Objection

        p = current_principal()
        with uow() as s:
            stmt = select(Objection)
            if not p.is_admin:
                if p.has("hr", "agency"):
                    stmt = stmt.where(Objection.agency_code == p.agency)
                else:
                    nip = p.nip or "\0"
                    as_penilai = select(Evaluation.id).where(Evaluation.penilai_nip == nip)
                    stmt = stmt.where(
                        (Objection.employee_nip == nip)
                        | (Objection.atasan_nip == nip)
                        | Objection.evaluation_id.in_(as_penilai)
                    )
            if "evaluation_id" in args:
                stmt = stmt.where(Objection.evaluation_id == args["evaluation_id"])
            if "cycle_id" in args:
                stmt = stmt.where(
                    Objection.evaluation_id.in_(select(Evaluation.id).where(Evaluation.cycle_id == args["cycle_id"]))
                )
            for key in ("status", "decision"):
                if key in args:
                    stmt = stmt.where(getattr(Objection, key) == args[key])
            return paginate(s, stmt, Objection.id, args.get("cursor"), args["limit"])


@objections.route("/<int:objection_id>")
class ObjectionItem(MethodView):
    @objections.response(200, sc.ObjectionOut)
    def get(self, objection_id):
        with uow() as s:
            obj, _ = svc.get_objection(s, current_principal(), objection_id)
            return obj


@objections.route("/<int:objection_id>/statements")
class Statements(MethodView):
    @objections.arguments(sc.StatementIn)
    @objections.response(201, sc.ObjectionOut)
    def post(self, data, objection_id):
        """A statement from the employee or the penilai (both sides are heard)."""
        p = current_principal()
        with uow() as s:
            obj, ev = svc.get_objection(s, p, objection_id)
            return svc.add_statement(s, p, obj, ev, data["text"])


@objections.route("/<int:objection_id>/decide")
class Decide(MethodView):
    @objections.arguments(sc.DecisionIn)
    @objections.response(200, sc.ObjectionOut)
    def post(self, data, objection_id):
        """The atasan penilai decides: upheld, or changed with new ratings (a new document version). Final."""
        p = current_principal()
        with uow() as s:
            obj, ev = svc.get_objection(s, p, objection_id)
            return svc.decide_objection(s, p, obj, ev, data)


# ------------------------------------------------------------------ calibration and HR views


@calibration.route("/org-results")
class OrgResults(MethodView):
    @calibration.arguments(sc.CalibrationQuery, location="query")
    @calibration.response(200, sc.OrgResultOut(many=True))
    def get(self, args):
        p = current_principal()
        with uow() as s:
            stmt = select(OrgResult).where(
                OrgResult.cycle_id == args["cycle_id"], OrgResult.agency_code == (p.agency or "\0")
            )
            if "unit_code" in args:
                stmt = stmt.where(OrgResult.unit_code == args["unit_code"])
            return list(s.scalars(stmt.order_by(OrgResult.period_seq, OrgResult.unit_code)))

    @calibration.arguments(sc.OrgResultIn)
    @calibration.response(200, sc.OrgResultOut)
    def put(self, data):
        """Set a unit's organisation result for a period (HR, or the head one level up)."""
        with uow() as s:
            return svc.set_org_result(s, current_principal(), data)


@calibration.route("/distribution-rules")
class Rules(MethodView):
    @calibration.response(200, sc.RulesOut)
    def get(self):
        """The agency's distribution rules (defaults from SE MenPANRB 3/2023 until HR edits them)."""
        from . import domain

        p = current_principal()
        with uow() as s:
            return {"rules": [domain.rule_to_dict(r) for r in svc.rules_for(s, p.agency or "")]}

    @calibration.arguments(sc.RulesIn)
    @calibration.response(200, sc.RulesOut)
    def put(self, data):
        """Replace the agency's distribution rules (HR)."""
        from . import domain

        with uow() as s:
            rules = svc.replace_rules(s, current_principal(), data["rules"])
            return {"rules": [domain.rule_to_dict(r) for r in rules]}


@calibration.route("/calibration")
class Calibration(MethodView):
    @calibration.arguments(sc.CalibrationQuery, location="query")
    @calibration.response(200, sc.CalibrationOut)
    def get(self, args):
        """Per unit: counts and percentages per predikat against the allowed band, and every violation."""
        with uow() as s:
            return svc.calibration(s, current_principal(), args["cycle_id"], args["period_seq"], args.get("unit_code"))


@calibration.route("/calibration/check")
class CalibrationCheck(MethodView):
    @calibration.arguments(sc.CalibrationQuery, location="query")
    @calibration.response(200, sc.CalibrationOut)
    def post(self, args):
        """Run the check and publish ``reviews.calibration.violation_found`` per unit in violation (HR)."""
        p = require_roles("hr")
        with uow() as s:
            return svc.check_calibration(s, p, args["cycle_id"], args["period_seq"])


@calibration.route("/calibration/overrides")
class Overrides(MethodView):
    @calibration.arguments(sc.OverrideIn)
    @calibration.response(201, sc.OverrideOut)
    def post(self, data):
        """HR records an override with a reason so a unit in violation can be signed off."""
        with uow() as s:
            return svc.record_override(s, current_principal(), data)


@calibration.route("/followups")
class FollowUps(MethodView):
    @calibration.arguments(sc.FollowUpQuery, location="query")
    @calibration.response(200, page_schema(sc.FollowUpOut))
    def get(self, args):
        """Development plans and recognitions (HR: the agency; others: their own and their team's)."""
        p = current_principal()
        with uow() as s:
            stmt = select(FollowUp)
            if not p.is_admin:
                if p.has("hr", "agency"):
                    stmt = stmt.where(FollowUp.agency_code == p.agency)
                else:
                    stmt = stmt.where(
                        (FollowUp.employee_nip == (p.nip or "\0")) | (FollowUp.owner_nip == (p.nip or "\0"))
                    )
            for key in ("cycle_id", "kind"):
                if key in args:
                    stmt = stmt.where(getattr(FollowUp, key) == args[key])
            return paginate(s, stmt, FollowUp.id, args.get("cursor"), args["limit"])


@calibration.route("/followups/<int:followup_id>")
class FollowUpItem(MethodView):
    @calibration.arguments(sc.FollowUpUpdate)
    @calibration.response(200, sc.FollowUpOut)
    def patch(self, data, followup_id):
        p = current_principal()
        with uow() as s:
            fu = s.get(FollowUp, followup_id)
            if fu is None or not (p.is_admin or p.agency == fu.agency_code):
                raise svc.not_found("followup", followup_id)
            return svc.update_follow_up(s, p, fu, data)


@calibration.route("/rater-consistency")
class Consistency(MethodView):
    @calibration.arguments(sc.ConsistencyQuery, location="query")
    @calibration.response(200, sc.ConsistencyOut)
    def get(self, args):
        """Per penilai: their rating distribution against their unit and agency, with a leniency (+) /
        severity (−) index (HR)."""
        with uow() as s:
            return svc.rater_consistency(s, current_principal(), args["cycle_id"], args.get("period_seq"))


@calibration.route("/read-model/rebuild")
class Rebuild(MethodView):
    @calibration.response(200, sc.RebuildOut)
    def post(self):
        """Rebuild the read model of people, units, cycles and approved SKPs from the plans API,
        with the caller's token (HR of the agency)."""
        require_roles("hr")
        base = current_app.extensions["kinerja"].settings.plans_url
        fetch = remote_fetcher(base, request.headers.get("Authorization", ""), "readmodel.plans_unreachable")

        with uow() as s:
            return {"counts": svc.rebuild_read_model(s, fetch)}


BLUEPRINTS = [evaluations, objections, calibration]
