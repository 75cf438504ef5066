"""The OpenAPI of every service says what the server sends: each error response is documented as
``application/problem+json`` with the Problem schema (as the errors are sent), and every instant the
reviews API answers carries its zone offset (``filed_at``, ``decided_at``, ``set_at``, … were naive)."""

from __future__ import annotations

import re

import pytest

from kinerja import registry
from services.common.config import Config
from tests.plans.support import HEAD, KASI_B, STAFF_B

PROBLEM = "application/problem+json"
INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
OFFSET = re.compile(r"(Z|[+-]\d{2}:\d{2})$")


def _spec(service: str, tmp_path):
    app = registry.app_module(service).create_app(
        Config.from_env(service, env={"KINERJA_VAR": str(tmp_path)}, testing=True)
    )
    try:
        r = app.test_client().get(f"/{service}/openapi.json")
        assert r.status_code == 200
        return r.get_json()
    finally:
        app.extensions["kinerja"].engine.dispose()


def _error_responses(spec):
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, response in op["responses"].items():
                if status == "default" or int(status) >= 400:
                    if "$ref" in response:
                        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
                    yield f"{method.upper()} {path} {status}", response


@pytest.mark.parametrize("service", registry.SERVICES)
def test_every_documented_error_is_problem_json(service, tmp_path):
    spec = _spec(service, tmp_path)
    errors = dict(_error_responses(spec))
    assert len(errors) >= len(spec["paths"])  # at least the default response of each operation
    wrong = {
        where: sorted(r.get("content", {})) for where, r in errors.items() if set(r.get("content", {})) != {PROBLEM}
    }
    assert wrong == {}
    refs = {r["content"][PROBLEM]["schema"]["$ref"] for r in errors.values()}
    assert refs == {"#/components/schemas/Problem"}
    problem = spec["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "detail", "code"} <= set(problem["required"])
    assert "Error" not in spec["components"]["schemas"]  # the JSON error shape the server never sends


def _instants(value, path="$"):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _instants(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _instants(v, f"{path}[{i}]")
    elif isinstance(value, str) and INSTANT.match(value):
        yield path, value


def test_every_instant_the_reviews_api_answers_carries_its_offset(chain):
    chain.advance_to("monitoring:1:check_in")
    assert chain.set_org_result("SEK-B", "ISTIMEWA").status_code == 200
    chain.advance_to("monitoring:1:supervisor_evaluation")
    ev = chain.evaluation_of(STAFF_B[0])
    r = chain.rate(ev, KASI_B, "meets", "below", deviation_reason="Penilaian berdasarkan bukti dukung.")
    assert r.status_code == 200, r.get_json()
    assert chain.post(f"/evaluations/{ev['id']}/sign", chain.as_(KASI_B)).status_code == 200
    assert chain.post(f"/evaluations/{ev['id']}/acknowledge", chain.as_(STAFF_B[0])).status_code == 200
    r = chain.post(
        f"/evaluations/{ev['id']}/objections", chain.as_(STAFF_B[0]), {"reasons": "Bukti bulan Maret belum dinilai."}
    )
    assert r.status_code == 201, r.get_json()
    objection = r.get_json()
    r = chain.post(f"/objections/{objection['id']}/decide", chain.as_(HEAD), {"decision": "upheld", "reason": "Tetap."})
    assert r.status_code == 200, r.get_json()
    answers = {
        "objection filed": objection,
        "objection decided": r.get_json(),
        "objections": chain.get("/objections", chain.hr).get_json(),
        "org results": chain.get(f"/org-results?cycle_id={chain.org.cycle_id}&period_seq=1", chain.hr).get_json(),
        "evaluation": chain.get(f"/evaluations/{ev['id']}", chain.hr).get_json(),
        "documents": chain.get(f"/evaluations/{ev['id']}/documents", chain.hr).get_json(),
    }
    instants = {f"{name} {path}": v for name, body in answers.items() for path, v in _instants(body)}
    for key in ("filed_at", "decided_at", "set_at", "rated_at", "signed_at", "acknowledged_at", "created_at"):
        assert any(path.endswith(key) for path in instants), key  # the test does see each kind
    assert {path: v for path, v in instants.items() if not OFFSET.search(v)} == {}
    # what the OpenAPI says is always there is there
    spec = chain.org.client.get("/reviews/openapi.json").get_json()
    for name, schema in (("objection decided", "ObjectionOut"), ("objection filed", "ObjectionOut")):
        assert set(spec["components"]["schemas"][schema]["required"]) <= set(answers[name]), name
    assert answers["org results"]
    for item in answers["org results"]:
        assert set(spec["components"]["schemas"]["OrgResultOut"]["required"]) <= set(item)
    # and an error is sent as documented
    r = chain.get("/objections/999999", chain.hr)
    assert r.status_code == 404 and r.mimetype == PROBLEM
