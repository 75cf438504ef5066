"""Evaluations: the list and the detail, the employee's self-assessment, and the penilai's rating
of results and behaviour against the suggested ratings hasil kerja and perilaku kerja (DOMAIN.md §4;
the rules in ``domain.suggest_hasil`` and ``domain.suggest_perilaku``)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import PageArgs, page_schema, paginate, with_etag
from services.common.usecase import now, record, settings, validation

from . import domain, peers
from .access import (
    ANNUAL,
    PREFIX,
    ev_ref,
    evaluation_action,
    get_evaluation,
    guard,
    not_frozen,
    only_employee,
    only_penilai,
    rated_ref,
    refuse_machine_client,
    stands_for,
    uow,
)
from .models import Evaluation, PeerRater, PlanRef, RealisationRef
from .orgresults import org_result_of
from .schemas import PREDIKAT, RATING, SEQ, TEXT, EvaluationOut, EvaluationSummary

blp = Blueprint(
    "evaluations",
    __name__,
    url_prefix=f"{PREFIX}/evaluations",
    description="Evaluations: the list and the detail, self-assessment, rating",
)


# ------------------------------------------------------------------ schemas


class EvaluationQuery(PageArgs):
    cycle_id = fields.Integer()
    period_seq = fields.Integer(validate=SEQ)
    unit_code = fields.String()
    status = fields.String()
    predikat = fields.String(validate=PREDIKAT)
    employee_nip = fields.String()
    role = fields.String(
        validate=validate.OneOf(("employee", "penilai", "atasan", "peer")),
        metadata={"description": "peer: the evaluations I am asked to give peer feedback on, not answered yet"},
    )


class SelfAssessmentIn(Schema):
    achievements = fields.String(load_default=None, allow_none=True, validate=TEXT)
    challenges = fields.String(load_default=None, allow_none=True, validate=TEXT)
    improvement_plan = fields.String(load_default=None, allow_none=True, validate=TEXT)
    iki_comments = fields.Dict(keys=fields.String(), values=fields.String(validate=TEXT), load_default=dict)


class SelfAssessmentSubmitIn(Schema):
    """What the submit changes in the saved draft: a field left out keeps the draft's (no body submits
    the draft as saved), a field given replaces it."""

    achievements = fields.String(allow_none=True, validate=TEXT)
    challenges = fields.String(allow_none=True, validate=TEXT)
    improvement_plan = fields.String(allow_none=True, validate=TEXT)
    iki_comments = fields.Dict(keys=fields.String(), values=fields.String(validate=TEXT))


class ValueFeedback(Schema):
    level = fields.String(required=True, validate=RATING)
    text = fields.String(load_default="", validate=TEXT)


class RatingIn(Schema):
    rating_hasil = fields.String(required=True, validate=RATING)
    rating_perilaku = fields.String(required=True, validate=RATING)
    deviation_reason = fields.String(load_default=None, allow_none=True, validate=TEXT)
    perilaku_deviation_reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=TEXT,
        metadata={"description": "required when rating_perilaku departs from an assessable suggested rating perilaku"},
    )
    iki_feedback = fields.Dict(keys=fields.String(), values=fields.String(validate=TEXT), load_default=dict)
    iki_judgements = fields.Dict(
        keys=fields.String(),
        values=fields.String(validate=RATING),
        load_default=dict,
        metadata={"description": "per-IKI judgement for qualitative indicators"},
    )
    value_feedback = fields.Dict(keys=fields.String(), values=fields.Nested(ValueFeedback), load_default=dict)
    perilaku_below_values = fields.List(
        fields.String(),
        load_default=list,
        metadata={"description": "BerAKHLAK value codes behind a 'below' rating_perilaku; required then"},
    )
    notes = fields.String(load_default=None, allow_none=True, validate=TEXT)
    recommendations = fields.String(load_default=None, allow_none=True, validate=TEXT)


#: The levels the penilai is about to record per BerAKHLAK value (as the rating's ``value_feedback`` would):
#: the perilaku suggestion is computed from them, the peers' majority filling the values left out.
SuggestionQuery = Schema.from_dict(
    {
        code: fields.String(validate=RATING, metadata={"description": f"the penilai's level: {code}"})
        for code in domain.BERAKHLAK
    },
    name="SuggestionQuery",
)


#: what a peer rater's list shows of an evaluation: whom and which period, nothing of the appraisal
PEER_VIEW = ("id", "cycle_id", "kind", "period_seq", "period_name", "employee_nip", "employee_name", "unit_code")


# ------------------------------------------------------------------ use cases


def evaluation_query(s: Session, p: Principal, args: dict):
    refuse_machine_client(p)
    stmt = select(Evaluation)
    if args.get("role") == "peer":  # open peer requests, whoever asks (HR and admin rate as people too)
        asked = select(PeerRater.evaluation_id).where(
            PeerRater.rater_nip == (p.nip or "\0"), PeerRater.answered_at.is_(None)
        )
        frozen = [st for st in domain.EVALUATION_STATUSES if domain.frozen(st)]
        stmt = stmt.where(Evaluation.id.in_(asked), Evaluation.status.not_in(frozen))
    elif p.is_admin:
        pass
    elif p.has("hr"):
        stmt = stmt.where(Evaluation.agency_code == p.agency)
    else:
        nip = p.nip or "\0"
        officials = stands_for(s, p) or {nip}  # the caller, and whom they stand in for today (Plt/Plh)
        role = args.get("role")
        if role == "penilai":  # never one's own evaluation, which a Plh of one's penilai may not rate
            stmt = stmt.where(Evaluation.penilai_nip.in_(officials), Evaluation.employee_nip != nip)
        elif role == "atasan":
            stmt = stmt.where(Evaluation.atasan_nip.in_(officials), Evaluation.employee_nip != nip)
        elif role == "employee":
            stmt = stmt.where(Evaluation.employee_nip == nip)
        else:
            stmt = stmt.where(
                (Evaluation.employee_nip == nip)
                | Evaluation.penilai_nip.in_(officials)
                | Evaluation.atasan_nip.in_(officials)
            )
    for key in ("cycle_id", "period_seq", "unit_code", "status", "predikat", "employee_nip"):
        if key in args:
            stmt = stmt.where(getattr(Evaluation, key) == args[key])
    return stmt


def _iki_ids(s: Session, ev: Evaluation) -> set[str]:
    plan = s.get(PlanRef, ev.plan_id)
    return {i["id"] for r in plan.content["rhk"] for i in r["iki"]}


def save_self_assessment(s: Session, p: Principal, ev: Evaluation, data: dict, *, submit: bool = False) -> Evaluation:
    only_employee(p, ev)
    not_frozen(ev)
    guard(s, ev, "self_assess")
    if ev.status != "open":
        raise Problem(409, "evaluation.transition", status=ev.status, action="self_assess")
    iki_ids = _iki_ids(s, ev)
    unknown = [k for k in (data.get("iki_comments") or {}) if k not in iki_ids]
    if unknown:
        raise validation([(f"iki_comments.{k}", "iki.unknown") for k in unknown])
    before = dict(ev.self_assessment or {})
    ev.self_assessment = {**before, **data}
    if submit:
        missing = [f for f in ("achievements", "challenges", "improvement_plan") if not ev.self_assessment.get(f)]
        if missing:
            raise validation([(f, "field.required") for f in missing])
        ev.status = domain.evaluation_transition(ev.status, "self_assess")
        ev.self_submitted_at = now()
    ev.updated_at = now()
    s.flush()
    record(
        s,
        p,
        "self_assessment.submitted" if submit else "self_assessment.saved",
        "evaluation",
        ev.id,
        before=before,
        after=ev.self_assessment,
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.self_assessment.submitted" if submit else None,
        data=ev_ref(ev),
    )
    return ev


def latest_realisations(s: Session, ev: Evaluation) -> dict[str, RealisationRef]:
    """Per IKI, the realisation the evaluation rates: its period's (annual: the latest period recorded)."""
    latest: dict[str, RealisationRef] = {}
    for r in s.scalars(select(RealisationRef).where(RealisationRef.plan_id == ev.plan_id)):
        if ev.period_seq == ANNUAL or r.period_seq == ev.period_seq:
            if r.iki_id not in latest or r.period_seq > latest[r.iki_id].period_seq:
                latest[r.iki_id] = r
    return latest


