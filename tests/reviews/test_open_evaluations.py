"""Opening the period's evaluations when the cycle moves to monitoring: one per approved SKP, with
its employee, penilai and atasan as they stand, once, and one ``reviews.evaluation.opened`` event
each — on SQLite and PostgreSQL, over more plans than one statement takes (``_OPEN_CHUNK``)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from services.common.config import Config
from services.reviews import readmodel
from services.reviews.app import create_app
from services.reviews.models import Evaluation
from tests.plans.support import FakeClock

T0 = datetime(2026, 4, 6, 2, 0, tzinfo=timezone.utc)
AGENCY, OTHER = "PKMB", "LAIN"
CYCLE = 7
HEAD = "197001012000011001"  # the unit's head: atasan of the staff
PENILAI = "198001012005011001"
OUTSIDER = "198501012010011001"  # another agency's person, named as a superior
STAFF = [f"1990010120150310{i:02d}" for i in range(7)]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def reviews(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'reviews.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    )
    app = create_app(Config.from_env("reviews", env={"REVIEWS_DATABASE_URL": url}), clock=FakeClock(T0), migrate=True)
    yield app
    app.extensions["kinerja"].engine.dispose()


def _person(nip: str, superior: str | None, name: str, *, agency: str = AGENCY, active: bool = True) -> dict:
    return {
        "nip": nip,
        "agency_code": agency,
        "name": name,
        "position": f"Jabatan {name}",
        "grade": "III/c",
        "unit_code": "SEK-A",
        "unit_name": "Seksi A",
        "superior_nip": superior,
        "active": active,
        "language": "id",
    }


def _apply(app, handler, *args, **kwargs) -> None:
    with app.app_context(), app.extensions["kinerja"].session_factory() as s:
        handler(s, *args, **kwargs)
        s.commit()


def _plan(plan_id: int, nip: str) -> dict:
    return {
        "plan_id": plan_id,
        "cycle_id": CYCLE,
        "agency_code": AGENCY,
        "employee_nip": nip,
        "penilai_nip": None,
        "unit_code": "SEK-A",
        "revision": 2,
        "is_head_of_unit": nip == HEAD,
        "approach": "kuantitatif",
        "rhk": [],
        "behaviour": [],
    }


def _cycle() -> dict:
    periods = [
        {"seq": i + 1, "name_id": f"Triwulan {i + 1}", "name_en": f"Quarter {i + 1}", "start": "2026-01-01"}
        for i in range(4)
    ]
    return {
        "cycle_id": CYCLE,
        "agency_code": AGENCY,
        "year": 2026,
        "name": "Periode 2026",
        "period_type": "quarterly",
        "stage": "planning",
        "periods": periods,
    }


def _to(stage: str, seq: int | None, phase: str | None) -> dict:
    return {"cycle_id": CYCLE, "agency_code": AGENCY, "year": 2026, "stage": stage, "period_seq": seq, "phase": phase}


def _opened(app) -> tuple[list, list]:
    with app.extensions["kinerja"].session_factory() as s:
        evaluations = s.scalars(select(Evaluation).order_by(Evaluation.period_seq, Evaluation.plan_id)).all()
        rows = [
            (e.plan_id, e.period_seq, e.kind, e.period_name, e.plan_revision, e.employee_nip, e.employee_name)
            + (e.position, e.penilai_nip, e.penilai_name, e.penilai_position, e.atasan_nip, e.atasan_name)
            + (e.is_head_of_unit, e.status, e.self_assessment)
            for e in evaluations
        ]
        tables = app.extensions["kinerja"].tables
        events = s.execute(select(tables.outbox.c.envelope).where(tables.outbox.c.type == "reviews.evaluation.opened"))
        return rows, [env["data"] | {"subject": env["subject"]} for (env,) in events]


def test_each_approved_plan_gets_one_evaluation_with_its_people_and_one_event(reviews, monkeypatch):
    monkeypatch.setattr(readmodel, "_OPEN_CHUNK", 3)  # 8 plans: three statements and a short last one
    _apply(reviews, readmodel.rm_employee, _person(OUTSIDER, None, "Orang Luar", agency=OTHER), as_of=T0)
    _apply(reviews, readmodel.rm_employee, _person(HEAD, OUTSIDER, "Kepala"), as_of=T0)
    _apply(reviews, readmodel.rm_employee, _person(PENILAI, HEAD, "Penilai"), as_of=T0)
    for i, nip in enumerate(STAFF):
        _apply(reviews, readmodel.rm_employee, _person(nip, PENILAI, f"Staf {i}", active=i != 3), as_of=T0)
    _apply(reviews, readmodel.rm_cycle_opened, _cycle())
    for plan_id, nip in enumerate([HEAD, PENILAI, *STAFF], start=100):
        _apply(reviews, readmodel.rm_plan_approved, _plan(plan_id, nip))

    _apply(reviews, readmodel.rm_stage_changed, _to("monitoring", 1, "check_in"))
    rows, events = _opened(reviews)

    staff = [(102 + i, nip, f"Staf {i}") for i, nip in enumerate(STAFF) if i != 3]  # Staf 3 is inactive
    assert rows == [
        # the head's superior is in another agency: no penilai to snapshot
        (100, 1, "periodic", "Triwulan 1", 2, HEAD, "Kepala", "Jabatan Kepala", None, None, None, None, None)
        + (True, "open", {}),
        (101, 1, "periodic", "Triwulan 1", 2, PENILAI, "Penilai", "Jabatan Penilai", HEAD, "Kepala")
        + ("Jabatan Kepala", None, None, False, "open", {}),
        *[
            (plan_id, 1, "periodic", "Triwulan 1", 2, nip, name, f"Jabatan {name}", PENILAI, "Penilai")
            + ("Jabatan Penilai", HEAD, "Kepala", False, "open", {})
            for plan_id, nip, name in staff
        ],
    ]
    assert len(events) == 8
    with reviews.extensions["kinerja"].session_factory() as s:
        ids = dict(s.execute(select(Evaluation.plan_id, Evaluation.id)).tuples().all())
    by_plan = {e["evaluation_id"]: e for e in events}
    for plan_id, nip, _name in staff:
        event = by_plan[ids[plan_id]]
        assert event["subject"] == str(ids[plan_id])
        assert (event["employee_nip"], event["penilai_nip"], event["atasan_nip"]) == (nip, PENILAI, HEAD)
        assert (event["kind"], event["period_seq"], event["status"], event["predikat"]) == ("periodic", 1, "open", None)

    # a second delivery of a stage change, or the next phase of the same period, opens nothing more
    _apply(reviews, readmodel.rm_stage_changed, _to("monitoring", 1, "self_assessment"))
    assert len(_opened(reviews)[0]) == 8

    # a plan approved late in the period is opened on its own, its superior looked up by NIP alone
    late = "199501012020011001"
    _apply(reviews, readmodel.rm_employee, _person(late, OUTSIDER, "Terlambat"), as_of=T0)
    _apply(reviews, readmodel.rm_plan_approved, _plan(200, late))
    rows, events = _opened(reviews)
    assert rows[-1][:12] == (200, 1, "periodic", "Triwulan 1", 2, late, "Terlambat", "Jabatan Terlambat") + (
        OUTSIDER,
        "Orang Luar",
        "Jabatan Orang Luar",
        None,
    )
    assert len(events) == 9

    # the annual evaluation opens one more per plan
    _apply(reviews, readmodel.rm_stage_changed, _to("annual_evaluation", None, None))
    rows, _ = _opened(reviews)
    annual = [r for r in rows if r[2] == "annual"]
    assert [r[0] for r in annual] == [100, 101, *[p for p, _n, _m in staff], 200]
    assert {r[3] for r in annual} == {"Tahunan 2026"}
