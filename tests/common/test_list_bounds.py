"""No endpoint answers a list of unbounded size (issue 14, Deliver 5, pagination caps). Every GET of
the four services' OpenAPI that returns a list is one of:

- a **page** (``{"items", "next_cursor"}``) taking ``limit`` at most 200 — asked for 201, it answers
  422 naming ``limit``;
- a **plain list capped** by ``services.common.http.capped`` (at most ``LIST_CAP`` items, past that
  422 ``list.too_long``): the few lists bounded by their owner (one plan's versions, realisations and
  feedback, one evaluation's documents, a cycle's organisation results) — in :data:`CAPPED` below;
- an **object** whose lists are bounded by what it describes (the agency's units, its rules) — in
  :data:`STRUCTURAL` below, with the reason.

A new list endpoint fails this test until it is paginated, capped or explained here."""

from __future__ import annotations

import re

import pytest
from werkzeug.test import Client

from kinerja.embedded import Embedded
from services.common import http as common_http
from services.common.auth import issue_token
from tests import figures
from tests.plans.support import FakeClock

SERVICES = ("plans", "reviews", "surveys", "notifications")

CAPPED = {  # plain lists, bounded by capped() (LIST_CAP, org-results: ORG_RESULTS_CAP)
    "/plans/api/v1/plans/{plan_id}/versions": "one per approval of the plan",
    "/plans/api/v1/plans/{plan_id}/realisations": "one per IKI and period of the plan",
    "/plans/api/v1/plans/{plan_id}/feedback": "the superiors' feedback on one plan",
    "/reviews/api/v1/evaluations/{evaluation_id}/documents": "one per signed version of the evaluation",
    "/reviews/api/v1/evaluations/{evaluation_id}/adjustments": "one per calibration change of one rating",
    "/reviews/api/v1/org-results": "units × periods of one cycle (narrow with unit_code)",
}
STRUCTURAL = {  # objects holding lists bounded by what they describe
    "/plans/api/v1/cycles/{cycle_id}": "the cycle's periods (at most 12) and units",
    "/plans/api/v1/plans/{plan_id}": "the plan's own RHK and IKI (its body is at most MAX_CONTENT_LENGTH)",
    "/reviews/api/v1/evaluations/{evaluation_id}": "the BerAKHLAK values rated below (at most the seven values)",
    "/plans/api/v1/plans/cascade-options": "the superior's RHK (one plan)",
    "/plans/api/v1/plans/{plan_id}/coverage": "one plan's RHK and the superior's direct subordinates",
    "/reviews/api/v1/objections/{objection_id}": "the statements of one objection",
    "/reviews/api/v1/followups/{followup_id}": "the IKI and values below of one evaluation (its SKP's, the seven)",
    "/reviews/api/v1/evaluations/{evaluation_id}/peer-proposal": "at most 20 proposed; candidates capped at 200",
    "/reviews/api/v1/distribution-rules": "one rule per predikat",
    "/reviews/api/v1/calibration": "one row per unit of the cycle",
    "/reviews/api/v1/rater-consistency": "one row per rater of the cycle",
    "/surveys/api/v1/campaigns/{campaign_id}": "the campaign's service options",
    "/surveys/api/v1/ikm": "the nine unsur and the groups asked for",
    "/surveys/api/v1/campaigns/{campaign_id}/report": "nine unsur; suggestions capped (suggestions_total)",
    "/notifications/api/v1/preferences": "one person's channels",
    "/notifications/api/v1/agency-settings": "one agency's channels",
    "/notifications/api/v1/hr-contacts": "the agency's HR contacts",
    "/notifications/api/v1/rules": "the agency's rules and templates",
    "/notifications/api/v1/deliveries/{delivery_id}": "the attempts of one delivery (bounded retries)",
    "/notifications/api/v1/webhooks/{subscription_id}": "the event types of one subscription",
}


@pytest.fixture(scope="module")
def specs(tmp_path_factory):
    e = Embedded(env={"KINERJA_VAR": str(tmp_path_factory.mktemp("lists"))}, clock=FakeClock(), portal=False)
    client = Client(e.wsgi)
    hr = {"Authorization": f"Bearer {issue_token(e.platform('plans').config.jwt_secret, roles=['hr'], agency='X')}"}
    yield client, hr, {s: client.get(f"/{s}/openapi.json", headers=hr).get_json() for s in SERVICES}
    e.close()


