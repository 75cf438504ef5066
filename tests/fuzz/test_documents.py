"""Fixes to the OpenAPI documents that the fuzz suite found, checked without PostgreSQL: a problem's
extension members (RFC 9457 §3.2: ``what`` and ``id`` of a 404, ``etag``, ``retry_after``) are part of the
documented Problem, so a client validating answers against the document accepts the errors it gets."""

from __future__ import annotations

import jsonschema
import pytest

from kinerja import registry
from services.common.config import Config
from services.plans.app import create_app
from tests.plans.support import API, Tokens
from tests.reviews.test_openapi_contract import _spec


@pytest.mark.parametrize("service", registry.SERVICES)
def test_the_documented_problem_admits_extension_members(service, tmp_path):
    problem = _spec(service, tmp_path)["components"]["schemas"]["Problem"]
    assert problem.get("additionalProperties", True) is not False


def test_a_not_found_answer_is_valid_against_the_documented_problem(tmp_path):
    app = create_app(Config.from_env("plans", env={"KINERJA_VAR": str(tmp_path)}, testing=True))
    try:
        client = app.test_client()
        spec = client.get("/plans/openapi.json").get_json()
        hr = {"Authorization": "Bearer " + Tokens(app.extensions["kinerja"].config.jwt_secret).token("hr", sub="hr")}
        r = client.get(f"{API}/plans/2000", headers=hr)
        assert r.status_code == 404 and r.mimetype == "application/problem+json"
        body = r.get_json()
        assert {"what", "id"} <= set(body)  # extension members the catalogue's detail names
        schema = {**spec["components"]["schemas"]["Problem"], "components": spec["components"]}
        schema = _resolve(schema, spec)
        jsonschema.validate(body, schema)
    finally:
        app.extensions["kinerja"].engine.dispose()


def _resolve(node, spec):
    """The schema with its ``#/components/...`` references inlined (the Problem nests FieldError)."""
    if isinstance(node, dict):
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return _resolve(spec["components"]["schemas"][name], spec)
        return {k: _resolve(v, spec) for k, v in node.items() if k != "components"}
    if isinstance(node, list):
        return [_resolve(v, spec) for v in node]
    return node
