"""Who may read and act on an evaluation, and when: HR of the agency, the employee, the penilai
and the atasan penilai — or an acting official (Plt/Plh) standing in for either today; the cycle
stage each action needs; the frozen signed document. Also what
every capability module shares: the API's URL prefix, the view helper that loads an evaluation,
and the evaluation's reference in the events it publishes."""

from __future__ import annotations

from flask import request
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from services.common.auth import Principal, current_principal
from services.common.errors import Problem
from services.common.http import require_if_match, with_etag
from services.common.usecase import by_id, load_by_id, not_found, platform, today

from . import domain
from .models import ActingRef, CycleRef, Evaluation, Person

PREFIX = "/reviews/api/v1"
ANNUAL = 0  # period_seq of the annual evaluation


def uow():
    """The unit of work (a session in one transaction) of the reviews database."""
    return platform().uow()


# ------------------------------------------------------------------ who


def in_agency(p: Principal, agency: str, roles=("hr",)) -> bool:
    return p.is_admin or (p.has(*roles) and p.agency == agency)


def machine_client(p: Principal) -> bool:
    """A machine client of an agency: role ``agency``, no person behind the token (no NIP), not HR."""
    return p.has("agency") and not (p.is_admin or p.has("hr") or p.nip)


def refuse_machine_client(p: Principal) -> None:
    """403 ``auth.person_data``: a machine client reads the calibration aggregate, organisation results
    and rules, never a person's appraisal (evaluations, documents, peers, objections, follow-up) —
    whether it exists or not. Scopes may open some later."""
    if machine_client(p):
        raise Problem(403, "auth.person_data")


def acting_today(s: Session, acting_nip: str | None, for_nip: str | None = None):
    """The appointments (Plt/Plh) ``acting_nip`` holds today — for ``for_nip`` only, when given."""
    if not acting_nip:
        return []
    on = today()
    stmt = select(ActingRef).where(
        ActingRef.acting_nip == acting_nip, ActingRef.start_date <= on, ActingRef.end_date >= on
    )
    if for_nip is not None:
        stmt = stmt.where(ActingRef.for_nip == for_nip)
    return s.scalars(stmt.order_by(ActingRef.id)).all()


def stands_for(s: Session, p: Principal) -> set[str]:
    """The caller's NIP and those of the officials they stand in for today (Plt/Plh)."""
    if not p.nip:
        return set()
    return {p.nip} | {a.for_nip for a in acting_today(s, p.nip)}


def acting_party(s: Session, p: Principal, for_nip: str | None) -> dict | None:
    """Who acts in ``for_nip``'s place — the caller as Plt/Plh today — as the document names them;
    None when the caller is ``for_nip`` or holds no appointment for them."""
    if not p.nip or not for_nip or p.nip == for_nip:
        return None
    found = acting_today(s, p.nip, for_nip)
    if not found:
        return None
    person, official = s.get(Person, p.nip), s.get(Person, for_nip)
    return {
        "kind": found[-1].kind,
        "nip": p.nip,
        "name": person.name if person else p.claims.get("name") or p.nip,
        "position": person.position if person else None,
        "for_nip": for_nip,
        "for_name": official.name if official else None,
        "for_position": official.position if official else None,
        "start_date": str(found[-1].start_date),
        "end_date": str(found[-1].end_date),
    }


def _acts_as(p: Principal, ev: Evaluation, nip: str | None) -> bool:
    """The caller is ``nip``, or stands in for them today — never on their own evaluation (a Plh of
    their own penilai does not rate themself)."""
    if not p.nip or not nip:
        return False
    if p.nip == nip:
        return True
    return p.nip != ev.employee_nip and bool(acting_today(object_session(ev), p.nip, nip))


def can_read(p: Principal, ev: Evaluation) -> bool:
    return (
        in_agency(p, ev.agency_code)
        or (p.nip is not None and p.nip in (ev.employee_nip, ev.penilai_nip, ev.atasan_nip))
        or _acts_as(p, ev, ev.penilai_nip)
        or _acts_as(p, ev, ev.atasan_nip)
    )


_EVALUATION = by_id(Evaluation)  # built once (per process), run with the id


def get_evaluation(s: Session, p: Principal, evaluation_id: int) -> Evaluation:
    refuse_machine_client(p)
    ev = load_by_id(s, Evaluation, evaluation_id, _EVALUATION)
    if ev is None or not can_read(p, ev):
        raise not_found("evaluation", evaluation_id)
    return ev


def agency_cycle(s: Session, p: Principal, cycle_id: int, roles=("hr", "agency")) -> CycleRef:
    """The cycle, for HR (or, by default, a machine client) of its agency; else 404."""
    c = s.get(CycleRef, cycle_id)
    if c is None or not in_agency(p, c.agency_code, roles):
        raise not_found("cycle", cycle_id)
    return c


