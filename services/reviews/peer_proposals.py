"""Peer proposal: the employee proposes colleagues as peer raters, the penilai approves (or edits) the
list by nominating them (``POST …/peers``, which marks the proposal approved and sends each rater a
request), and each nominated rater finds the request in ``GET /evaluations?role=peer``.

The employee sees their own proposal and whether it was approved, never the list the penilai
nominated (the penilai may drop or add raters, and who rated must stay unknown to the rated employee:
the aggregate rules of ``peers.py`` still hold). A proposal names at least ``peer_min_raters``
colleagues of the agency — fewer could never be shown — and neither the employee nor the penilai."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.usecase import now, record, settings, validation

from .access import PREFIX, ev_ref, get_evaluation, in_agency, not_frozen, only_employee, uow
from .models import Evaluation, PeerProposal, PeerRater, Person
from .schemas import NIP_DOC, UtcDateTime

blp = Blueprint(
    "peer_proposals",
    __name__,
    url_prefix=f"{PREFIX}/evaluations",
    description="Peer proposal: the employee proposes peer raters, the penilai approves by nominating",
)

MAX_CANDIDATES = 200  # colleagues offered to choose from: the unit first, then the agency


class ProposalIn(Schema):
    rater_nips = fields.List(fields.String(metadata=NIP_DOC), required=True, validate=validate.Length(min=1, max=20))


class Candidate(Schema):
    nip = fields.String(required=True)
    name = fields.String(required=True)
    unit_name = fields.String(required=True)


class ProposalOut(Schema):
    status = fields.String(
        required=True, metadata={"description": "none | proposed | approved (the penilai nominated peers)"}
    )
    rater_nips = fields.List(fields.String(), required=True, metadata={"description": "as the employee proposed"})
    proposed = fields.List(fields.Nested(Candidate), required=True)
    proposed_at = UtcDateTime(allow_none=True, required=True)
    approved_at = UtcDateTime(allow_none=True, required=True)
    minimum = fields.Integer(required=True)
    candidates = fields.List(
        fields.Nested(Candidate),
        required=True,
        metadata={"description": "colleagues to choose from (to the employee and the penilai until approved)"},
    )


# ------------------------------------------------------------------ use cases


def _parties_only(p: Principal, ev: Evaluation) -> None:
    """The proposal is the employee's and the penilai's business (and HR's); the atasan reads no names."""
    if not (in_agency(p, ev.agency_code) or (p.nip and p.nip in (ev.employee_nip, ev.penilai_nip))):
        raise Problem(403, "evaluation.only_penilai")


def candidates(s: Session, ev: Evaluation) -> list[Person]:
    excluded = [n for n in (ev.employee_nip, ev.penilai_nip) if n]
    stmt = (
        select(Person)
        .where(Person.agency_code == ev.agency_code, Person.active.is_(True), Person.nip.not_in(excluded))
        .order_by(case((Person.unit_code == ev.unit_code, 0), else_=1), Person.name, Person.nip)
        .limit(MAX_CANDIDATES)
    )
    return list(s.scalars(stmt))


def proposal_view(s: Session, p: Principal, ev: Evaluation) -> dict:
    _parties_only(p, ev)
    prop = s.scalar(select(PeerProposal).where(PeerProposal.evaluation_id == ev.id))
    nominated = s.scalar(select(PeerRater.id).where(PeerRater.evaluation_id == ev.id).limit(1)) is not None
    nips = list(prop.rater_nips) if prop else []
    people = {x.nip: x for x in s.scalars(select(Person).where(Person.nip.in_(nips)))} if nips else {}
    status = "approved" if (prop and prop.approved_at) or nominated else ("proposed" if prop else "none")
    return {
        "status": status,
        "rater_nips": nips,
        "proposed": [
            {
                "nip": n,
                "name": people[n].name if n in people else n,
                "unit_name": getattr(people.get(n), "unit_name", ""),
            }
            for n in nips
        ],
        "proposed_at": prop.proposed_at if prop else None,
        "approved_at": prop.approved_at if prop else None,
        "minimum": int(settings().peer_min_raters),
        "candidates": candidates(s, ev) if p.nip in (ev.employee_nip, ev.penilai_nip) and status != "approved" else [],
    }


def propose_peers(s: Session, p: Principal, ev: Evaluation, nips: list[str]) -> PeerProposal:
    only_employee(p, ev)
    not_frozen(ev)
    errors = []
    for i, nip in enumerate(nips):
        person = s.get(Person, nip)
        if person is None or person.agency_code != ev.agency_code or not person.active:
            errors.append((f"rater_nips[{i}]", "peer.unknown"))
        elif nip == ev.employee_nip:
            errors.append((f"rater_nips[{i}]", "peer.self"))
        elif nip == ev.penilai_nip:
            errors.append((f"rater_nips[{i}]", "peer.is_penilai"))
        elif nip in nips[:i]:
            errors.append((f"rater_nips[{i}]", "peer.duplicate"))
    minimum = int(settings().peer_min_raters)
    if not errors and len(nips) < minimum:
        errors.append(("rater_nips", "peer.too_few"))
    if errors:
        raise validation(errors, minimum=minimum)
    if s.scalar(select(PeerRater.id).where(PeerRater.evaluation_id == ev.id).limit(1)) is not None:
        raise Problem(409, "peer.proposal_decided")
    prop = s.scalar(select(PeerProposal).where(PeerProposal.evaluation_id == ev.id))
    before = {"raters": list(prop.rater_nips)} if prop else None
    if prop is None:
        prop = PeerProposal(evaluation_id=ev.id, rater_nips=list(nips), proposed_at=now())
        s.add(prop)
    else:
        prop.rater_nips, prop.proposed_at = list(nips), now()
    s.flush()
    record(
        s,
        p,
        "peers.proposed",
        "evaluation",
        ev.id,
        before=before,
        after={"raters": list(nips)},
        agency=ev.agency_code,  # no subject, like the nomination: raters stay out of the employee's audit view
        event="reviews.peers.proposed",
        data=ev_ref(ev) | {"proposed": len(nips)},
    )
    return prop


def approve_proposal(s: Session, ev: Evaluation) -> None:
    """Called by the nomination: the proposal (if any) is decided, whatever the penilai kept of it."""
    prop = s.scalar(select(PeerProposal).where(PeerProposal.evaluation_id == ev.id))
    if prop is not None and prop.approved_at is None:
        prop.approved_at = now()


# ------------------------------------------------------------------ HTTP


@blp.route("/<int:evaluation_id>/peer-proposal")
class Proposal(MethodView):
    @blp.response(200, ProposalOut)
    def get(self, evaluation_id):
        """The peer proposal and whether the penilai approved it (the employee, the penilai, HR); until
        then the employee and the penilai also get the colleagues to choose from."""
        p = current_principal()
        with uow() as s:
            ev = get_evaluation(s, p, evaluation_id)
            return proposal_view(s, p, ev)

    @blp.arguments(ProposalIn)
    @blp.response(200, ProposalOut)
    def put(self, data, evaluation_id):
        """Propose peer raters (the employee), until the penilai nominates; the penilai is notified."""
        p = current_principal()
        with uow() as s:
            ev = get_evaluation(s, p, evaluation_id)
            propose_peers(s, p, ev, data["rater_nips"])
            return proposal_view(s, p, ev)
