"""A signed evaluation document cannot change: every write the API offers on a signed evaluation is
refused and leaves its documents as they were (count, content, hashes), and the database itself
refuses UPDATE and DELETE on ``evaluation_documents`` (reviews migration 0003), so not even a
direct SQL edit goes unnoticed without deliberate DDL. A change after an objection is a new
version chained to the old one (test_chain.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DatabaseError

from kinerja import registry
from services.common.db import make_engine, upgrade
from services.reviews.domain import content_hash
from tests.figures import record
from tests.plans.support import HEAD, KASI_B, STAFF_B


def _documents(chain, ev_id: int) -> list[dict]:
    r = chain.get(f"/evaluations/{ev_id}/documents", chain.as_(STAFF_B[0]))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def test_every_write_on_a_signed_evaluation_is_refused_and_its_documents_stay_as_signed(chain):
    chain.advance_to("monitoring:1:check_in")
    chain.set_org_result("SEK-B", "ISTIMEWA")
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_B[0])
    r = chain.rate(ev, KASI_B, "meets", "meets", deviation_reason="Penilaian berdasarkan bukti dukung.")
    assert r.status_code == 200, r.get_json()
    r = chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_B))
    assert r.status_code == 200, r.get_json()
    signed = _documents(chain, ev["id"])
    assert len(signed) == 1 and signed[0]["content_hash"] == content_hash(signed[0]["content"])

    def etag(who):
        return {**chain.as_(who), "If-Match": chain.etag(ev["id"], chain.as_(who))}

    self_body = {"achievements": "Diubah.", "challenges": "Diubah.", "improvement_plan": "Diubah."}
    attempts = {
        "rating again (penilai)": lambda: chain.put(
            f"/evaluations/{ev['id']}/rating",
            etag(KASI_B),
            {"rating_hasil": "below", "rating_perilaku": "below", "perilaku_below_values": ["loyal"]},
        ),
        "self-assessment draft (employee)": lambda: chain.put(
            f"/evaluations/{ev['id']}/self-assessment", etag(STAFF_B[0]), self_body
        ),
        "self-assessment submit (employee)": lambda: chain.post(
            f"/evaluations/{ev['id']}/self-assessment/submit", chain.as_(STAFF_B[0]), self_body
        ),
        "calibration adjustment (penilai)": lambda: chain.post(
            f"/evaluations/{ev['id']}/adjust", chain.as_(KASI_B), {"rating_hasil": "below", "reason": "Diubah."}
        ),
        "calibration adjustment (HR)": lambda: chain.post(
            f"/evaluations/{ev['id']}/adjust", chain.hr, {"rating_hasil": "below", "reason": "Diubah."}
        ),
        "sign again (penilai)": lambda: chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_B)),
        "countersign before acknowledging (atasan)": lambda: chain.post(
            f"/evaluations/{ev['id']}/countersign", chain.as_(HEAD)
        ),
    }
    answers = {name: attempt() for name, attempt in attempts.items()}
    refused = {name: r.status_code for name, r in answers.items() if r.status_code in (403, 409)}
    after = _documents(chain, ev["id"])
    record(
        "faults",
        "writes on a signed evaluation",
        attempts=len(attempts),
        refused=len(refused),
        documents_changed=int(after != signed),
    )
    assert refused == {name: r.status_code for name, r in answers.items()}, {
        name: (r.status_code, r.get_json()) for name, r in answers.items() if name not in refused
    }
    assert after == signed
    current = chain.get(f"/evaluations/{ev['id']}", chain.hr).get_json()
    assert current["content_hash"] == signed[0]["content_hash"] and current["rating_hasil"] == "meets"


def _assert_documents_append_only(engine) -> None:
    with engine.begin() as conn:  # the smallest row the schema takes, without its evaluation
        if engine.dialect.name == "postgresql":  # this transaction only: skip the foreign key to evaluations
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(
            text(
                "INSERT INTO evaluation_documents (evaluation_id, version, content, content_hash, reason, created_at) "
                "VALUES (1, 1, '{}', :h, 'signed', CURRENT_TIMESTAMP)"
            ),
            {"h": content_hash({})},
        )
    for statement in (
        "UPDATE evaluation_documents SET content_hash = 'forged'",
        "DELETE FROM evaluation_documents",
        *(["TRUNCATE evaluation_documents"] if engine.dialect.name == "postgresql" else []),
    ):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT content_hash FROM evaluation_documents")).scalars().all() == [content_hash({})]


def test_the_database_refuses_to_change_or_delete_a_signed_document_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path}/reviews.db"
    upgrade(registry.migrations_dir("reviews"), url)
    _assert_documents_append_only(create_engine(url))


@pytest.mark.integration
def test_the_database_refuses_to_change_or_delete_a_signed_document_postgres(postgres_url):
    upgrade(registry.migrations_dir("reviews"), postgres_url)
    engine = make_engine(postgres_url)
    try:
        _assert_documents_append_only(engine)
    finally:
        engine.dispose()