def _threshold() -> float:
    return float(settings().suggest_threshold)


def suggestion_for(s: Session, ev: Evaluation, judgements: dict | None = None) -> domain.Suggestion:
    plan = s.get(PlanRef, ev.plan_id)
    latest = latest_realisations(s, ev)
    judgements = judgements or {}
    rhk = []
    for r in plan.content["rhk"]:
        iki = tuple(
            domain.IkiInput(
                id=i["id"],
                aspect=i["aspect"],
                target_value=i.get("target_value"),
                realisation=latest[i["id"]].value if i["id"] in latest else None,
                judgement=judgements.get(i["id"]),
            )
            for i in r["iki"]
        )
        rhk.append(domain.RhkInput(id=r["id"], kind=r["kind"], iki=iki))
    return domain.suggest_hasil(rhk, _threshold())


def suggestion_dict(sug: domain.Suggestion) -> dict:
    return {
        "rating": sug.rating,
        "reason": sug.reason,
        "counts": dict(sug.counts),
        "rhk": [
            {
                "id": r.id,
                "kind": r.kind,
                "level": r.level,
                "iki": [
                    {"id": i.id, "achievement": i.achievement, "level": i.level, "reason": i.reason} for i in r.iki
                ],
            }
            for r in sug.rhk
        ],
    }


