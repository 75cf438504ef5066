"""The results feed's order on a real PostgreSQL (issue 16, Deliver 3): a result's ``changed_at`` is
stamped under a transaction lock, so a change that commits later always sorts later — even when its
clock reads earlier than the stamp of a transaction still open — and a client's cursor never passes
a change that had not committed yet. Also the 0010 migration's backfill on PostgreSQL."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.common.config import Config
from services.reviews.app import MIGRATIONS, create_app
from services.reviews.models import Evaluation
from services.reviews.results import stamp_result
from tests.plans.support import FakeClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 6, 2, 0, tzinfo=timezone.utc)
WAIT = 30


def _evaluation(i: int) -> Evaluation:
    return Evaluation(
        cycle_id=1,
        agency_code="PKMB",
        kind="periodic",
        period_seq=1,
        period_name="Triwulan I",
        plan_id=i,
        plan_revision=1,
        employee_nip=f"19900101201503100{i}",
        employee_name=f"Pegawai {i}",
        position="Analis",
        unit_code="SEK-A",
        unit_name="Seksi A",
        status="countersigned",
        rating_hasil="meets",
        rating_perilaku="meets",
        predikat="BAIK",
        content_hash="0" * 64,
        document_version=3,
        signed_at=T0,
        acknowledged_at=T0,
        countersigned_at=T0 + timedelta(minutes=i),
        created_at=T0,
        updated_at=T0,
    )


@pytest.fixture
def reviews(postgres_url):
    clock = FakeClock(T0)
    app = create_app(Config.from_env("reviews", env={"REVIEWS_DATABASE_URL": postgres_url}), clock=clock, migrate=True)
    yield app, clock
    app.extensions["kinerja"].engine.dispose()


def test_a_later_commit_always_gets_a_later_stamp_whatever_its_clock_says(reviews):
    app, clock = reviews
    factory = app.extensions["kinerja"].session_factory
    with factory() as s:
        s.add_all([_evaluation(1), _evaluation(2)])
        s.commit()
        first, second = (e.id for e in s.scalars(select(Evaluation).order_by(Evaluation.id)))
    stamps: dict[str, datetime] = {}
    first_stamped, release, errors = threading.Event(), threading.Event(), []

    def stamp(name: str, evaluation_id: int, at: datetime, hold: bool) -> None:
        try:
            with app.app_context(), factory() as s:
                clock.set(at)
                stamps[name] = stamp_result(s, s.get(Evaluation, evaluation_id))
                if hold:
                    first_stamped.set()
                    assert release.wait(WAIT)
                s.commit()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            first_stamped.set()

    a = threading.Thread(target=stamp, args=("a", first, T0 + timedelta(hours=1), True))
    a.start()
    assert first_stamped.wait(WAIT)
    # b's clock reads an hour earlier than a's stamp, and a has not committed: b waits for it
    b = threading.Thread(target=stamp, args=("b", second, T0, False))
    b.start()
    b.join(0.5)
    assert b.is_alive() and "b" not in stamps, "the second stamp did not wait for the first commit"
    with factory() as s:  # a reader meanwhile sees neither: nothing a cursor could pass over
        assert s.scalars(select(Evaluation.id).where(Evaluation.result_changed_at.is_not(None))).all() == []
    release.set()
    a.join(WAIT)
    b.join(WAIT)
    assert errors == []
    assert stamps["a"] == T0 + timedelta(hours=1)
    assert stamps["b"] == stamps["a"] + timedelta(microseconds=1)  # after a's, not at its own clock
    with factory() as s:
        stored = dict(s.execute(select(Evaluation.id, Evaluation.result_changed_at)).all())
    assert stored == {first: stamps["a"], second: stamps["b"]}


def test_the_migration_backfills_final_results_on_postgresql(reviews, postgres_url):
    from alembic import command

    from services.common.db import alembic_config
    from services.reviews.models import Objection

    app, _ = reviews
    factory = app.extensions["kinerja"].session_factory
    with factory() as s:
        plain, objected = _evaluation(1), _evaluation(2)
        open_one = _evaluation(3)  # acknowledged: not final
        open_one.status, open_one.countersigned_at = "acknowledged", None
        s.add_all([plain, objected, open_one])
        s.flush()
        s.add(
            Objection(
                evaluation_id=objected.id,
                agency_code="PKMB",
                employee_nip=objected.employee_nip,
                reasons="Bukti belum dipertimbangkan.",
                status="decided",
                decision="upheld",
                statements=[],
                filed_at=T0 + timedelta(days=1),
                decided_at=T0 + timedelta(days=3),
            )
        )
        s.commit()
        ids = (plain.id, objected.id, open_one.id)
    app.extensions["kinerja"].engine.dispose()
    cfg = alembic_config(MIGRATIONS, postgres_url)
    command.downgrade(cfg, "0009")
    command.upgrade(cfg, "head")
    with factory() as s:
        stamps = [s.get(Evaluation, i).result_changed_at for i in ids]
    assert stamps == [T0 + timedelta(minutes=1), T0 + timedelta(days=3), None]
