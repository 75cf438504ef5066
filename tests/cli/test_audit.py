"""``kinerja audit verify`` names each service's first bad row (or says ok with the row count) and
exits non-zero when any log does not verify: embedded (``var/`` SQLite) and production
(PostgreSQL from ``<SERVICE>_DATABASE_URL``, anchors signed with ``AUDIT_ANCHOR_KEY``)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from kinerja.cli import main
from kinerja.embedded import Embedded
from services.common.auth import issue_token
from tests.common.test_audit import ATTACKS, T, anchored_app, plans_app, row_ids, tamper, write_rows
from tests.plans.support import HEAD, FakeClock, Org, Tokens, seed


def verify(*args: str):
    return CliRunner().invoke(main, ["audit", "verify", *args])


@pytest.fixture
def var(tmp_path, monkeypatch):
    monkeypatch.setenv("KINERJA_VAR", str(tmp_path))
    for name in ("KINERJA_MODE", "DATABASE_URL", "PLANS_DATABASE_URL", "AUDIT_ANCHOR_KEY", "AUDIT_ANCHOR_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_every_service_verifies_after_real_use(var):
    emb = Embedded(env={"KINERJA_VAR": str(var)}, portal=False)
    try:
        admin = {"Authorization": "Bearer " + issue_token(emb.platform("plans").config.jwt_secret, roles=["admin"])}
        r = (
            emb.apps["plans"]
            .test_client()
            .post(
                "/plans/api/v1/agencies",
                headers=admin,
                json={"code": "PKMB", "name": "Pemerintah Kabupaten Maju Bersama"},
            )
        )
        assert r.status_code == 201, r.get_json()
        emb.pump()  # the periodic jobs: each service's head anchored
    finally:
        emb.close()
    result = verify()
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines())
    assert list(lines) == ["plans", "reviews", "surveys", "notifications"]
    assert lines["plans"].startswith("ok, 1 rows, 1 anchors")
    assert all(v.startswith("ok, ") for v in lines.values())


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_each_attack_is_named_by_its_first_bad_row(var, attack):
    app = anchored_app(var)
    ids = row_ids(app)
    assert verify("--service", "plans").output.startswith("plans: ok, 10 rows, 1 anchors")
    do, first_bad, problem = ATTACKS[attack]
    do(app, ids)
    app.extensions["kinerja"].engine.dispose()
    result = verify("--service", "plans")
    assert result.exit_code == 1
    assert result.output.startswith(f"plans: BROKEN at row {first_bad(ids)}: {problem} — ")


def test_a_forged_approver_is_named(var):
    clock = FakeClock()
    app = plans_app(var, clock=clock)
    org = Org(app, app.test_client(), Tokens(app.extensions["kinerja"].config.jwt_secret), clock)
    seed(org)
    _, _, sa = org.team_a()
    rows = org.get(f"/audit?entity_type=plan&entity_id={sa['id']}", org.hr).get_json()["items"]
    (approval,) = [r["id"] for r in rows if r["action"] == "plan.approved"]
    tamper(app, update(T).where(T.c.id == approval).values(actor=HEAD))
    result = verify("--service", "plans")
    assert result.exit_code == 1
    assert result.output.startswith(f"plans: BROKEN at row {approval}: hash_mismatch")


def test_a_missing_database_is_not_ok(var):
    result = verify("--service", "reviews")
    assert result.exit_code == 1
    assert result.output == f"reviews: cannot verify: no database at {var}/reviews.db\n"


@pytest.mark.integration
def test_production_on_postgresql_with_anchors_signed_by_the_environment_key(var, postgres_url, monkeypatch):
    app = plans_app(var, PLANS_DATABASE_URL=postgres_url)  # migrates the database (with the triggers)
    write_rows(app, 6)
    monkeypatch.setenv("KINERJA_MODE", "production")
    monkeypatch.setenv("PLANS_DATABASE_URL", postgres_url)
    result = verify("--service", "plans", "--anchor")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("plans: ok, 6 rows, 0 anchors; anchors not checked and none written")
    monkeypatch.setenv("AUDIT_ANCHOR_KEY", "an-operator-secret-of-forty-characters!!")
    monkeypatch.setenv("AUDIT_ANCHOR_DIR", str(var / "anchors"))
    result = verify("--service", "plans", "--anchor")
    assert result.exit_code == 0, result.output
    assert "plans: ok, 6 rows, 0 anchors; anchored row 6 in " in result.output
    (anchor,) = [json.loads(x) for x in (var / "anchors" / "plans.anchors.jsonl").read_text().splitlines()]
    assert anchor["db"] == "postgresql:" + postgres_url.rsplit("/", 1)[1] and "postgres@" not in json.dumps(anchor)
    assert verify("--service", "plans").output.startswith("plans: ok, 6 rows, 1 anchors")
    ids = row_ids(app)
    tamper(app, T.delete().where(T.c.id >= ids[4]))  # the last two rows
    app.extensions["kinerja"].engine.dispose()
    result = verify("--service", "plans")
    assert result.exit_code == 1
    assert result.output.startswith(f"plans: BROKEN at row {ids[5]}: anchor_row_missing")
    monkeypatch.setenv("AUDIT_ANCHOR_KEY", "another-secret-than-the-one-that-signed-it")
    assert verify("--service", "plans").output.startswith("plans: BROKEN at row 6: anchor_signature")
