"""The fuzzing engine of tests/fuzz: schemathesis generates requests from a service's own OpenAPI (as the
service serves it) and sends them in-process to its Flask app; every answer is checked against what the
document promises — no 5xx, a documented status, the documented content type, a body valid against the
documented schema.

Each operation gets an equal share of the case budget for each role (HR and an employee of the same
agency), half of it valid data and half invalid (schemathesis's negative mode: wrong types, missing
fields, values out of range), because the 500s hide in what a client should never send. Failures are
collected, not raised at the first one, so a run counts all of them and the figures say how far off it
is; the assertion then shows one example of each distinct failure. Generation is derandomized: the same
code and schema give the same cases on every run, so CI is reproducible."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field

import hypothesis
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup, ServerError
from schemathesis.generation import GenerationMode
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override
from schemathesis.openapi.checks import UndefinedStatusCode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    is_unexpected_http_status_case,
    response_schema_conformance,
    status_code_conformance,
)


def success_status_documented(ctx, response, case) -> None:
    """Every operation documents ``default`` (the problem+json of any error), which makes schemathesis's
    ``status_code_conformance`` accept any status; a success (below 400) must be listed by its own code,
    so a 201 documented as 200, or an undocumented 204 or redirect, still fails."""
    if is_unexpected_http_status_case(case):  # a probe of another method (OPTIONS, TRACE): not this operation
        return
    documented = case.operation.responses.status_codes
    if response.status_code < 400 and str(response.status_code) not in documented:
        raise UndefinedStatusCode(
            operation=case.operation.label,
            status_code=response.status_code,
            defined_status_codes=list(documented),
            allowed_status_codes=[int(c) for c in documented if c.isdigit()],
            message=f"Received: {response.status_code}\nDocumented: {', '.join(documented)}",
        )


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    success_status_documented,
    content_type_conformance,
    response_schema_conformance,
]


@dataclass
class Outcome:
    """What one service's run counted: cases sent, cases answered with a 5xx (or an exception), cases whose
    answer broke the document (status, content type, schema), and one example per distinct failure."""

    service: str
    cases: int = 0
    coverage_cases: int = 0  # of ``cases``: schemathesis's fixed coverage list (the rest are random)
    server_errors: int = 0
    schema_failures: int = 0
    statuses: dict[str, int] = field(default_factory=dict)  # "404 plans.not_found": how often
    examples: dict[str, str] = field(default_factory=dict)
    unsatisfiable: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add_failure(self, key: str, text: str) -> None:
        self.examples.setdefault(key, text[:3000])

    def report(self) -> str:
        head = (
            f"{self.service}: {self.cases} cases ({self.coverage_cases} coverage), {self.server_errors} server errors, "
        )
        head += f"{self.schema_failures} schema failures, {len(self.examples)} distinct"
        statuses = [f"  {k}: {v}" for k, v in sorted(self.statuses.items())]
        lines = [head, "answers:", *statuses, *(f"no cases: {u}" for u in self.unsatisfiable)]
        return "\n\n".join(["\n".join(lines), *(f"--- {k}\n{v}" for k, v in sorted(self.examples.items()))])


def load_schema(app, service: str):
    """The OpenAPI the service serves (``/<service>/openapi.json``), bound to the app for in-process calls."""
    return schemathesis.openapi.from_wsgi(f"/{service}/openapi.json", app)


def operations(schema) -> list:
    ops = [result.ok() for result in schema.get_all_operations()]
    return sorted(ops, key=lambda op: (op.path, op.method))


def fuzz(
    schema, service: str, roles: dict[str, dict], budget: int, coverage: bool = True, seed: int | None = None
) -> Outcome:
    """Send schemathesis's coverage cases of every operation (``coverage``: boundary values, each missing
    required part, each wrong type — a fixed list, the roles taking turns), then about ``budget`` random
    cases, split evenly over operations × roles × (valid, invalid): derandomized (the same cases every run),
    or drawn from ``seed`` to explore others."""
    outcome = Outcome(service)
    ops = operations(schema)
    # a tenth more than the even share: an operation whose strategy runs dry (a path with one value, nothing
    # left to break) sends fewer, and the budget is a floor
    share = max(1, math.ceil(1.1 * budget / (len(ops) * len(roles) * 2)))
    started = time.monotonic()
    for op in ops:
        if coverage:
            _cover(op, roles, outcome)
        for role, headers in roles.items():
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _run(op, role, headers, mode, share, outcome, seed)
    outcome.seconds = time.monotonic() - started
    return outcome


def _cover(op, roles: dict[str, dict], outcome: Outcome) -> None:
    config = op.schema.config.generation_for(operation=op, phase="coverage")
    generator = CoverageGenerator(
        operation=op,
        generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        generation_config=config,
        auth_storage=None,
        override=Override(),
        feedback=FeedbackSources(),
    )
    turns = list(roles.items())
    for i, case in enumerate(generator):
        role, headers = turns[i % len(turns)]
        outcome.coverage_cases += 1
        _send(case, op, f"{role} coverage", headers, outcome)


def _run(op, role: str, headers: dict, mode: GenerationMode, examples: int, outcome: Outcome, seed: int | None) -> None:
    try:
        strategy = op.as_strategy(generation_mode=mode)
    except Exception:  # noqa: BLE001 - an operation with nothing to negate has no negative cases
        return

    @settings(
        max_examples=examples,
        derandomize=seed is None,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(case=strategy, data=st.data())
    def one(case, data):
        if mode is GenerationMode.POSITIVE and case.path_parameters and data.draw(st.booleans()):
            for name, value in case.path_parameters.items():  # half the valid cases name a seeded object
                if isinstance(value, int) and not isinstance(value, bool):
                    case.path_parameters[name] = data.draw(st.integers(1, 12))
        _send(case, op, f"{role} {mode.value}", headers, outcome)

    if seed is not None:
        one = hypothesis.seed(seed)(one)
    try:
        one()
    except Unsatisfiable:  # e.g. no way to break a body whose every field is optional and free-form
        outcome.unsatisfiable.append(f"{role} {mode.value} {op.method.upper()} {op.path}")


def _send(case, op, how: str, headers: dict, outcome: Outcome) -> None:
    """One case: sent as ``headers``' bearer (unless the case is the one without credentials), checked."""
    outcome.cases += 1
    label = f"{how} {case.method.upper()} {op.path}"
    try:
        response = case.call(headers=headers)
    except Exception as exc:  # noqa: BLE001 - the app raised: a 500 a client would see
        outcome.server_errors += 1
        outcome.add_failure(f"{op.method.upper()} {op.path}: exception {type(exc).__name__}", f"{label}\n{exc!r}")
        return
    answer = _answer(response)
    outcome.statuses[answer] = outcome.statuses.get(answer, 0) + 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except FailureGroup as group:
        _count(group.exceptions, label, op, response, outcome)
    except Failure as failure:
        _count([failure], label, op, response, outcome)
    current = _problem(response).get("etag") if answer == "428 etag.required" else None
    if current and "If-Match" not in (case.headers or {}):
        # a versioned write refuses a request without If-Match and names the current version: send the case
        # again with it, so the generated body reaches the update itself (a user's edit of a real object)
        case.headers = {**(case.headers or {}), "If-Match": current}
        _send(case, op, f"{how} if-match", headers, outcome)


def _problem(response) -> dict:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _answer(response) -> str:
    """The status and, for a problem, its code: what the report counts answers by."""
    if response.status_code < 400:
        return str(response.status_code)
    return f"{response.status_code} {_problem(response).get('code', '(no problem code)')}"


def _count(failures, label: str, op, response, outcome: Outcome) -> None:
    if any(isinstance(f, ServerError) for f in failures):
        outcome.server_errors += 1
    if any(not isinstance(f, ServerError) for f in failures):
        outcome.schema_failures += 1
    for f in failures:
        kind = type(f).__name__
        extra = f" {f.status_code}" if isinstance(f, (ServerError, UndefinedStatusCode)) else ""
        key = f"{op.method.upper()} {op.path}: {kind}{extra}"
        body = (response.content or b"")[:800].decode("utf-8", "replace")
        outcome.add_failure(key, f"{label} -> {response.status_code}\n{f.title}\n{f.message}\nbody: {body}")
