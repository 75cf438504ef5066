"""Peer feedback on behaviour: the penilai nominates colleagues, each answers per BerAKHLAK value
(above / meets / below), and the parties see the answers only in aggregate (DOMAIN.md §4).

The aggregate must not reveal any single answer, so it is shown once, final: when at least
``peer_min_raters`` answered AND the round is closed — every nominated rater answered (no rater can be
added after that) or the evaluation is frozen (no answer is taken after that). Shown earlier, the next
answer would change it by exactly that answer. The nominated raters are never in an audit row the rated
employee can read (the nomination's row has no ``subject``; HR sees it by agency)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.usecase import emit, not_found, now, record, settings, validation

from . import domain, peer_proposals
from .access import PREFIX, get_evaluation, not_frozen, only_penilai, uow
from .models import Evaluation, PeerRater, Person
from .schemas import NIP_DOC, RATING, TEXT

blp = Blueprint(
    "peers", __name__, url_prefix=f"{PREFIX}/evaluations", description="Peer feedback on behaviour, in aggregate"
)


class PeersIn(Schema):
    rater_nips = fields.List(fields.String(metadata=NIP_DOC), required=True, validate=validate.Length(min=1, max=20))


class PeerAnswerIn(Schema):
    answers = fields.Dict(
        keys=fields.String(), values=fields.String(validate=RATING), required=True, validate=validate.Length(min=1)
    )
    comment = fields.String(load_default=None, allow_none=True, validate=TEXT)


class PeerSummaryOut(Schema):
    nominated = fields.Integer(required=True)
    answered = fields.Integer(required=True)
    minimum = fields.Integer(required=True)
    closed = fields.Boolean(
        required=True, metadata={"description": "every nominated rater answered (or the evaluation is frozen)"}
    )
    aggregate = fields.Dict(
        allow_none=True,
        required=True,
        metadata={"description": "per BerAKHLAK value; null until the round is closed with enough answers"},
    )


# ------------------------------------------------------------------ use cases


def nominate_peers(s: Session, p: Principal, ev: Evaluation, nips: list[str]) -> list[PeerRater]:
    only_penilai(p, ev)
    not_frozen(ev)
    errors = []
    for i, nip in enumerate(nips):
        person = s.get(Person, nip)
        if person is None or person.agency_code != ev.agency_code:
            errors.append((f"rater_nips[{i}]", "peer.unknown"))
        elif nip == ev.employee_nip:
            errors.append((f"rater_nips[{i}]", "peer.self"))
        elif nip in (ev.penilai_nip, p.nip):
            errors.append((f"rater_nips[{i}]", "peer.penilai"))
    if errors:
        raise validation(errors)
    raters = s.scalars(select(PeerRater).where(PeerRater.evaluation_id == ev.id)).all()
    if round_closed(ev, raters):
        raise Problem(409, "peer.round_closed")
    existing = {r.rater_nip for r in raters}
    added = list(dict.fromkeys(n for n in nips if n not in existing))
    for nip in added:
        s.add(PeerRater(evaluation_id=ev.id, rater_nip=nip, nominated_by=p.sub))
    peer_proposals.approve_proposal(s, ev)
    s.flush()
    employee = s.get(Person, ev.employee_nip)
    for nip in added:  # each rater is asked (notified); the rated employee reads no event
        emit(s, "reviews.peer.requested", ev.id, peer_request_ref(ev, employee, nip))
    record(
        s,
        p,
        "peers.nominated",
        "evaluation",
        ev.id,
        after={"raters": sorted(set(nips) | existing)},
        agency=ev.agency_code,  # no subject: the rated employee's audit view must not list the raters
    )
    return list(s.scalars(select(PeerRater).where(PeerRater.evaluation_id == ev.id)))


def peer_request_ref(ev: Evaluation, employee: Person | None, rater_nip: str) -> dict:
    """The payload of ``reviews.peer.requested`` (``events.PeerRequested``)."""
    return {
        "evaluation_id": ev.id,
        "cycle_id": ev.cycle_id,
        "agency_code": ev.agency_code,
        "period_name": ev.period_name,
        "employee_nip": ev.employee_nip,
        "employee_name": employee.name if employee else ev.employee_nip,
        "rater_nip": rater_nip,
    }


def answer_peer(s: Session, p: Principal, evaluation_id: int, data: dict) -> PeerRater:
    rater = s.scalar(
        select(PeerRater).where(PeerRater.evaluation_id == evaluation_id, PeerRater.rater_nip == (p.nip or "\0"))
    )
    if rater is None:
        raise not_found("evaluation", evaluation_id)
    ev = s.get(Evaluation, evaluation_id)
    not_frozen(ev)
    unknown = [k for k in data["answers"] if k not in domain.BERAKHLAK]
    if unknown:
        raise validation([(f"answers.{k}", "behaviour.unknown_value") for k in unknown])
    if rater.answered_at is not None:
        raise Problem(409, "peer.already_answered")
    rater.answers, rater.comment, rater.answered_at = data["answers"], data.get("comment"), now()
    s.flush()
    record(s, p, "peer.answered", "evaluation", ev.id, after={"rater": "anonymous"}, agency=ev.agency_code)
    return rater


def round_closed(ev: Evaluation, raters) -> bool:
    """Whether the peer round is over: enough raters, every one of them answered, or the evaluation is
    frozen. From then on the aggregate is final, so showing it reveals no single answer."""
    answered = sum(1 for r in raters if r.answers)
    if answered < int(settings().peer_min_raters):
        return False
    return answered == len(raters) or domain.frozen(ev.status)


def peer_summary(s: Session, p: Principal, ev: Evaluation) -> dict:
    raters = s.scalars(select(PeerRater).where(PeerRater.evaluation_id == ev.id)).all()
    answers = [r.answers for r in raters if r.answers]
    minimum = int(settings().peer_min_raters)
    return {
        "nominated": len(raters),
        "answered": len(answers),
        "minimum": minimum,
        "closed": round_closed(ev, raters),
        "aggregate": domain.peer_aggregate(answers, minimum) if round_closed(ev, raters) else None,
    }


# ------------------------------------------------------------------ HTTP


@blp.route("/<int:evaluation_id>/peers")
class Peers(MethodView):
    @blp.arguments(PeersIn)
    @blp.response(200, PeerSummaryOut)
    def post(self, data, evaluation_id):
        """Nominate peer raters for behaviour feedback (the penilai)."""
        p = current_principal()
        with uow() as s:
            ev = get_evaluation(s, p, evaluation_id)
            nominate_peers(s, p, ev, data["rater_nips"])
            return peer_summary(s, p, ev)


@blp.route("/<int:evaluation_id>/peer-feedback")
class PeerFeedback(MethodView):
    @blp.response(200, PeerSummaryOut)
    def get(self, evaluation_id):
        """Peer feedback in aggregate only: once at least ``peer_min_raters`` answered and the round is
        closed (every nominated rater answered, or the evaluation is frozen), so no single answer shows."""
        p = current_principal()
        with uow() as s:
            ev = get_evaluation(s, p, evaluation_id)
            return peer_summary(s, p, ev)

    @blp.arguments(PeerAnswerIn)
    @blp.response(201, PeerSummaryOut)
    def post(self, data, evaluation_id):
        """Answer as a nominated peer rater (per BerAKHLAK value: above / meets / below)."""
        p = current_principal()
        with uow() as s:
            answer_peer(s, p, evaluation_id, data)
            ev = s.get(Evaluation, evaluation_id)
            summary = peer_summary(s, p, ev)
            return {**summary, "aggregate": None}  # a rater never sees the others' answers
