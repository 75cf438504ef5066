"""The audit chain is checked by the product: the worker's periodic verification (metric, ERROR
line), the ``/audit`` API's ``chain`` warning, signed anchors outside the database, and triggers
refusing UPDATE and DELETE (SQLite and PostgreSQL). Each attack drops the trigger first: tampering
now needs deliberate DDL."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from sqlalchemy import MetaData, create_engine, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kinerja import registry
from services.common import audit
from services.common.audit_watch import ChainMonitor
from services.common.config import Config
from services.common.db import make_engine, upgrade
from services.common.observability import JsonFormatter
from services.common.tables import define_platform_tables
from services.plans.app import create_app
from services.plans.models import platform_tables
from tests.figures import record
from tests.plans.support import HEAD, KASI_A, STAFF_A, FakeClock, Org, Tokens, seed

T = platform_tables.audit


# ---------------------------------------------------------------- helpers (the CLI tests use them too)


def plans_app(var, clock=None, **env):
    return create_app(Config.from_env("plans", env={"KINERJA_VAR": str(var), **env}, testing=True), clock=clock)


def write_rows(app, n: int, start: int = 0) -> None:
    platform = app.extensions["kinerja"]
    with app.app_context(), platform.uow() as s:
        for i in range(start, start + n):
            platform.audit(
                s, actor="hr@pkmb", action="employee.updated", entity_type="employee", entity_id=str(i),
                before={"grade": "III/a"}, after={"grade": "III/b"}, agency="PKMB", subject=str(i),
            )  # fmt: skip


def tamper(app, *statements) -> None:
    """Drop the triggers (deliberate DDL), then run ``statements`` (SQL text or SQLAlchemy)."""
    with app.extensions["kinerja"].engine.begin() as conn:
        for drop in audit.drop_append_only_ddl(conn.dialect.name):
            conn.execute(text(drop))
        for statement in statements:
            conn.execute(text(statement) if isinstance(statement, str) else statement)


def row_ids(app) -> list[int]:
    with app.extensions["kinerja"].session_factory() as s:
        return list(s.scalars(select(T.c.id).order_by(T.c.id)))


def edit_row(app, row_id: int) -> None:
    tamper(app, update(T).where(T.c.id == row_id).values(after={"grade": "IV/e"}))


def recompute_all(app, row_id: int) -> None:
    """Edit ``row_id`` and recompute every hash so that the chain itself verifies again."""
    edit_row(app, row_id)
    with app.extensions["kinerja"].session_factory() as s:
        rows = s.execute(select(T).order_by(T.c.id)).mappings().all()
    prev, changes = audit.GENESIS, []
    for row in rows:
        new = audit.row_hash(prev, audit._content(row))
        changes.append(update(T).where(T.c.id == row["id"]).values(prev_hash=prev, hash=new))
        prev = new
    tamper(app, *changes)
    with app.extensions["kinerja"].session_factory() as s:
        assert audit.verify_chain(s, platform_tables) == (True, None)  # the old check was fooled


def delete_tail(app, from_id: int) -> None:
    tamper(app, T.delete().where(T.c.id >= from_id))
    with app.extensions["kinerja"].session_factory() as s:
        assert audit.verify_chain(s, platform_tables) == (True, None)  # the old check was fooled


def anchored_app(tmp_path, rows: int = 8):
    """A plans app with ``rows`` audit rows, anchored by one round of the periodic job, and two
    more rows written after the anchor."""
    app = plans_app(tmp_path)
    write_rows(app, rows)
    assert run_job(app) == rows
    write_rows(app, 2, start=rows)
    return app


def run_job(app) -> int:
    (job,) = [j for j in registry.background_jobs("plans", app.extensions["kinerja"]) if hasattr(j, "monitor")]
    job.monitor.next_run = 0  # due now
    return job()


def chain_ok_metric(app) -> float | None:
    registry_ = app.extensions["kinerja"].metrics.registry
    return registry_.get_sample_value("kinerja_audit_chain_ok", {"service": "plans"})


ATTACKS = {
    # attack → (tamper with the anchored app, expected first bad row, problem) given the row ids
    "edit a row": (lambda app, ids: edit_row(app, ids[3]), lambda ids: ids[3], "hash_mismatch"),
    "edit and recompute every hash": (
        lambda app, ids: recompute_all(app, ids[2]),
        lambda ids: ids[7],
        "anchor_hash_changed",
    ),
    "delete the last rows": (lambda app, ids: delete_tail(app, ids[6]), lambda ids: ids[7], "anchor_row_missing"),
}


# ---------------------------------------------------------------- the periodic job


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_periodic_job_detects_each_attack_with_the_metric_and_an_error_line(tmp_path, caplog, attack):
    app = anchored_app(tmp_path)
    ids = row_ids(app)
    assert chain_ok_metric(app) == 1.0
    do, first_bad, problem = ATTACKS[attack]
    do(app, ids)
    with caplog.at_level(logging.ERROR, logger="kinerja.audit"):
        run_job(app)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    named = sum(f"first_bad_id={first_bad(ids)}" in r.getMessage() for r in errors)
    record("audit", f"tampering: {attack}", rows=len(ids), detected=int(chain_ok_metric(app) == 0.0), row_named=named)
    assert chain_ok_metric(app) == 0.0
    (line,) = errors
    entry = json.loads(JsonFormatter().format(line))
    assert entry["level"] == "error" and entry["service"] == "plans"
    assert f"first_bad_id={first_bad(ids)}" in entry["message"]
    assert f"problem={problem}" in entry["message"]


def test_the_job_anchors_the_head_with_a_key_outside_the_database(tmp_path):
    app = anchored_app(tmp_path)
    book = (tmp_path / "audit" / "plans.anchors.jsonl").read_text().splitlines()
    (anchor,) = map(json.loads, book)
    assert (anchor["id"], anchor["rows"], anchor["service"]) == (8, 8, "plans")
    key = tmp_path / "audit" / "anchor.key"  # beside the databases, readable by its owner only
    assert key.stat().st_mode & 0o077 == 0 and len(key.read_text()) == 64
    assert key.read_text().encode() not in (tmp_path / "plans.db").read_bytes()
    assert run_job(app) == 10  # a new head: a second anchor; an unchanged head: none
    assert run_job(app) == 10
    book = (tmp_path / "audit" / "plans.anchors.jsonl").read_text().splitlines()
    assert [json.loads(line)["id"] for line in book] == [8, 10]


def test_an_edited_anchor_is_reported(tmp_path):
    app = anchored_app(tmp_path)
    path = tmp_path / "audit" / "plans.anchors.jsonl"
    anchor = json.loads(path.read_text())
    path.write_text(json.dumps(anchor | {"id": 5}) + "\n")  # moved back to hide rows 6–8
    run_job(app)
    assert chain_ok_metric(app) == 0.0
    assert app.extensions["kinerja_audit"].last.problem == "anchor_signature"


def test_an_anchor_cut_short_by_a_crash_is_no_alarm_and_the_next_one_follows_it(tmp_path):
    app = anchored_app(tmp_path)
    path = tmp_path / "audit" / "plans.anchors.jsonl"
    whole = path.read_text()
    path.write_text(whole + whole[:40])  # the process died while appending
    assert run_job(app) == 10 and chain_ok_metric(app) == 1.0
    assert [json.loads(line)["id"] for line in path.read_text().splitlines()] == [8, 10]  # the fragment dropped
    assert run_job(app) == 10 and chain_ok_metric(app) == 1.0


def test_production_anchors_only_with_a_key_from_the_environment(tmp_path, caplog, monkeypatch):
    config = Config(service="plans", mode="production", database_url=f"sqlite:///{tmp_path}/p.db", var_dir=tmp_path)
    platform = SimpleNamespace(service="plans", config=config, metrics=None)
    with caplog.at_level(logging.WARNING, logger="kinerja.audit"):
        assert ChainMonitor(platform).book is None
    assert "audit anchoring is off: set AUDIT_ANCHOR_KEY" in caplog.text
    monkeypatch.setenv("AUDIT_ANCHOR_KEY", "k" * 40)
    monkeypatch.setenv("AUDIT_ANCHOR_DIR", str(tmp_path / "anchors"))
    book = ChainMonitor(platform).book
    anchor = book.append(3, "ab" * 32, 3)
    assert book.read() == [anchor | {"line": 1, "valid": True}]
    assert sorted(p.name for p in (tmp_path / "anchors").iterdir()) == ["plans.anchors.jsonl"]  # no key file


# ---------------------------------------------------------------- the /audit API


def _hr_page(app, query=""):
    tokens = Tokens(app.extensions["kinerja"].config.jwt_secret)
    r = app.test_client().get(f"/plans/api/v1/audit?limit=200{query}", headers=tokens.hr("PKMB"))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_audit_api_warns_when_the_chain_does_not_verify(tmp_path, attack):
    app = anchored_app(tmp_path)
    ids = row_ids(app)
    assert _hr_page(app)["chain"] == {"ok": True, "first_bad_id": None, "problem": None, "message": None}
    do, first_bad, problem = ATTACKS[attack]
    do(app, ids)
    app.extensions["kinerja"].engine.dispose()
    fresh = plans_app(tmp_path)  # a web server of its own: it never ran the full verification
    chain = _hr_page(fresh)["chain"]
    assert chain["ok"] is False and chain["first_bad_id"] == first_bad(ids)
    assert chain["problem"] == problem
    assert chain["message"].startswith(f"Log audit tidak lolos verifikasi mulai baris {first_bad(ids)}")


def test_a_forged_approver_is_flagged_in_the_audit_api(tmp_path):
    clock = FakeClock()
    app = plans_app(tmp_path, clock=clock)
    org = Org(app, app.test_client(), Tokens(app.extensions["kinerja"].config.jwt_secret), clock)
    seed(org)
    hp, ka, sa = org.team_a()
    approved = [
        r for r in _hr_page(app, f"&entity_type=plan&entity_id={sa['id']}")["items"] if r["action"] == "plan.approved"
    ]
    (row,) = approved
    assert row["actor"] == KASI_A
    tamper(app, update(T).where(T.c.id == row["id"]).values(actor=HEAD))  # "the head approved it"
    page = _hr_page(app, f"&entity_type=plan&entity_id={sa['id']}")
    assert [r["actor"] for r in page["items"] if r["action"] == "plan.approved"] == [HEAD]
    assert page["chain"]["ok"] is False and page["chain"]["first_bad_id"] == row["id"]
    assert page["chain"]["problem"] == "hash_mismatch"
    mine = org.get("/audit?limit=200", org.as_(STAFF_A[0])).get_json()  # the employee sees it too
    assert mine["chain"]["first_bad_id"] == row["id"]
    run_job(app)
    assert chain_ok_metric(app) == 0.0


# ---------------------------------------------------------------- triggers


@pytest.mark.parametrize("service", registry.SERVICES)
def test_update_and_delete_on_the_audit_log_are_refused_sqlite(tmp_path, service):
    url = f"sqlite:///{tmp_path}/{service}.db"
    upgrade(registry.migrations_dir(service), url)
    _assert_append_only(create_engine(url))


@pytest.mark.integration
@pytest.mark.parametrize("service", registry.SERVICES)
def test_update_delete_and_truncate_on_the_audit_log_are_refused_postgres(postgres_url, service):
    upgrade(registry.migrations_dir(service), postgres_url)
    engine = make_engine(postgres_url)
    try:
        _assert_append_only(engine, text("TRUNCATE audit_log"))
    finally:
        engine.dispose()


def _assert_append_only(engine, *more):
    """UPDATE and DELETE (and ``more``) are refused and change nothing, until the triggers are dropped."""
    tables = define_platform_tables(MetaData())
    t = tables.audit
    with engine.begin() as conn:
        with Session(bind=conn) as s:
            for i in range(3):
                audit.record(
                    s, tables, actor="hr", action="x.changed", entity_type="x", entity_id=str(i),
                    now=datetime(2026, 3, 1, tzinfo=timezone.utc), after={"i": i},
                )  # fmt: skip
            s.flush()
    for statement in (update(t).values(actor="forger"), t.delete().where(t.c.id == 3), *more):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(statement)
    with engine.connect() as conn:
        assert conn.execute(select(t.c.actor).distinct()).scalars().all() == ["hr"]
        assert conn.execute(select(t.c.id)).scalars().all() == [1, 2, 3]
    with engine.begin() as conn:  # deliberate DDL is what it now takes
        for drop in audit.drop_append_only_ddl(conn.dialect.name):
            conn.execute(text(drop))
        conn.execute(t.delete().where(t.c.id == 3))
    engine.dispose()


@pytest.mark.integration
def test_rows_chained_by_postgresql_hash_as_the_verifier_does(postgres_url):
    """On PostgreSQL a single row is chained by the database (sha256 in the insert); its hash must be
    the one the verifier computes in Python, whatever the text holds: names with diacritics, quotes,
    backslashes, emoji, nested JSON, nulls."""
    upgrade(registry.migrations_dir("plans"), postgres_url)
    engine = make_engine(postgres_url)
    tables = define_platform_tables(MetaData())
    odd = [
        {"after": {"name": "Ni Luh Putu Ayu Wédarí", "note": 'kata "kutip" \\ garis\nbaru'}},
        {"before": {"grade": "III/a", "list": [1, 2.5, None, True]}, "after": {"emoji": "🙂 日本"}},
        {"before": None, "after": None, "agency": None, "subject": None},
    ]
    try:
        for i, extra in enumerate(odd * 2):  # six rows, each in its own transaction: each reads the last
            with engine.begin() as conn, Session(bind=conn) as s:
                entry = {"actor": "hr@pkmb", "action": "x.changed", "entity_type": "x", "entity_id": str(i)}
                audit.record(s, tables, now=datetime(2026, 3, 1, 7, 30, tzinfo=timezone.utc), **(entry | extra))
        with engine.connect() as conn:
            rows = conn.execute(select(tables.audit).order_by(tables.audit.c.id)).mappings().all()
        assert len(rows) == 6
        prev = audit.GENESIS
        for row in rows:
            assert row["prev_hash"] == prev
            assert row["hash"] == audit.row_hash(prev, audit._content(row))
            prev = row["hash"]
        assert rows[0]["after"]["name"] == "Ni Luh Putu Ayu Wédarí"
        with Session(bind=engine) as s:
            assert audit.verify_chain(s, tables) == (True, None)
    finally:
        engine.dispose()
