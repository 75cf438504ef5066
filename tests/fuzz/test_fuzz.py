"""Fuzzing in CI (issue 14, Deliver 3): for each service, schemathesis sends at least ``CASES`` requests
generated from the OpenAPI the service serves, as HR and as an employee of the same agency, to the app
on PostgreSQL. A user would notice every failure counted here: a 500 is a broken page or a lost write,
and an answer the document does not describe breaks every client generated from it."""

from __future__ import annotations

import os

import pytest

from kinerja import registry
from tests import figures
from tests.figures import ROOT
from tests.fuzz.support import fuzz, load_schema

pytestmark = pytest.mark.integration

# random cases per service beyond the coverage cases; KINERJA_FUZZ_SEED explores other cases than CI's
CASES = int(os.environ.get("KINERJA_FUZZ_CASES", "1000"))
SEED = int(os.environ["KINERJA_FUZZ_SEED"]) if os.environ.get("KINERJA_FUZZ_SEED") else None


@pytest.mark.parametrize("service", registry.SERVICES)
def test_fuzz_service(world, service):
    schema = load_schema(world.app(service), service)
    outcome = fuzz(schema, service, world.roles, CASES, seed=SEED)
    figures.record(
        "fuzz",
        service,
        cases=outcome.cases,
        coverage_cases=outcome.coverage_cases,
        server_errors=outcome.server_errors,
        schema_failures=outcome.schema_failures,
        roles=",".join(world.roles),
        seconds=round(outcome.seconds, 1),
    )
    report = ROOT / "var" / "fuzz" / f"{service}.txt"  # every distinct failure with one example, to read after CI
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(outcome.report() + "\n", encoding="utf-8")
    assert outcome.cases - outcome.coverage_cases >= CASES, outcome.report()
    assert (outcome.server_errors, outcome.schema_failures) == (0, 0), outcome.report()
