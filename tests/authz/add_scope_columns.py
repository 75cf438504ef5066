"""Add the ``machine:<scope>`` columns (issue 16) to ``matrix.md``: one per scope, after ``admin``.

Idempotent: a table whose header has the columns is left as it is, and so is every row that has
them; a row without them (written in the ten-column format) gets them, derived from what the
services declare (``@accepts`` in ``services.common.scopes``, read from the apps' routes):

- a public row (``anonymous`` allowed) stays public: ``Y`` in ``machine`` and in every scope column;
- otherwise ``machine`` (a machine client holding no scope) becomes ``-``, and each scope column
  takes the row's former ``machine`` code when the endpoint declares that scope (or the code in
  ``OPENED``, where a scope opens more than a machine client could do before), else ``-``.

Run it after adding rows in the old format: ``.venv/bin/python -m tests.authz.add_scope_columns``."""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from kinerja import registry

MATRIX = Path(__file__).with_name("matrix.md")
SCOPES = tuple(registry.SCOPES)  # directory:read, plans:read, results:read, surveys:read, …
COLUMNS = tuple(f"machine:{s}" for s in SCOPES)
ROLES_BEFORE = 10  # anonymous … admin
# what a scope opens beyond what a machine client could do before issue 16 (endpoint → scope → code)
_PLAN = {"plans:read": "YY-"}
OPENED = {
    "GET /plans/api/v1/acting": {"directory:read": "YY-"},
    "GET /plans/api/v1/plans": _PLAN,
    "GET /plans/api/v1/plans/<int:plan_id>": _PLAN,
    "GET /plans/api/v1/plans/<int:plan_id>/versions": _PLAN,
    "GET /plans/api/v1/plans/<int:plan_id>/versions/<int:revision>": _PLAN,
    "GET /plans/api/v1/plans/<int:plan_id>/realisations": _PLAN,
}


def declared() -> dict[str, tuple[str, ...]]:
    """``{"METHOD rule": scopes}`` of every service's API, from apps built in a scratch folder."""
    from services.common.config import Config
    from services.common.scopes import declared as scopes_of
    from services.common.scopes import view_method

    out: dict[str, tuple[str, ...]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("plans", "reviews", "surveys", "notifications"):
            app = registry.app_module(name).create_app(Config.from_env(name, env={"KINERJA_VAR": tmp}))
            for rule in app.url_map.iter_rules():
                for method in rule.methods - {"HEAD", "OPTIONS"}:
                    out[f"{method} {rule.rule}"] = scopes_of(view_method(app, rule.endpoint, method))
    return out


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _line(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def convert(text: str, scopes: dict[str, tuple[str, ...]]) -> tuple[str, int]:
    out, changed, header = [], 0, None
    for line in text.splitlines():
        if re.match(r"^## \w+\s*$", line):
            header = None
        if not line.startswith("|"):
            out.append(line)
            continue
        cells = _cells(line)
        if cells[0] == "endpoint":
            header = cells
            if "machine:" not in line:
                cells = cells[: 1 + ROLES_BEFORE] + list(COLUMNS) + cells[1 + ROLES_BEFORE :]
                line, changed = _line(cells), changed + 1
            header = cells
        elif header is None:  # a table before any matrix header (the legend)
            pass
        elif set(cells[0]) <= {"-", ":", " "}:
            if len(cells) < len(header):
                line, changed = "|" + "---|" * len(header), changed + 1
        elif len(cells) == len(header) - len(COLUMNS):
            endpoint = cells[0].strip("`")
            machine = cells[9].strip("`")
            public = cells[1].strip("`") == "Y"
            new = []
            for scope in SCOPES:
                if public:
                    code = "Y"
                elif scope in scopes.get(endpoint, ()):
                    code = OPENED.get(endpoint, {}).get(scope, machine)
                else:
                    code = "-"
                new.append(f"`{code}`")
            cells[9] = "`Y`" if public else "`-`"
            cells = cells[: 1 + ROLES_BEFORE] + new + cells[1 + ROLES_BEFORE :]
            line, changed = _line(cells), changed + 1
        out.append(line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else ""), changed


def main() -> int:
    text = MATRIX.read_text(encoding="utf-8")
    new, changed = convert(text, declared())
    if new != text:
        MATRIX.write_text(new, encoding="utf-8")
    print(f"{MATRIX}: {changed} line(s) given the scope columns")
    return 0


if __name__ == "__main__":
    sys.exit(main())
