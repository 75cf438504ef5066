"""The authorization matrix: ``matrix.md`` parsed into expected decisions, the endpoints the apps
really serve (from their url_map), and one case run as a request with its decision.

A decision is ``allow`` or ``deny``, read from the answer:

- 401, 403 and 404 are refusals (404 is how a person's or another agency's object is hidden) —
  provided a refused write left no trace: an audit row or an outbox event written makes it an allow;
- a list answering 2xx allows only if the object is in it (``Req.seen``); without it, it is hidden;
- any other 2xx, and a 4xx that comes after the access check (400, 409 for a stage or state, 412,
  415, 422, 428), allow: the caller got past the check and was stopped by the request or the
  object's state;
- a 5xx, or a 429 (a rate limit answers before any check), is an error, neither (the case fails)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.authz.requests import SPECS
from tests.authz.world import OBJECTS, ROLES, World

MATRIX = Path(__file__).with_name("matrix.md")
SERVICES = ("plans", "reviews", "surveys", "notifications")
CODES = {"Y": "allow", "-": "deny"}
DENY_STATUSES = (401, 403, 404)


@dataclass(frozen=True)
class Case:
    service: str
    endpoint: str  # "METHOD rule", as the url_map names it
    role: str
    obj: str  # own | other | agency | any
    expected: str  # allow | deny

    @property
    def id(self) -> str:
        return f"{self.endpoint} | {self.role} | {self.obj}"


def parse(text: str | None = None) -> dict[str, dict[str, dict[str, str]]]:
    """``{service: {endpoint: {role: code}}}`` from the Markdown tables (one per ``## service``). The
    columns are the ten roles in order, then any ``machine:<scope>`` columns, then a note."""
    text = MATRIX.read_text(encoding="utf-8") if text is None else text
    out: dict[str, dict[str, dict[str, str]]] = {}
    service, header = None, None
    for line in text.splitlines():
        m = re.match(r"^## (\w+)\s*$", line)
        if m:
            service, header = m.group(1), None
            out.setdefault(service, {})
            continue
        if service is None or not line.startswith("|"):
            continue
        cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
        if cells[0] == "endpoint":
            header = cells
            roles = tuple(c for c in header[1:] if c in ROLES or c.startswith("machine:"))
            assert tuple(r for r in roles if r in ROLES) == ROLES, f"columns of {service}: {header}"
            assert tuple(header[1 : 1 + len(roles)]) == roles, f"columns of {service}: roles first, then a note"
            continue
        if header is None or set(cells[0]) <= {"-", ":", " "}:
            continue
        endpoint = cells[0]
        assert endpoint not in out[service], f"two rows for {endpoint}"
        codes = dict(zip(roles, cells[1 : 1 + len(roles)]))
        for role, code in codes.items():
            assert len(code) in (1, 3) and set(code) <= set(CODES), f"{endpoint} {role}: bad code {code!r}"
        out[service][endpoint] = codes
    return out


def cases(matrix: dict) -> list[Case]:
    """Every case of the matrix, in the order they run: reads before writes (DELETE last), and within
    an endpoint the expected refusals first, so an allowed write never changes what a refusal meets."""
    order = {"GET": 0, "PATCH": 1, "PUT": 1, "POST": 1, "DELETE": 2}
    out = []
    for service, rows in matrix.items():
        for endpoint, codes in rows.items():
            _, objects = SPECS[endpoint]
            row = []
            for role in codes:
                code = codes[role]
                objs = OBJECTS if objects else ("any",)
                if len(code) == 1:
                    code = code * len(objs)
                assert len(code) == len(objs), f"{endpoint} {role}: {len(objs)} object(s), code {codes[role]!r}"
                row += [Case(service, endpoint, role, o, CODES[c]) for o, c in zip(objs, code)]
            row.sort(key=lambda c: c.expected == "allow")
            out.append((order[endpoint.split()[0]], row))
    out.sort(key=lambda pair: pair[0])
    return [c for _, row in out for c in row]


def served(apps: dict) -> dict[str, set[str]]:
    """``{service: {"METHOD rule"}}`` of what each app routes (HEAD and OPTIONS left out)."""
    out = {}
    for name, app in apps.items():
        out[name] = {
            f"{m} {r.rule}" for r in app.url_map.iter_rules() for m in r.methods if m not in ("HEAD", "OPTIONS")
        }
    return out


# a 422 naming only these: the body refers to an object the caller's agency does not hold — answered
# exactly as for one that does not exist, so another agency's people, units and cycles stay hidden
HIDDEN_REFERENCES = {"employee.unknown", "cycle.unknown", "unit.unknown"}


def _hides_reference(r) -> bool:
    codes = {e.get("code") for e in (r.get_json(silent=True) or {}).get("errors", [])}
    return bool(codes) and codes <= HIDDEN_REFERENCES


def run(w: World, case: Case) -> tuple[str, int, str]:
    """Send the case's request; its decision, status and the start of the body (for the report)."""
    build, objects = SPECS[case.endpoint]
    req = build(w, case.obj if objects else None)
    method = case.endpoint.split()[0]
    headers = {**w.headers(case.role), **req.headers}
    if req.etag_of:
        headers["If-Match"] = w.etag(req.etag_of)
    kw: dict = {"json": req.json} if req.json is not None else {}
    if req.data is not None:
        kw = {"data": req.data, "content_type": req.content_type}
    if req.real_server:
        kw["base_url"] = w.server_url
    if req.form:  # the public form: its CSRF token (and cookie) first, as a browser would
        page = w.call("GET", req.path, headers).get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        kw = {"data": {**req.data, "csrf_token": token.group(1) if token else ""}}
    before = w.traces(case.service) if method != "GET" else None
    r = w.call(method, req.path, headers, **kw)
    detail = r.get_data(as_text=True)[:800] if r.mimetype != "application/pdf" else "<pdf>"
    if r.status_code >= 500 or r.status_code == 429:  # a rate limit answers before any check
        return "error", r.status_code, detail
    if 300 <= r.status_code < 400 and not req.form:  # only the HTML form redirects (to its thanks page)
        return "error", r.status_code, detail
    refused = r.status_code in DENY_STATUSES or (r.status_code == 422 and _hides_reference(r))
    if refused and before is not None and w.traces(case.service) != before:
        return "allow", r.status_code, "(refused, but an audit row or event was written) " + detail
    if r.status_code in DENY_STATUSES:
        missing = r.status_code == 404 and req.missing_is_allow
        return ("allow" if missing else "deny"), r.status_code, detail
    if r.status_code == 422 and _hides_reference(r):
        return "deny", r.status_code, "(a referenced object is unknown to the caller) " + detail
    if 200 <= r.status_code < 300 and req.seen is not None and not req.seen(r):
        return "deny", r.status_code, "(answered without the object) " + detail
    return "allow", r.status_code, detail
