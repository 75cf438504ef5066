"""The authorization matrix (issue 14, item 4): every endpoint of the four services × ten callers
(anonymous, the owner, another employee, the superior, the atasan penilai, an unrelated supervisor,
HR, HR of another agency, a machine client without scopes, an admin, and the machine client holding each
one scope of issue 16, ``machine:<scope>``) × three objects (the owner's, another person's
of the same agency, another agency's), expected allow or deny as ``tests/authz/matrix.md`` says.

One case per cell and object, run in one world built once for the module (about 5 s); the figures
(endpoints, cases, unexpected allows and denies) are recorded per service whatever the outcome."""

from __future__ import annotations

from collections import Counter

import pytest

from tests import figures
from tests.authz.matrix import SERVICES, Case, cases, parse, run, served
from tests.authz.requests import SPECS
from tests.authz.world import OBJECTS, build

MATRIX = parse()
CASES = cases(MATRIX)
_outcomes: dict[Case, str] = {}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = build(tmp_path_factory.mktemp("authz"))
    yield w
    w.close()
    tally = Counter()
    for case, outcome in _outcomes.items():
        tally[(case.service, outcome)] += 1
    for service in SERVICES:
        ran = [c for c in _outcomes if c.service == service]
        if not ran:  # a selection (-k) that left this service out measured nothing of it
            continue
        figures.record(
            "authz",
            service,
            endpoints=len(MATRIX.get(service, {})),
            roles=len({c.role for c in ran}),
            objects=len(OBJECTS),
            cases=len(ran),
            unexpected_allows=tally[(service, "unexpected allow")],
            unexpected_denies=tally[(service, "unexpected deny")],
            errors=tally[(service, "error")],
        )


def test_every_routed_endpoint_has_a_row_and_every_row_a_route(world):
    """A new endpoint without a row fails here, as does a row left behind by a removed one."""
    routes = served(world.emb.apps)
    assert set(MATRIX) == set(SERVICES)
    for service in SERVICES:
        rows = set(MATRIX[service])
        assert not routes[service] - rows, f"{service}: endpoints without a row in matrix.md"
        assert not rows - routes[service], f"{service}: rows in matrix.md for no endpoint"
        assert not rows - set(SPECS), f"{service}: rows without a request in tests/authz/requests.py"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_matrix(world, case: Case):
    decision, status, detail = run(world, case)
    if decision == "error":
        _outcomes[case] = "error"
    elif decision != case.expected:
        _outcomes[case] = f"unexpected {decision}"
    else:
        _outcomes[case] = "as expected"
    assert decision == case.expected, f"expected {case.expected}, got {decision} ({status}): {detail}"


def test_a_machine_client_without_the_scope_is_told_which_scopes_open_it(world):
    """Issue 16: on every endpoint that is not public, the machine client holding no scope gets 403
    problem+json ``auth.scope_missing`` whose ``scopes`` are exactly those the endpoint declares
    (``[]`` where none opens it) — the same list the OpenAPI gives as its ``clientCredentials``
    requirement."""
    import json

    from services.common.scopes import declared, view_method

    wanted, documented = {}, {}
    for service, app in world.emb.apps.items():
        spec = app.test_client().get(f"/{service}/openapi.json").get_json()
        for rule in app.url_map.iter_rules():
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                wanted[f"{method} {rule.rule}"] = list(declared(view_method(app, rule.endpoint, method)))
        for path, ops in spec["paths"].items():
            for method, op in ops.items():
                for req in op.get("security", []) if isinstance(op, dict) else ():
                    if "clientCredentials" in req:
                        documented[(path, method.upper())] = req["clientCredentials"]
    checked = 0
    for service, rows in MATRIX.items():
        for endpoint, codes in rows.items():
            if codes["anonymous"] == "Y":
                continue
            _, objects = SPECS[endpoint]
            decision, status, detail = run(
                world, Case(service, endpoint, "machine", "own" if objects else "any", "deny")
            )
            body = json.loads(detail)
            assert (status, body["code"]) == (403, "auth.scope_missing"), (endpoint, detail)
            assert body["scopes"] == wanted[endpoint], endpoint
            checked += 1
    assert checked > 100
    from kinerja.registry import SCOPES

    assert {s for v in wanted.values() for s in v} == set(SCOPES)  # every scope opens something, none unknown
    columns = {r for rows in MATRIX.values() for codes in rows.values() for r in codes if r.startswith("machine:")}
    assert columns == {f"machine:{s}" for s in SCOPES}
    # the OpenAPI documents the same scopes (paths as OpenAPI writes them: {name})
    assert sorted(map(sorted, documented.values())) == sorted(sorted(v) for v in wanted.values() if v)