def peer_levels(s: Session, ev: Evaluation) -> dict | None:
    """The peers' answers per value, only once their aggregate is shown (round closed with enough answers):
    earlier, a suggestion moving with the next answer would reveal that answer."""
    raters = s.scalars(select(PeerRater).where(PeerRater.evaluation_id == ev.id)).all()
    if not peers.round_closed(ev, raters):
        return None
    return domain.peer_aggregate([r.answers for r in raters if r.answers], int(settings().peer_min_raters))


def perilaku_suggestion_for(s: Session, ev: Evaluation, levels: dict | None) -> domain.PerilakuSuggestion:
    return domain.suggest_perilaku(levels or {}, peer_levels(s, ev))


def perilaku_dict(sug: domain.PerilakuSuggestion) -> dict:
    return {
        "rating": sug.rating,
        "reason": sug.reason,
        "counts": dict(sug.counts),
        "below_values": list(sug.below_values),
        "values": [{"code": v.code, "level": v.level, "reason": v.reason, "peers": v.peers} for v in sug.values],
    }


def rate(s: Session, p: Principal, ev: Evaluation, data: dict) -> Evaluation:
    only_penilai(p, ev)
    not_frozen(ev)
    guard(s, ev, "rate")
    if settings().require_self_assessment and ev.status == "open":
        raise Problem(409, "evaluation.self_assessment_required")
    new_status = domain.evaluation_transition(ev.status, "rate")
    before = {"status": ev.status, "rating_hasil": ev.rating_hasil, "rating_perilaku": ev.rating_perilaku}
    _apply_rating(s, ev, data)  # after ``before`` was taken: a re-rating records the ratings it replaced
    ev.status, ev.rated_at, ev.rated_by, ev.updated_at = new_status, now(), p.sub, now()
    s.flush()
    record(
        s,
        p,
        "evaluation.rated",
        "evaluation",
        ev.id,
        before=before,
        after={
            "rating_hasil": ev.rating_hasil,
            "rating_perilaku": ev.rating_perilaku,
            "predikat": ev.predikat,
            "suggested_hasil": ev.suggested_hasil,
            "deviation_reason": ev.deviation_reason,
            "suggested_perilaku": ev.suggested_perilaku,
            "perilaku_deviation_reason": ev.perilaku_deviation_reason,
            "perilaku_below_values": ev.perilaku_below_values,
        },
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.evaluation.rated",
        data=rated_ref(ev),
    )
    return ev


def _apply_rating(s: Session, ev: Evaluation, data: dict) -> None:
    iki_ids = _iki_ids(s, ev)
    errors = [(f"iki_feedback.{k}", "iki.unknown") for k in (data.get("iki_feedback") or {}) if k not in iki_ids]
    errors += [(f"iki_judgements.{k}", "iki.unknown") for k in (data.get("iki_judgements") or {}) if k not in iki_ids]
    errors += [
        (f"value_feedback.{k}", "behaviour.unknown_value")
        for k in (data.get("value_feedback") or {})
        if k not in domain.BERAKHLAK
    ]
    below_values = data.get("perilaku_below_values") or []
    errors += [
        (f"perilaku_below_values[{i}]", "behaviour.unknown_value")
        for i, v in enumerate(below_values)
        if v not in domain.BERAKHLAK
    ]
    if data["rating_perilaku"] == "below" and not below_values:  # DOMAIN.md: a "below" names its values
        errors.append(("perilaku_below_values", "rating.perilaku_below_values_required"))
    if errors:
        raise validation(errors)
    sug = suggestion_for(s, ev, data.get("iki_judgements"))
    levels = {k: (v or {}).get("level") for k, v in (data.get("value_feedback") or {}).items()}
    psug = perilaku_suggestion_for(s, ev, levels)
    perilaku = data["rating_perilaku"]
    hasil = data["rating_hasil"]
    org = org_result_of(s, ev)
    if ev.is_head_of_unit and settings().head_takes_org_result:
        if org is None:
            raise Problem(409, "org_result.missing", unit_code=ev.unit_code, period=ev.period_name)
        hasil = domain.org_result_to_hasil(org)
    elif sug.rating is not None and hasil != sug.rating and not (data.get("deviation_reason") or "").strip():
        errors.append(("deviation_reason", "rating.deviation_reason_required", {"suggested": sug.rating}))
    if (
        psug.rating is not None
        and perilaku != psug.rating
        and not (data.get("perilaku_deviation_reason") or "").strip()
    ):
        errors.append(
            ("perilaku_deviation_reason", "rating.perilaku_deviation_reason_required", {"suggested": psug.rating})
        )
    if errors:
        raise validation(errors)
    ev.iki_feedback = data.get("iki_feedback") or {}
    ev.value_feedback = data.get("value_feedback") or {}
    # kept in BerAKHLAK order, once each; only a "below" rating names values
    ev.perilaku_below_values = (
        [v for v in domain.BERAKHLAK if v in below_values] if data["rating_perilaku"] == "below" else None
    )
    ev.suggestion, ev.suggested_hasil = suggestion_dict(sug), sug.rating
    ev.rating_hasil, ev.rating_perilaku = hasil, data["rating_perilaku"]
    ev.deviation_reason = (data.get("deviation_reason") or None) if hasil != sug.rating else None
    ev.perilaku_suggestion, ev.suggested_perilaku = perilaku_dict(psug), psug.rating
    ev.perilaku_deviation_reason = (data.get("perilaku_deviation_reason") or None) if perilaku != psug.rating else None
    ev.predikat = domain.predikat(ev.rating_hasil, ev.rating_perilaku)
    ev.org_result = org
    ev.notes, ev.recommendations = data.get("notes"), data.get("recommendations")


