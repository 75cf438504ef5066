"""The HR area (pengelola kinerja): its blueprint (endpoints ``hr.*`` under ``/hr``) and what its
pages share: the agency's cycles and the one chosen on a page, a cycle's stage and periods in
words, units in tree order, and a refusal of a one-field form shown beside that field.

The pages: ``pages_hr_cycles.py`` (evaluation cycles with their completion per unit and stage),
``pages_hr_calibration.py`` (calibration against the distribution curve), ``pages_hr_surveys.py``
(public satisfaction surveys, IKM) and ``pages_hr_reports.py`` (rater consistency, follow-up,
audit log) and ``pages_hr_directory.py`` (units tree, employees, CSV import, acting officials).

Every page calls the services' APIs with the signed-in HR user's own token, so an HR officer of
another agency sees nothing of this one (the APIs scope each list and refuse each object)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, request

from .auth import api
from .client import ApiProblem
from .web import P, form_errors, period_title, t

bp = Blueprint("hr", __name__, url_prefix="/hr")


def to_int(value, default=None):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def to_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat((value or "").strip())
    except ValueError:
        return None


def state_text(c: dict) -> str:
    """The cycle's stage in words (with the period and phase while monitoring)."""
    text = t(f"stage.{c['stage']}")
    if c.get("stage") == "monitoring" and c.get("period_seq"):
        text += f" — {period_name(c, c['period_seq'])}, {t('phase.' + c['phase'])}"
    return text


def period_name(c: dict, seq: int) -> str:
    if not seq:
        return t("hr.annual")
    return period_title(c, seq) or t("hr.period_n", seq=seq)


def period_choices(c: dict | None) -> list[tuple[int, str]]:
    """The annual evaluation and the cycle's periods, for a picker."""
    return [(0, t("hr.annual"))] + ([(p["seq"], period_name(c, p["seq"])) for p in c.get("periods", [])] if c else [])


def units_in_tree_order(units: list[dict]) -> list[dict]:
    children: dict[str | None, list[dict]] = {}
    codes = {u["code"] for u in units}
    for u in units:
        parent = u.get("parent_code") if u.get("parent_code") in codes else None
        children.setdefault(parent, []).append(u)
    out: list[dict] = []

    def walk(parent, depth):
        for u in sorted(children.get(parent, []), key=lambda x: x["code"]):
            out.append(u | {"depth": depth})
            walk(u["code"], depth + 1)

    walk(None, 0)
    return out


def all_cycles() -> list[dict]:
    return api().all(f"{P}/cycles")


def default_cycle(cycles: list[dict]) -> dict | None:
    open_ = [c for c in cycles if c["stage"] != "closed"]
    return (open_ or cycles or [None])[-1]


def _default_seq(c: dict) -> int:
    if c["stage"] == "monitoring" and c.get("period_seq"):
        return c["period_seq"]
    return 0


def selection(cycles: list[dict], args=None) -> tuple[dict | None, int]:
    """The cycle and period a page shows: ``cycle_id`` and ``period_seq`` of the request (or
    ``args``), else the running cycle and its current period (the annual evaluation after monitoring)."""
    args = request.values if args is None else args
    wanted = to_int(args.get("cycle_id"))
    c = next((x for x in cycles if x["id"] == wanted), None) if wanted else default_cycle(cycles)
    if wanted and c is None:
        c = api().get(f"{P}/cycles/{wanted}")  # another agency's or unknown: the API answers 404
    if c is None:
        return None, 0
    seq = to_int(args.get("period_seq"))
    if seq is None or seq < 0:
        seq = _default_seq(c)
    return c, seq


def refusal_beside(exc: ApiProblem, api_field: str, name: str) -> dict[str, str]:
    """The API's refusal of a one-field form beside that field ``name``: its error for
    ``api_field``, or a conflict (409) or an error without a field as it is worded."""
    errs = form_errors(exc, {api_field: name})
    if exc.status == 409 or "_" in errs:
        errs = {name: exc.detail or errs.get("_")}
    return errs
