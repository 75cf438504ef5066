"""The platform pieces that are not tied to one service: config, auth, i18n, cursors, audit chain,
the event catalogue and the embedded dispatcher."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import MetaData, create_engine, select, update
from sqlalchemy.orm import sessionmaker

from services.common import audit
from services.common.auth import Principal, TokenVerifier, issue_token
from services.common.config import DEV_JWT_SECRET, Config, ConfigError, service_database_url
from services.common.errors import Problem, flatten_messages
from services.common.http import decode_cursor, encode_cursor
from services.common.i18n import Catalogue, negotiate
from services.common.tables import define_platform_tables

ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- configuration


def test_embedded_defaults_are_sqlite_per_service_and_memory_bus(tmp_path):
    cfg = Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path)})
    assert cfg.embedded
    assert cfg.database_url == f"sqlite:///{tmp_path}/plans.db"
    assert cfg.broker_url == "memory://"


def test_shared_database_url_gives_one_postgres_database_per_service():
    env = {"DATABASE_URL": "postgresql://kinerja:s3cret@db.example:5432/postgres"}
    assert service_database_url("plans", env).endswith("@db.example:5432/kinerja_plans")
    assert service_database_url("reviews", env).endswith("/kinerja_reviews")
    assert "s3cret" in service_database_url("plans", env)  # the password survives rendering
    env["PLANS_DATABASE_URL"] = "postgresql://x@y/z"
    assert service_database_url("plans", env) == "postgresql://x@y/z"


PROD = {
    "KINERJA_MODE": "production",
    "DATABASE_URL": "postgresql://p@h/d",
    "BROKER_URL": "amqp://g:g@h//",
    "JWT_JWKS_URL": "https://idp.example/jwks.json",
}


def test_production_refuses_embedded_parts_and_the_dev_secret():
    assert not Config.from_env("plans", env=PROD).embedded
    for missing, needle in (
        ("JWT_JWKS_URL", "JWT_JWKS_URL"),
        ("DATABASE_URL", "DATABASE_URL"),
        ("BROKER_URL", "BROKER_URL"),
    ):
        env = {k: v for k, v in PROD.items() if k != missing}
        with pytest.raises(ConfigError, match=needle):
            Config.from_env("plans", env=env)
    with pytest.raises(ConfigError, match="development JWT_SECRET"):
        Config.from_env("plans", env=PROD | {"JWT_SECRET": DEV_JWT_SECRET})
    with pytest.raises(ConfigError, match="KINERJA_MODE"):
        Config.from_env("plans", env={"KINERJA_MODE": "staging"})


# ---------------------------------------------------------------- auth


def _verifier(**env):
    # HS256 with a given secret (embedded mode's default is the folder's own random one)
    return TokenVerifier(Config.from_env("plans", env={"JWT_SECRET": DEV_JWT_SECRET} | env))


def test_hs256_token_round_trip_with_claims():
    tok = issue_token(DEV_JWT_SECRET, roles=["employee", "supervisor"], agency="PKTD", nip="198503152010012003")
    p = _verifier().verify(tok)
    assert p == Principal(
        sub="198503152010012003", roles=frozenset({"employee", "supervisor"}), agency="PKTD", nip="198503152010012003"
    )


@pytest.mark.parametrize(
    "claims,code",
    [
        ({"sub": "a", "roles": ["hr"]}, "auth.invalid"),  # no exp
        ({"roles": ["hr"], "exp": time.time() + 86400}, "auth.invalid"),  # no sub
        ({"sub": "a", "roles": ["root"], "exp": time.time() + 86400}, "auth.invalid"),  # unknown role
        ({"sub": "a", "roles": ["hr"], "exp": time.time() - 3600}, "auth.expired"),
    ],
)
def test_bad_tokens_are_401(claims, code):
    tok = jwt.encode(claims, DEV_JWT_SECRET, algorithm="HS256")
    with pytest.raises(Problem) as exc:
        _verifier().verify(tok)
    assert exc.value.status == 401 and exc.value.code == code


def test_token_signed_with_another_secret_is_refused():
    tok = issue_token("another-secret-another-secret-another", roles=["hr"], agency="X")
    with pytest.raises(Problem) as exc:
        _verifier().verify(tok)
    assert exc.value.status == 401


def _jwks_file(tmp_path, key, kid="k1") -> str:
    pub = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    pub.update(kid=kid, use="sig", alg="RS256")
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [pub]}))
    return path.as_uri()


def test_production_verifies_rs256_against_jwks_and_refuses_hs256(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env = PROD | {"JWT_JWKS_URL": _jwks_file(tmp_path, key)}
    verifier = TokenVerifier(Config.from_env("plans", env=env))
    good = jwt.encode(
        {"sub": "svc-bkn", "roles": ["agency"], "agency": "PKTD", "exp": time.time() + 60},
        key,
        algorithm="RS256",
        headers={"kid": "k1"},
    )
    assert verifier.verify(good).roles == {"agency"}
    hs = issue_token(DEV_JWT_SECRET, roles=["admin"])
    with pytest.raises(Problem) as exc:
        verifier.verify(hs)
    assert exc.value.status == 401
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(
        {"sub": "x", "roles": ["admin"], "exp": time.time() + 60}, other, algorithm="RS256", headers={"kid": "k1"}
    )
    with pytest.raises(Problem):
        verifier.verify(forged)


# ---------------------------------------------------------------- i18n, cursors, field errors


@pytest.mark.parametrize(
    "header,override,expected",
    [
        (None, None, "id"),
        ("en-US,en;q=0.9", None, "en"),
        ("fr, en;q=0.5, id;q=0.8", None, "id"),
        ("en", "id", "id"),
        ("de", None, "id"),
        ("en;q=garbage", None, "en"),
    ],
)
def test_language_negotiation_prefers_indonesian(header, override, expected):
    assert negotiate(header, override) == expected


def test_catalogue_has_every_platform_key_in_both_languages():
    cat = Catalogue()
    assert set(cat.messages["id"]) == set(cat.messages["en"])
    assert cat.t("http.too_large", "en", limit=10) == "The request body exceeds the limit of 10 bytes."
    assert cat.t("http.too_large", "xx", limit=10).startswith("Isi permintaan")


def test_cursor_round_trip_and_garbage():
    assert decode_cursor(encode_cursor(1234)) == 1234
    with pytest.raises(Problem) as exc:
        decode_cursor("%%%not-a-cursor")
    assert exc.value.status == 422 and exc.value.errors[0].field == "cursor"


def test_nested_marshmallow_messages_become_field_paths():
    errs = flatten_messages(
        {"rhk": {0: {"iki": {1: {"aspect": ["Unknown field."]}}}}, "name": ["Missing data for required field."]}
    )
    assert {(e.field, e.code) for e in errs} == {("rhk[0].iki[1].aspect", "field.unknown"), ("name", "field.required")}


# ---------------------------------------------------------------- audit chain


def test_audit_chain_detects_tampering(tmp_path):
    md = MetaData()
    tables = define_platform_tables(md)
    engine = create_engine(f"sqlite:///{tmp_path}/a.db")
    md.create_all(engine)
    factory = sessionmaker(engine)
    now = datetime(2026, 3, 1, tzinfo=timezone.utc)
    with factory() as s:
        for i in range(5):
            audit.record(
                s,
                tables,
                actor="hr-1",
                action="employee.updated",
                entity_type="employee",
                entity_id=str(i),
                now=now,
                before={"grade": "III/a"},
                after={"grade": "III/b"},
                agency="PKTD",
                subject=str(i),
            )
        s.commit()
        assert audit.verify_chain(s, tables) == (True, None)
        rows = s.execute(
            select(tables.audit.c.id, tables.audit.c.prev_hash, tables.audit.c.hash).order_by(tables.audit.c.id)
        ).all()
        assert rows[0].prev_hash == audit.GENESIS
        assert all(b.prev_hash == a.hash for a, b in zip(rows, rows[1:]))
        s.execute(update(tables.audit).where(tables.audit.c.id == rows[2].id).values(after={"grade": "IV/e"}))
        s.commit()
        assert audit.verify_chain(s, tables) == (False, rows[2].id)


# ---------------------------------------------------------------- event catalogue and embedded runner


def test_event_catalogue_page_is_up_to_date():
    from click.testing import CliRunner

    from kinerja.cli import main

    result = CliRunner().invoke(main, ["events", "catalogue"])
    assert result.exit_code == 0, result.output
    for type_ in ("plans.cycle.opened", "plans.plan.approved", "plans.employee.upserted"):
        assert f"## `{type_}`" in result.output
    committed = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    assert committed == result.output, "docs/events.md is stale: run `make catalogue`"


def test_cli_token_prints_a_verifiable_token():
    from click.testing import CliRunner

    from kinerja.cli import main

    result = CliRunner().invoke(main, ["token", "--role", "hr", "--agency", "PKTD"])
    assert result.exit_code == 0, result.output
    p = TokenVerifier(Config.from_env("plans")).verify(result.output.strip())  # the folder's own secret
    assert p.roles == {"hr"} and p.agency == "PKTD"
    # a lifetime the services would refuse (JWT_MAX_TTL, 24 h) is not issued at all
    longer = CliRunner().invoke(main, ["token", "--role", "hr", "--ttl", str(25 * 3600)])
    assert longer.exit_code == 2 and "JWT_MAX_TTL" in longer.output


def test_embedded_dispatcher_mounts_services_at_their_prefix(tmp_path):
    from werkzeug.test import Client

    from kinerja.embedded import Embedded

    emb = Embedded(env={"KINERJA_VAR": str(tmp_path)})
    try:
        client = Client(emb.wsgi)
        assert client.get("/plans/healthz").status_code == 200
        assert client.get("/plans/readyz").get_json()["checks"] == {"database": "ok", "broker": "ok"}
        assert {
            "plans": "/plans/",
            "reviews": "/reviews/",
            "surveys": "/surveys/",
            "notifications": "/notifications/",
        }.items() <= client.get("/healthz").get_json()["services"].items()
        home = client.get("/")  # the web portal answers every other path: a visitor signs in first
        assert home.status_code == 302 and home.headers["Location"].startswith("/login")
        missing = client.get("/nowhere")
        assert missing.status_code == 404 and "Tidak ditemukan" in missing.get_data(as_text=True)
        spec = client.get("/plans/openapi.json").get_json()
        assert "/plans/api/v1/plans/{plan_id}/approve" in spec["paths"]
        assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    finally:
        emb.close()


# ---------------------------------------------------------------- the use-case layer's one record(...)


def _usecase_app(tmp_path):
    from services.common.app import create_service_app

    md = MetaData()
    tables = define_platform_tables(md)
    config = Config.from_env("demo", env={"DATABASE_URL": f"sqlite:///{tmp_path}/u.db"})
    clock = lambda: datetime(2026, 3, 1, 9, tzinfo=timezone.utc)  # noqa: E731
    models, events = SimpleNamespace(platform_tables=tables), SimpleNamespace(PUBLISHES=[])
    app = create_service_app(config, tmp_path, models, events, [], clock=clock, migrate=False)
    md.create_all(app.extensions["kinerja"].engine)
    return app, tables


def test_record_writes_the_audit_row_and_the_event_in_one_transaction(tmp_path):
    from services.common.usecase import platform, record

    app, tables = _usecase_app(tmp_path)
    with app.app_context():
        with platform().uow() as s:
            envelope = record(
                s, Principal(sub="hr-1", roles=frozenset({"hr"})), "thing.renamed", "thing", 7,
                before={"name": "a"}, after={"name": "b"}, agency="PKTD", event="demo.thing.changed",
            )  # fmt: skip
        assert envelope["type"] == "demo.thing.changed" and envelope["subject"] == "7"
        assert envelope["data"] == {"name": "b"}
        with platform().uow() as s:
            row = s.execute(select(tables.audit)).one()
            assert (row.actor, row.action, row.before, row.after) == (
                "hr-1",
                "thing.renamed",
                {"name": "a"},
                {"name": "b"},
            )
            assert len(s.execute(select(tables.outbox)).all()) == 1
        # a failing transaction keeps neither
        with pytest.raises(RuntimeError):
            with platform().uow() as s:
                record(s, None, "thing.removed", "thing", 8, event="demo.thing.changed", data={"id": 8})
                raise RuntimeError("boom")
        with platform().uow() as s:
            assert len(s.execute(select(tables.audit)).all()) == 1
            assert len(s.execute(select(tables.outbox)).all()) == 1


def test_changing_takes_before_from_the_state_before_the_block_changes_it(tmp_path):
    from services.common.usecase import changing, platform

    app, tables = _usecase_app(tmp_path)
    thing = {"rating": "as_expected"}
    with app.app_context():
        with platform().uow() as s:
            with changing(s, "hr-2", "thing.rated", "thing", 1, lambda: dict(thing)) as c:
                thing["rating"] = "above"
                c.event, c.data = "demo.thing.changed", {"rating": thing["rating"]}
            with changing(s, "hr-2", "thing.rated", "thing", 1, lambda: dict(thing)) as c:
                c.skip()  # nothing changed: nothing recorded
        with platform().uow() as s:
            rows = s.execute(select(tables.audit)).all()
            assert [(r.actor, r.before, r.after) for r in rows] == [
                ("hr-2", {"rating": "as_expected"}, {"rating": "above"})
            ]
            assert len(s.execute(select(tables.outbox)).all()) == 1