def suggest_preview(s: Session, p: Principal, ev: Evaluation, levels: dict | None = None) -> dict:
    """The suggested rating hasil kerja (as before) with the suggested rating perilaku under ``perilaku``:
    from the ``levels`` given per value, else the peers' majority once their aggregate is shown."""
    return suggestion_dict(suggestion_for(s, ev)) | {"perilaku": perilaku_dict(perilaku_suggestion_for(s, ev, levels))}


# ------------------------------------------------------------------ HTTP


@blp.route("")
class Evaluations(MethodView):
    @blp.arguments(EvaluationQuery, location="query")
    @blp.response(200, page_schema(EvaluationSummary))
    def get(self, args):
        """Evaluations the caller may see: their own, those they rate (``role=penilai``) or
        countersign (``role=atasan``); HR their agency. Filters: cycle, period, unit, status, predikat.
        ``role=peer``: the open peer requests of the caller, each with who and which period only."""
        p = current_principal()
        with uow() as s:
            page = paginate(s, evaluation_query(s, p, args), Evaluation.id, args.get("cursor"), args["limit"])
            if args.get("role") == "peer":  # a peer learns whom and which period, nothing of the appraisal
                page["items"] = [{k: getattr(ev, k) for k in PEER_VIEW} for ev in page["items"]]
            return page


@blp.route("/<int:evaluation_id>")
class EvaluationItem(MethodView):
    @blp.response(200, EvaluationOut)
    def get(self, evaluation_id):
        with uow() as s:
            return with_etag(get_evaluation(s, current_principal(), evaluation_id))


@blp.route("/<int:evaluation_id>/suggestion")
class Suggestion(MethodView):
    @blp.arguments(SuggestionQuery, location="query")
    @blp.response(200)
    def get(self, args, evaluation_id):
        """The suggested rating hasil kerja with the per-IKI and per-RHK classification behind it, and under
        ``perilaku`` the suggested rating perilaku kerja with its per-value classification: each value from
        the level given in the query (the penilai's, as they would record it with the rating), else the
        peers' majority once their aggregate is shown, else not assessable; below when a value is below,
        above when more than half of the assessable values are above, else meets."""
        p = current_principal()
        with uow() as s:
            return suggest_preview(s, p, get_evaluation(s, p, evaluation_id), dict(args))


@blp.route("/<int:evaluation_id>/self-assessment")
class SelfAssessment(MethodView):
    @blp.arguments(SelfAssessmentIn)
    @blp.response(200, EvaluationOut)
    def put(self, data, evaluation_id):
        """Save my self-assessment as a draft (the employee); requires If-Match."""
        return evaluation_action(evaluation_id, save_self_assessment, data, if_match=True)


@blp.route("/<int:evaluation_id>/self-assessment/submit")
class SelfAssessmentSubmit(MethodView):
    @blp.arguments(SelfAssessmentSubmitIn, required=False)
    @blp.response(200, EvaluationOut)
    def post(self, data, evaluation_id):
        """Submit my self-assessment: the saved draft with the fields given here replacing its own (no body:
        the draft as saved); achievements, challenges and improvement plan required in the result."""
        return evaluation_action(evaluation_id, lambda s, p, ev: save_self_assessment(s, p, ev, data, submit=True))


@blp.route("/<int:evaluation_id>/rating")
class Rating(MethodView):
    @blp.arguments(RatingIn)
    @blp.response(200, EvaluationOut)
    def put(self, data, evaluation_id):
        """Rate results and behaviour (the penilai); requires If-Match. Departing from the suggested
        rating hasil kerja needs ``deviation_reason``, from the suggested rating perilaku kerja (from the
        levels in ``value_feedback``, else the peers' majority) ``perilaku_deviation_reason``; the predikat
        follows the matrix."""
        return evaluation_action(evaluation_id, rate, data, if_match=True)
