"""Two workers applying events at once, on a real PostgreSQL: what the production manifests allow
(each service's worker is autoscaled up to 4 replicas, every replica consuming the same queue).

The inbox makes each event applied once, but two *different* events applied at the same moment by
two workers must not pass each other unseen:

- a plan approved while its cycle moves to monitoring (one event each, on two workers): before the
  cycle row was locked, neither opened the employee's evaluation for the period — the stage change
  did not see the plan yet, the plan saw the old stage (write skew);
- two versions of one person (``plans.employee.upserted``): before ``upsert_if_newer`` locked the
  row, the older version could commit last and overwrite the newer one.

Each test holds the first worker's transaction open, lets the second run, then commits the first:
the order in which two replicas would interleave."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.common.config import Config
from services.reviews import readmodel
from services.reviews.app import create_app
from services.reviews.models import Evaluation, Person, RealisationRef
from tests.plans.support import FakeClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 6, 2, 0, tzinfo=timezone.utc)
WAIT = 30
CYCLE = 7
AGENCY = "PKMB"
EMPLOYEE, PENILAI = "199001012015031001", "198001012005011001"


@pytest.fixture
def reviews(postgres_url):
    app = create_app(
        Config.from_env("reviews", env={"REVIEWS_DATABASE_URL": postgres_url}), clock=FakeClock(T0), migrate=True
    )
    yield app
    app.extensions["kinerja"].engine.dispose()


def _person(nip: str, superior: str | None, name: str) -> dict:
    return {
        "nip": nip,
        "agency_code": AGENCY,
        "name": name,
        "position": "Analis Kebijakan",
        "grade": "III/c",
        "unit_code": "SEK-A",
        "unit_name": "Seksi A",
        "superior_nip": superior,
        "active": True,
        "language": "id",
    }


def _cycle_opened() -> dict:
    periods = [
        {
            "seq": i + 1,
            "name_id": f"Triwulan {i + 1}",
            "name_en": f"Quarter {i + 1}",
            "start": f"2026-{3 * i + 1:02d}-01",
            "end": f"2026-{3 * i + 3:02d}-28",
            "deadline": f"2026-{3 * i + 4:02d}-10" if i < 3 else "2027-01-10",
        }
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


def _plan_approved(plan_id: int) -> dict:
    return {
        "plan_id": plan_id,
        "cycle_id": CYCLE,
        "agency_code": AGENCY,
        "employee_nip": EMPLOYEE,
        "penilai_nip": PENILAI,
        "unit_code": "SEK-A",
        "revision": 1,
        "is_head_of_unit": False,
        "approach": "kuantitatif",
        "rhk": [],
        "behaviour": [],
    }


TO_MONITORING = {
    "cycle_id": CYCLE,
    "agency_code": AGENCY,
    "year": 2026,
    "previous": "planning",
    "state": "monitoring:1:check_in",
    "stage": "monitoring",
    "period_seq": 1,
    "phase": "check_in",
}


def _apply(app, handler, *args, **kwargs) -> None:
    with app.app_context(), app.extensions["kinerja"].session_factory() as s:
        handler(s, *args, **kwargs)
        s.commit()


def _interleave(app, first, second) -> tuple[bool, list]:
    """Run ``first`` (handler, args) and hold its transaction open; run ``second`` in another thread;
    then commit the first. Returns whether the second had finished before the first committed, and
    any errors of either."""
    errors: list[BaseException] = []
    applied, release = threading.Event(), threading.Event()

    def run_first():
        try:
            with app.app_context(), app.extensions["kinerja"].session_factory() as s:
                first[0](s, *first[1:])
                s.flush()
                applied.set()
                assert release.wait(WAIT)
                s.commit()
        except BaseException as exc:
            errors.append(exc)
            applied.set()

    def run_second():
        try:
            _apply(app, second[0], *second[1:])
        except BaseException as exc:
            errors.append(exc)

    a = threading.Thread(target=run_first)
    a.start()
    assert applied.wait(WAIT)
    b = threading.Thread(target=run_second)
    b.start()
    b.join(0.5)
    passed = not b.is_alive()
    release.set()
    a.join(WAIT)
    b.join(WAIT)
    return passed, errors


def _setup(app) -> None:
    _apply(app, readmodel.rm_employee, _person(PENILAI, None, "Ibu Penilai"), as_of=T0)
    _apply(app, readmodel.rm_employee, _person(EMPLOYEE, PENILAI, "Budi Pegawai"), as_of=T0)
    _apply(app, readmodel.rm_cycle_opened, _cycle_opened())


def _evaluations(app) -> list[tuple]:
    with app.extensions["kinerja"].session_factory() as s:
        return s.execute(select(Evaluation.plan_id, Evaluation.period_seq, Evaluation.employee_nip)).all()


@pytest.mark.parametrize("first", ["stage_change", "plan_approval"])
def test_a_plan_approved_while_the_cycle_moves_to_monitoring_gets_its_evaluation(reviews, first):
    _setup(reviews)
    stage = (readmodel.rm_stage_changed, TO_MONITORING)
    plan = (readmodel.rm_plan_approved, _plan_approved(41))
    passed, errors = _interleave(reviews, *((stage, plan) if first == "stage_change" else (plan, stage)))
    assert errors == []
    assert _evaluations(reviews) == [(41, 1, EMPLOYEE)]  # opened once, by whichever saw both
    assert not passed, "the second worker did not wait for the first one's cycle lock"


def test_an_older_version_of_a_person_never_overwrites_a_newer_one_applied_at_the_same_time(reviews):
    _setup(reviews)
    newer = _person(EMPLOYEE, PENILAI, "Budi Pegawai (nama baru)")
    older = _person(EMPLOYEE, PENILAI, "Budi Pegawai (nama lama)")
    passed, errors = _interleave(
        reviews,
        (readmodel.rm_employee, newer, T0 + timedelta(hours=2)),
        (readmodel.rm_employee, older, T0 + timedelta(hours=1)),
    )
    assert errors == []
    with reviews.extensions["kinerja"].session_factory() as s:
        person = s.get(Person, EMPLOYEE)
        assert person.name == "Budi Pegawai (nama baru)"
        assert person.as_of.astimezone(timezone.utc) == T0 + timedelta(hours=2)
    assert not passed, "the older version did not wait for the newer one's row lock"


def _realisation(value: float) -> dict:
    return {
        "realisation_id": 501,
        "plan_id": 41,
        "iki_id": "iki-1",
        "period_seq": 1,
        "value": value,
        "text": f"Capaian {value}",
        "evidence_count": 1,
        "source": "employee",
    }


def test_an_older_realisation_retried_after_a_newer_one_changes_nothing(reviews):
    """``plans.realisation.recorded`` is applied by its event time, as the other read models are: a
    correction (80 → 95) whose first version comes back later (a retry, or another worker) keeps 95,
    the value the evaluation document must show."""
    handler = readmodel.rm_realisation
    _apply(reviews, handler, _realisation(95.0), as_of=T0 + timedelta(minutes=5))
    _apply(reviews, handler, _realisation(80.0), as_of=T0)
    passed, errors = _interleave(
        reviews, (handler, _realisation(97.0), T0 + timedelta(minutes=9)), (handler, _realisation(96.0), T0)
    )
    assert errors == []
    with reviews.extensions["kinerja"].session_factory() as s:
        assert s.get(RealisationRef, 501).value == 97.0
    assert not passed, "the older version did not wait for the newer one's row lock"