def only_employee(p: Principal, ev: Evaluation) -> None:
    if p.nip != ev.employee_nip:
        raise Problem(403, "evaluation.only_employee")


def only_penilai(p: Principal, ev: Evaluation) -> dict | None:
    """The penilai, or a Plt/Plh standing in for them today; returns the acting party (None when
    the penilai acts themself)."""
    if ev.penilai_nip is None and in_agency(p, ev.agency_code, ("hr",)):
        return None  # the top official's penilai is outside the directory: HR records it
    if not _acts_as(p, ev, ev.penilai_nip):
        raise Problem(403, "evaluation.only_penilai")
    return acting_party(object_session(ev), p, ev.penilai_nip)


def only_atasan(p: Principal, ev: Evaluation) -> dict | None:
    """The atasan penilai, or a Plt/Plh standing in for them today (as :func:`only_penilai`)."""
    if ev.atasan_nip is None and in_agency(p, ev.agency_code, ("hr",)):
        return None
    if not _acts_as(p, ev, ev.atasan_nip):
        raise Problem(403, "evaluation.only_atasan")
    return acting_party(object_session(ev), p, ev.atasan_nip)


def penilai_or_hr(p: Principal, agency: str, penilai_nip: str | None) -> bool:
    """HR of the agency, or the evaluation's penilai (calibration adjustments, follow-up)."""
    return in_agency(p, agency, ("hr",)) or bool(p.nip and p.nip == penilai_nip)


# ------------------------------------------------------------------ when


def state_label(c: CycleRef) -> str:
    return f"monitoring:{c.period_seq}:{c.phase}" if c.stage == "monitoring" else c.stage


def _stage_ok(c: CycleRef, ev: Evaluation, action: str) -> bool:
    annual = ev.period_seq == ANNUAL
    here = c.stage == "monitoring" and c.period_seq == ev.period_seq
    later_stages = ("annual_evaluation", "calibration", "sign_off", "objections")
    past = (c.stage == "monitoring" and (c.period_seq or 0) > ev.period_seq) or c.stage in later_stages
    if action == "self_assess":
        return c.stage == "annual_evaluation" if annual else here and c.phase in ("check_in", "self_assessment")
    if action == "rate":
        return c.stage == "annual_evaluation" if annual else here and c.phase == "supervisor_evaluation"
    if action == "adjust":
        return (
            c.stage in ("annual_evaluation", "calibration")
            if annual
            else (here and c.phase == "supervisor_evaluation") or c.stage == "calibration"
        )
    if action in ("sign", "acknowledge", "countersign"):
        return (
            c.stage in ("sign_off", "objections") if annual else (here and c.phase == "supervisor_evaluation") or past
        )
    if action == "object":
        return c.stage != "closed"
    raise ValueError(action)


def guard(s: Session, ev: Evaluation, action: str) -> CycleRef:
    """The evaluation's cycle, if its stage allows ``action``; else 409 naming the stage."""
    c = s.get(CycleRef, ev.cycle_id)
    if c is None or not _stage_ok(c, ev, action):
        raise Problem(409, "stage.not_allowed", stage=state_label(c) if c else "unknown", action=f"evaluation.{action}")
    return c


def not_frozen(ev: Evaluation) -> None:
    if domain.frozen(ev.status):
        raise Problem(409, "evaluation.frozen", status=ev.status, content_hash=ev.content_hash)


# ------------------------------------------------------------------ views and events


def evaluation_action(evaluation_id: int, fn, *args, if_match: bool = False):
    """A view's body: load the evaluation the caller may see, check ``If-Match`` (always when
    ``if_match``, else when the header is sent), run ``fn(s, p, ev, *args)`` and answer with its ETag."""
    p = current_principal()
    with uow() as s:
        ev = get_evaluation(s, p, evaluation_id)
        if if_match or request.headers.get("If-Match"):
            require_if_match(ev.version)
        return with_etag(fn(s, p, ev, *args))


def ev_ref(ev: Evaluation) -> dict:
    """The evaluation as the events name it (``events.EvaluationRef``)."""
    return {
        "evaluation_id": ev.id,
        "cycle_id": ev.cycle_id,
        "agency_code": ev.agency_code,
        "kind": ev.kind,
        "period_seq": ev.period_seq,
        "period_name": ev.period_name,
        "employee_nip": ev.employee_nip,
        "penilai_nip": ev.penilai_nip,
        "atasan_nip": ev.atasan_nip,
        "unit_code": ev.unit_code,
        "status": ev.status,
        "predikat": ev.predikat,
    }


def rated_ref(ev: Evaluation) -> dict:
    """The payload of ``reviews.evaluation.rated`` (a rating, or a calibration adjustment of it)."""
    return ev_ref(ev) | {
        "rating_hasil": ev.rating_hasil,
        "rating_perilaku": ev.rating_perilaku,
        "suggested_hasil": ev.suggested_hasil,
    }
