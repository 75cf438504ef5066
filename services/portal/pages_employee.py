"""The employee area: its blueprint (endpoints ``employee.*``), the look-ups its pages share with
the supervisor's (cycles, a plan with its ETag, RHK labels) and its template filters.

The pages themselves: ``pages_plan.py`` (drafting, submitting and revising my SKP, with the form's
slots in ``skp_form.py``) and ``pages_progress.py`` (realisation with evidence, the daily log)."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, g

from .auth import api, current_user
from .web import NotYours, P, get_own, period_title, t

bp = Blueprint("employee", __name__)

EDITABLE = ("draft", "returned", "revised")  # the statuses in which the employee edits the SKP


def cycles() -> list[dict]:
    return api().get(f"{P}/cycles", limit=50)["items"]


def cycle_of(plan: dict) -> dict | None:
    """The cycle a plan belongs to (None when the viewer cannot see it)."""
    return next((c for c in cycles() if c["id"] == plan["cycle_id"]), None)


def period_name(cycle: dict, seq: int | None) -> str:
    return period_title(cycle, seq) or str(seq or "")


def load_plan(plan_id: int) -> tuple[dict, str | None]:
    """The plan with its ETag; a plan the API hides (404) is someone else's: "tidak berwenang"."""
    return get_own(f"{P}/plans/{plan_id}")


def my_plan(plan_id: int) -> tuple[dict, str | None]:
    """My own plan with its ETag; anyone else's is "tidak berwenang"."""
    data, etag = load_plan(plan_id)
    if data["employee_nip"] != current_user().nip:
        raise NotYours()
    return data, etag


def parent_labels(options: dict | None) -> dict[str, str]:
    return {r["id"]: r["description"] for r in (options or {}).get("rhk", [])}


def my_rhk_labels(cycle_id: int) -> dict[str, str]:
    """The signed-in superior's own RHK in the cycle (which a subordinate's RHK support), by id."""
    user = current_user()
    mine = api().get(f"{P}/plans", cycle_id=cycle_id, employee_nip=user.nip, limit=1)["items"] if user.nip else []
    if not mine:
        return {}
    return {r["id"]: r["description"] for r in api().get(f"{P}/plans/{mine[0]['id']}")["rhk"]}


def parse_number(text: str) -> float:
    """A finite number as people type it ("1,5" or "1.5"); ValueError for anything else."""
    value = float(text.replace(",", "."))
    if value != value or abs(value) == float("inf"):
        raise ValueError(text)
    return value


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


# ------------------------------------------------------------------ template filters (this area's names)


@bp.app_template_filter("employee_num")
def fmt_num(value) -> str:
    """A number as people write it: no needless ".0", and a decimal comma in Bahasa Indonesia
    (the forms read both "1,5" and "1.5")."""
    if value is None or value == "":
        return ""
    try:
        out = _num(float(value))
    except (TypeError, ValueError):
        return str(value)
    return out.replace(".", ",") if g.get("lang", "id") == "id" else out


@bp.app_template_filter("employee_date")
def fmt_date(value) -> str:
    """``2026-01-05`` → "Senin, 5 Januari 2026" (or "Monday, 5 January 2026")."""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    months = t("employee.months").split(",")
    days = t("employee.weekdays").split(",")
    return f"{days[d.weekday()]}, {d.day} {months[d.month - 1]} {d.year}"
