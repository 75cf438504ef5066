"""The sign-off chain (DOMAIN.md §6): the penilai signs (the document is frozen with its content
hash; blocked while the unit breaks the distribution curve without an override), the employee
acknowledges receipt (the objection window starts), and the atasan penilai countersigns (follow-up
is planned). Each step appends a version of the document (``evaluation_documents`` is append-only)
whose content adds the step with its time and the hash of the version before, so the latest hash
covers the whole chain."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.common.errors import Problem
from services.common.usecase import now, platform, record

from . import domain
from .access import PREFIX, ev_ref, evaluation_action, guard, only_atasan, only_employee, only_penilai
from .calibration import calibration
from .document import UNREAD, store_document
from .followup import plan_follow_up
from .models import Evaluation
from .objections import objection_days
from .results import result_changed
from .schemas import EvaluationOut

blp = Blueprint(
    "signoff",
    __name__,
    url_prefix=f"{PREFIX}/evaluations",
    description="The sign-off chain: the penilai signs, the employee acknowledges, the atasan countersigns",
)
SYSTEM = Principal(sub="system", roles=frozenset({"admin"}))  # reads the whole unit's calibration


def sign(s: Session, p: Principal, ev: Evaluation) -> Evaluation:
    acting = only_penilai(p, ev)
    # held to the end: the session's identity map keeps only objects referenced somewhere, and the
    # calibration, the document and the event read the same cycle (one statement, not three)
    cycle = guard(s, ev, "sign")
    new_status = domain.evaluation_transition(ev.status, "sign")
    unit = calibration(s, SYSTEM, ev.cycle_id, ev.period_seq, ev.unit_code)["units"]
    if unit and unit[0]["sign_off_blocked"]:
        raise Problem(409, "calibration.blocked", unit_code=ev.unit_code, violations=unit[0]["violations"])
    ev.status, ev.signed_at, ev.signed_by, ev.updated_at = new_status, now(), p.sub, now()
    ev.signed_acting = acting  # a Plt/Plh signs as such: the document names them
    s.flush()
    # the unit's organisation result, as the curve check just read it, goes into the document
    store_document(s, ev, "signed", org_result=unit[0]["org_result"] if unit else UNREAD)
    s.flush()
    record(
        s,
        p,
        "evaluation.signed",
        "evaluation",
        ev.id,
        after={"content_hash": ev.content_hash, "acting": acting},
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.evaluation.signed",
        data=ev_ref(ev) | {"content_hash": ev.content_hash},
    )
    del cycle
    return ev


def acknowledge(s: Session, p: Principal, ev: Evaluation) -> Evaluation:
    only_employee(p, ev)
    guard(s, ev, "acknowledge")
    ev.status = domain.evaluation_transition(ev.status, "acknowledge")
    ev.acknowledged_at, ev.updated_at = now(), now()
    s.flush()
    store_document(s, ev, "acknowledged", regather=False)  # a new version: the hash covers the receipt
    s.flush()
    closes_on = domain.objection_closes_on(platform().local_date(ev.acknowledged_at), objection_days())
    record(
        s,
        p,
        "evaluation.acknowledged",
        "evaluation",
        ev.id,
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.evaluation.acknowledged",
        data=ev_ref(ev) | {"objection_closes_on": closes_on},
    )
    return ev


def countersign(s: Session, p: Principal, ev: Evaluation) -> Evaluation:
    acting = only_atasan(p, ev)
    cycle = guard(s, ev, "countersign")  # held to the end, as in sign: the follow-up reads it again
    ev.status = domain.evaluation_transition(ev.status, "countersign")
    ev.countersigned_at, ev.countersigned_by, ev.updated_at = now(), p.sub, now()
    ev.countersigned_acting = acting
    s.flush()
    store_document(s, ev, "countersigned", regather=False)  # a new version: the hash covers the countersignature
    s.flush()
    record(
        s,
        p,
        "evaluation.countersigned",
        "evaluation",
        ev.id,
        after={"content_hash": ev.content_hash, "acting": acting},
        agency=ev.agency_code,
        subject=ev.employee_nip,
        event="reviews.evaluation.countersigned",
        data=ev_ref(ev) | {"content_hash": ev.content_hash},
    )
    result_changed(s, ev, "reviews.result.finalized")  # final: in the results feed from now (results.py)
    plan_follow_up(s, ev)
    del cycle
    return ev


# ------------------------------------------------------------------ HTTP


@blp.route("/<int:evaluation_id>/sign")
class Sign(MethodView):
    @blp.response(200, EvaluationOut)
    def post(self, evaluation_id):
        """The penilai signs: the content is frozen and its hash stored (blocked while the unit breaks the curve)."""
        return evaluation_action(evaluation_id, sign)


@blp.route("/<int:evaluation_id>/acknowledge")
class Acknowledge(MethodView):
    @blp.response(200, EvaluationOut)
    def post(self, evaluation_id):
        """The employee acknowledges receipt; the 14-day objection window starts."""
        return evaluation_action(evaluation_id, acknowledge)


@blp.route("/<int:evaluation_id>/countersign")
class Countersign(MethodView):
    @blp.response(200, EvaluationOut)
    def post(self, evaluation_id):
        """The atasan penilai countersigns; follow-up is planned."""
        return evaluation_action(evaluation_id, countersign)
