"""Who is below whom (``access.subtree`` and ``visible_people``): one recursive query that reads
only the subtree, on SQLite (embedded) and PostgreSQL — a deep chain, people beside and above it,
another agency's employee naming someone of the chain as superior, a loop in the reporting lines,
and an acting official (Plt/Plh) seeing the line they stand in for only while the assignment runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.plans.access import subtree, visible_people
from services.plans.models import ActingAssignment, Agency, Base, Employee, Unit

AT = datetime(2026, 1, 5, tzinfo=timezone.utc)
CHAIN = [f"1990010120150310{i:02d}" for i in range(41)]  # CHAIN[0] heads it, CHAIN[i] reports to CHAIN[i - 1]
BOSS, PEER, SIDE1, SIDE2 = "197001012000011001", "197001012000011002", "197001012000011003", "197001012000011004"
LOOP1, LOOP2 = "197001012000011005", "197001012000011006"
FOREIGN = "197001012000011007"  # another agency's employee whose superior_nip names CHAIN[5]


def old_subtree(rows: list[tuple[str, str | None]], roots: set[str]) -> set[str]:
    """The reporting lines walked in Python over the whole agency, as ``subtree`` did before."""
    children: dict[str, list[str]] = {}
    for nip, sup in rows:
        if sup:
            children.setdefault(sup, []).append(nip)
    out, stack = set(), list(roots)
    while stack:
        for c in children.get(stack.pop(), []):
            if c not in out:
                out.add(c)
                stack.append(c)
    return out


def populate(s: Session) -> list[tuple[str, str | None]]:
    for code in ("AGA", "AGB"):
        s.add(Agency(code=code, name=code, created_at=AT))
        s.add(Unit(agency_code=code, code="U", name="Unit", updated_at=AT))
    s.flush()
    units = {u.agency_code: u.id for u in s.query(Unit)}
    people = [(BOSS, None), (PEER, BOSS), (CHAIN[0], BOSS), (SIDE1, CHAIN[0]), (SIDE2, SIDE1)]
    people += [(CHAIN[i], CHAIN[i - 1]) for i in range(1, len(CHAIN))]
    people += [(LOOP1, LOOP2), (LOOP2, LOOP1)]
    for nip, sup in people:
        s.add(
            Employee(
                nip=nip,
                agency_code="AGA",
                name=nip,
                position="Staf",
                unit_id=units["AGA"],
                superior_nip=sup,
                updated_at=AT,
            )
        )
    s.add(
        Employee(
            nip=FOREIGN,
            agency_code="AGB",
            name="Foreign",
            position="Staf",
            unit_id=units["AGB"],
            superior_nip=CHAIN[5],
            updated_at=AT,
        )
    )
    s.flush()
    return people


@pytest.fixture(params=["sqlite", "postgresql"])
def session(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'lines.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


def test_subtree_reads_the_whole_depth_and_nothing_beside_or_above(session):
    people = populate(session)
    below = subtree(session, "AGA", {CHAIN[0]})
    assert below == set(CHAIN[1:]) | {SIDE1, SIDE2}  # 40 levels down, and the side branch
    assert BOSS not in below and PEER not in below and CHAIN[0] not in below  # above, beside, the root itself
    assert FOREIGN not in below  # another agency's row naming CHAIN[5] as superior
    assert subtree(session, "AGA", {CHAIN[38]}) == {CHAIN[39], CHAIN[40]}
    assert subtree(session, "AGA", {CHAIN[40]}) == set()
    assert subtree(session, "AGA", {SIDE1, CHAIN[39]}) == {SIDE2, CHAIN[40]}
    assert subtree(session, "AGA", set()) == set()
    assert subtree(session, "AGB", {CHAIN[4]}) == set()  # the agency's own lines only
    assert subtree(session, "AGB", {CHAIN[5]}) == {FOREIGN}  # AGB's rows below the root, as before
    assert subtree(session, "AGA", {LOOP1}) == {LOOP1, LOOP2}  # a loop ends
    for roots in ({BOSS}, {CHAIN[0]}, {CHAIN[20], SIDE1}, {LOOP2}, {PEER}):
        assert subtree(session, "AGA", roots) == old_subtree(people, roots), roots


def test_visible_people_is_the_callers_line_and_the_one_they_stand_in_for_today(session, plans_app):
    populate(session)
    with plans_app.app_context():  # today() is the platform's (the plans fixture's clock: 2026-01-05 in Jakarta)
        today = plans_app.extensions["kinerja"].today()

        def sees(nip, agency="AGA"):
            return visible_people(session, Principal(sub=nip, roles=frozenset({"employee"}), agency=agency, nip=nip))

        assert sees(CHAIN[37]) == {CHAIN[37], CHAIN[38], CHAIN[39], CHAIN[40]}
        assert sees(PEER) == {PEER}
        assert sees(CHAIN[37], agency="AGB") == {CHAIN[37]}  # a token of another agency sees no AGA line
        assert visible_people(session, Principal(sub="hr", roles=frozenset({"hr"}), agency="AGA")) == set()
        for kind, start, end in (("plt", today, today + timedelta(days=30)), ("plh", date(2025, 1, 1), today)):
            session.add(
                ActingAssignment(
                    agency_code="AGA",
                    acting_nip=PEER,
                    for_nip=CHAIN[38] if kind == "plt" else SIDE1,
                    kind=kind,
                    start_date=start,
                    end_date=end,
                    created_at=AT,
                )
            )
        session.add(  # ended yesterday: no longer counts
            ActingAssignment(
                agency_code="AGA",
                acting_nip=PEER,
                for_nip=CHAIN[0],
                kind="plh",
                start_date=date(2025, 1, 1),
                end_date=today - timedelta(days=1),
                created_at=AT,
            )
        )
        session.flush()
        assert sees(PEER) == {PEER, CHAIN[39], CHAIN[40], SIDE2}