def _kind(spec, schema) -> str | None:
    schemas = spec["components"]["schemas"]

    def resolve(s):
        while "$ref" in s:
            s = schemas[s["$ref"].rsplit("/", 1)[1]]
        return s

    s = resolve(schema)
    if s.get("type") == "array":
        return "list"
    props = s.get("properties", {})
    if "items" in props and "next_cursor" in props:
        return "page"
    if any(resolve(v).get("type") == "array" for v in props.values()):
        return "object"
    return None


def list_endpoints(specs) -> list[tuple[str, str, dict]]:
    """``(kind, path, operation)`` of every GET whose success answer is JSON holding a list."""
    found = []
    for spec in specs.values():
        for path, ops in spec["paths"].items():
            op = ops.get("get")
            if not op:
                continue
            for status, resp in op["responses"].items():
                body = (resp.get("content") or {}).get("application/json")
                if status.startswith("2") and body and (kind := _kind(spec, body.get("schema", {}))):
                    found.append((kind, path, op))
    return found


def test_every_list_is_a_page_of_at_most_200_or_capped_or_explained(specs):
    client, hr, found = specs
    endpoints = list_endpoints(found)
    pages = [(p, op) for k, p, op in endpoints if k == "page"]
    lists = {p for k, p, _ in endpoints if k == "list"}
    objects = {p for k, p, _ in endpoints if k == "object"}
    assert len(pages) >= 15 and lists and objects  # the OpenAPI was read, not an empty spec
    for path, op in pages:
        limit = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}.get("limit")
        assert limit and limit["schema"].get("maximum") == 200 and limit["schema"].get("minimum") == 1, path
    assert lists == set(CAPPED), f"plain lists neither paginated nor capped: {sorted(lists - set(CAPPED))}"
    assert objects <= set(STRUCTURAL), f"lists inside objects, not explained: {sorted(objects - set(STRUCTURAL))}"
    refused = 0
    for path, _ in pages:  # asked for more than a page holds: 422 naming limit, whatever else is missing
        r = client.get(re.sub(r"\{[^}]+\}", "1", path), query_string={"limit": 201}, headers=hr)
        assert r.status_code == 422, (path, r.status_code)
        assert "limit" in {e["field"] for e in r.get_json()["errors"]}, (path, r.get_json())
        refused += 1
    figures.record(
        "limits",
        "list endpoints (OpenAPI GET)",
        pages=len(pages),
        capped=len(lists),
        structural=len(objects),
        page_limit=200,
        list_cap=common_http.LIST_CAP,
        refused_limit_201=refused,
    )


def test_a_capped_list_past_its_cap_is_a_problem(specs, monkeypatch):
    """``capped`` answers at most its cap and refuses past it with 422 list.too_long (Bahasa Indonesia first)."""
    from sqlalchemy import Column, Integer, MetaData, Table, create_engine, insert, select
    from sqlalchemy.orm import Session

    from services.common.errors import Problem

    t = Table("t", MetaData(), Column("id", Integer, primary_key=True))
    engine = create_engine("sqlite://")
    t.metadata.create_all(engine)
    with Session(engine) as s:
        s.execute(insert(t), [{"id": i} for i in range(1, 6)])
        assert common_http.capped(s, select(t.c.id), "butir", cap=5) == [1, 2, 3, 4, 5]
        with pytest.raises(Problem) as exc:
            common_http.capped(s, select(t.c.id), "butir", cap=4)
        assert (exc.value.status, exc.value.code, exc.value.params["limit"]) == (422, "list.too_long", 4)
        monkeypatch.setattr(common_http, "LIST_CAP", 2)  # the default is read at each call
        with pytest.raises(Problem):
            common_http.capped(s, select(t.c.id), "butir")
    from services.common.i18n import Catalogue

    cat = Catalogue()
    assert "lebih dari 4 butir" in cat.t("list.too_long", "id", what="umpan balik", limit=4)
    assert "more than 4 items" in cat.t("list.too_long", "en", what="feedback", limit=4)
