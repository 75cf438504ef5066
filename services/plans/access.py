"""Who may read and act on what in the plans service, shared by every capability module: HR of an
agency, the reporting line (direct, indirect, or through an acting official, Plt/Plh) and the
subtree below a person. A machine client of an agency (role ``agency``) reads what its scopes open
(issue 16; ``@accepts`` on each operation): the directory, the cycles, and with ``plans:read`` the
agency's SKP plans with their versions and realisations — never progress evidence, feedback or
daily logs. Also the API's URL prefix every blueprint mounts under."""

from __future__ import annotations

from datetime import date

from sqlalchemy import BindParameter, ColumnElement, Select, bindparam, false, or_, select
from sqlalchemy.orm import Session

from services.common.auth import Principal, forbid
from services.common.errors import Problem
from services.common.usecase import today

from . import domain
from .models import ActingAssignment, Employee

PREFIX = "/plans/api/v1"


def in_agency(p: Principal, agency_code: str, roles=("hr",)) -> bool:
    return p.is_admin or (p.has(*roles) and p.agency == agency_code)


def machine_client(p: Principal) -> bool:
    """A machine client of an agency: role ``agency``, no person behind the token (no NIP), not HR."""
    return p.has("agency") and not (p.is_admin or p.has("hr") or p.nip)


def reads_plans(p: Principal) -> bool:
    """A machine client holding ``plans:read``: it reads its agency's plans (SKP), their versions
    and realisations — the operations that declare the scope (issue 16)."""
    return machine_client(p) and p.has_scope("plans:read")


def refuse_machine_client(p: Principal) -> None:
    """403 ``auth.person_data`` for a machine client asking for a person's records: the problem names
    nothing of them, whether they exist or not (scopes may open some later)."""
    if machine_client(p):
        raise Problem(403, "auth.person_data")


def require_hr(p: Principal, agency_code: str) -> None:
    if not in_agency(p, agency_code, roles=("hr",)):
        raise forbid()


def superior_lookup(s: Session):
    cache: dict[str, str | None] = {}

    def superior_of(nip: str) -> str | None:
        if nip not in cache:
            cache[nip] = s.scalar(select(Employee.superior_nip).where(Employee.nip == nip))
        return cache[nip]

    return superior_of


def acting_for_query(acting_nip: str | BindParameter, on: date | BindParameter) -> Select:
    """``SELECT for_nip``: the NIPs this person stands in for (Plt/Plh) on the given day, as a
    subquery (folded into the query that needs them: one statement, not two)."""
    return select(ActingAssignment.for_nip).where(
        ActingAssignment.acting_nip == acting_nip,
        ActingAssignment.start_date <= on,
        ActingAssignment.end_date >= on,
    )


def acting_for(s: Session, acting_nip: str | None, on: date) -> set[str]:
    """NIPs this person stands in for (Plt/Plh) on the given day."""
    if not acting_nip:
        return set()
    return set(s.scalars(acting_for_query(acting_nip, on)))


def leads_of(nip: str | BindParameter, on: date | BindParameter) -> ColumnElement[bool]:
    """``Employee.superior_nip`` is this person or someone they stand in for on the given day."""
    return or_(Employee.superior_nip == nip, Employee.superior_nip.in_(acting_for_query(nip, on)))


def supervises(s: Session, p: Principal, employee_nip: str) -> bool:
    """The principal is in the employee's reporting line, directly, indirectly or as acting official."""
    if not p.nip or p.nip == employee_nip:
        return False
    superior_of = superior_lookup(s)
    if domain.is_in_reporting_line(p.nip, employee_nip, superior_of):
        return True
    return any(domain.is_in_reporting_line(n, employee_nip, superior_of) for n in acting_for(s, p.nip, today()))


def can_read_person(s: Session, p: Principal, agency_code: str, nip: str) -> bool:
    """A person's records: HR of the agency, the person, their reporting line."""
    return in_agency(p, agency_code) or p.nip == nip or supervises(s, p, nip)


def in_directory(s: Session, p: Principal, agency_code: str, nip: str) -> bool:
    """A person's directory entry: also the agency's machine clients."""
    return in_agency(p, agency_code, ("hr", "agency")) or can_read_person(s, p, agency_code, nip)


def _below(anchor: ColumnElement[bool]) -> Select:
    """``SELECT nip`` of everyone below the employees ``anchor`` picks as superiors, in the reporting
    lines of the agency ``:agency``: one recursive query that reads the subtree's rows only (never the
    whole agency). UNION, not UNION ALL: a loop in the reporting lines ends the recursion."""
    e = Employee.__table__
    agency = bindparam("agency")
    below = select(e.c.nip).where(e.c.agency_code == agency, anchor).cte("below", recursive=True)
    below = below.union(select(e.c.nip).join(below, e.c.superior_nip == below.c.nip).where(e.c.agency_code == agency))
    return select(below.c.nip)


# built once (per process), run with their parameters
_BELOW_ROOTS = _below(Employee.superior_nip.in_(bindparam("roots", expanding=True)))
_BELOW_LEADS = _below(leads_of(bindparam("nip"), bindparam("on")))


def subtree(s: Session, agency_code: str, root_nips: set[str]) -> set[str]:
    """Everyone below the given people in the reporting lines of the agency."""
    if not root_nips:
        return set()
    return set(s.scalars(_BELOW_ROOTS, {"agency": agency_code, "roots": sorted(root_nips)}))


def visible_people(s: Session, p: Principal) -> set[str]:
    """The NIPs a person without an agency-wide role may see: themselves and everyone below them
    or below those they stand in for today (an empty set for a caller without a NIP)."""
    if not p.nip:
        return set()
    return {p.nip} | set(s.scalars(_BELOW_LEADS, {"agency": p.agency or "", "nip": p.nip, "on": today()}))


def only_visible(s: Session, p: Principal, column) -> ColumnElement[bool]:
    """``column IN`` :func:`visible_people` — nobody for a caller without a NIP. The people are read
    first, in a statement of their own: folding the recursive query into the list's statement saved
    a round trip but cost more CPU (its values bound by cloning it, a larger cache key each request;
    bench/README.md, ``api_cpu.py``)."""
    people = visible_people(s, p)
    return column.in_(people) if people else false()
