"""The event contract as AsyncAPI 3.0 (issue 16, Deliver 5): ``docs/asyncapi.json`` is generated
from the same schemas as ``docs/events.md`` and is current; it is valid against the AsyncAPI 3.0.0
JSON Schema (the specification's own, vendored from ``@asyncapi/specs`` 6.11.1, Apache-2.0, in
``contract/``); each service serves the document of what it publishes; and the envelopes the
services really write validate against their message's schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from sqlalchemy import select

ROOT = Path(__file__).resolve().parents[2]
SPEC_SCHEMA = Path(__file__).parent / "contract" / "asyncapi-3.0.0.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(json.loads(SPEC_SCHEMA.read_text(encoding="utf-8")))


def test_the_committed_document_is_current():
    from click.testing import CliRunner

    from kinerja.cli import main

    result = CliRunner().invoke(main, ["events", "asyncapi"])
    assert result.exit_code == 0, result.output
    committed = (ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8")
    assert committed == result.output, "docs/asyncapi.json is stale: run `make catalogue`"


def test_the_document_is_valid_asyncapi_3_and_a_broken_one_is_not(validator):
    doc = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    assert doc["asyncapi"] == "3.0.0"
    assert [e.message for e in validator.iter_errors(doc)] == []
    broken = {**doc, "channels": {**doc["channels"], "x": {"address": 7}}}  # the validator does bite
    assert list(validator.iter_errors(broken))
    # every event of the Markdown catalogue is a channel whose address is its type (the routing key)
    catalogue = (ROOT / "docs" / "events.md").read_text(encoding="utf-8")
    types = {line.split("`")[1] for line in catalogue.splitlines() if line.startswith("## `")}
    assert {c["address"] for c in doc["channels"].values()} == types
    for c in doc["channels"].values():
        assert c["bindings"]["amqp"]["exchange"]["name"] == "kinerja.events"


def test_each_service_serves_what_it_publishes(validator, tmp_path):
    from werkzeug.test import Client

    from kinerja import registry
    from kinerja.embedded import Embedded

    emb = Embedded(env={"KINERJA_VAR": str(tmp_path)}, services=tuple(registry.SERVICES))
    try:
        client = Client(emb.wsgi)
        for name in registry.SERVICES:
            r = client.get(f"/{name}/asyncapi.json")  # no token: public, as the OpenAPI is
            assert r.status_code == 200 and r.mimetype == "application/json", name
            doc = r.get_json()
            assert [e.message for e in validator.iter_errors(doc)] == [], name
            published = {spec.type for spec in registry.events_module(name).PUBLISHES}
            assert {c["address"] for c in doc["channels"].values()} == published
            assert all(op["action"] == "send" for op in doc["operations"].values())
    finally:
        emb.close()


def test_the_envelopes_the_services_write_match_their_message_schema(tmp_path):
    """A whole small chain (directory, cycle, plans approved, a period opened, ratings signed) and
    every envelope in the plans and reviews outboxes checked against the document."""
    from tests.plans.support import HEAD, KASI_A, STAFF_A
    from tests.reviews.support import Chain

    doc = json.loads((ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8"))
    import uuid

    from werkzeug.test import Client

    from kinerja.embedded import Embedded
    from services.common.bus import Topology
    from tests.plans.support import FakeClock, Org, Tokens, seed

    clock = FakeClock()
    emb = Embedded(
        env={"KINERJA_VAR": str(tmp_path)},
        clock=clock,
        services=("plans", "reviews"),
        topology=Topology.isolated(f"a{uuid.uuid4().hex[:8]}."),
    )
    try:
        plans_app = emb.apps["plans"]
        org = Org(plans_app, Client(emb.wsgi), Tokens(plans_app.extensions["kinerja"].config.jwt_secret), clock)
        seed(org)
        chain = Chain(emb, org)
        chain.approve_all_plans()
        chain.advance_to("monitoring:1:check_in")
        chain.set_org_result("SEK-A", "ISTIMEWA")
        chain.advance_to("monitoring:1:supervisor_evaluation")
        ev = chain.evaluation_of(STAFF_A[0])
        assert chain.rate(ev, KASI_A, "meets", "meets", deviation_reason="Sesuai bukti.").status_code == 200
        assert chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_A)).status_code == 200
        assert chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(STAFF_A[0])).status_code == 200
        assert chain.post(f"/evaluations/{ev['id']}/countersign", chain.as_(HEAD)).status_code == 200
        checked: dict[str, int] = {}
        for name in ("plans", "reviews"):
            platform = emb.apps[name].extensions["kinerja"]
            t = platform.tables.outbox
            with platform.session_factory() as s:
                envelopes = [row.envelope for row in s.execute(select(t.c.envelope).order_by(t.c.id))]
            for env in envelopes:
                key = env["type"]
                root = {**doc, "$ref": f"#/components/messages/{key}/payload"}
                errors = [e.message for e in jsonschema.Draft7Validator(root).iter_errors(env)]
                assert errors == [], (key, errors, env["data"])
                checked[key] = checked.get(key, 0) + 1
        assert {"plans.employee.upserted", "plans.plan.approved", "reviews.evaluation.signed"} <= set(checked)
        assert len(checked) >= 10, checked  # ten kinds of event, every one of their envelopes
    finally:
        emb.close()
