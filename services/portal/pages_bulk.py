"""Bulk actions for a supervisor with many reports: approve the submitted SKPs of my direct reports
(``/tim/massal/setujui``) and sign the rated evaluations I am penilai of (``/tim/massal/tandatangani``).

Three steps: the candidates with checkboxes, a confirmation naming everyone chosen, then the result
per person. The portal performs each item through the same per-item API a single approval or
signature uses (``POST /plans/<id>/approve``, ``POST /evaluations/<id>/sign``), with the user's own
token, so each is checked and audited on its own: an item the API refuses (someone outside my
reporting line, a plan no longer submitted, a unit blocked by calibration) is reported by name with
the API's reason in words, and the rest are done. Each call carries the version the confirmation
showed (``If-Match``), so an item changed since (returned and resubmitted, re-rated) is refused
rather than decided unseen. The person's name comes from the record as the API shows it to me; one
the API hides from me keeps the label the confirmation page showed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Blueprint, abort, request

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_supervisor import _running_cycle, expectations_missing
from .web import P, R, page, t, team_plans

bp = Blueprint("bulk", __name__, url_prefix="/tim/massal")
MAX_ITEMS = 200  # a page of candidates; more ids in one form are refused


@dataclass(frozen=True)
class Action:
    slug: str  # the URL's
    key: str  # message keys: bulk.<key>.*
    candidates: Callable[[], list[dict]]
    lookup: Callable[[int], dict]  # the record as the API shows it to me (raises ApiProblem when hidden)
    perform: Callable[[int, dict | None], dict]  # (id, headers): If-Match with the version I confirmed


def _plans_to_approve() -> list[dict]:
    cycle, me = _running_cycle(), current_user().nip
    if cycle is None:
        return []
    plans = team_plans(cycle["id"], status="submitted")  # as Plt/Plh too
    return [
        {
            "id": p["id"],
            "name": p["employee_name"],
            "nip": p["employee_nip"],
            "detail": p["position"],
            "version": p["version"],
        }
        for p in sorted(plans, key=lambda p: p["employee_name"])
        if p["employee_nip"] != me
    ]


def _evaluations_to_sign() -> list[dict]:
    cycle = _running_cycle()
    if cycle is None:
        return []
    items = api().all(f"{R}/evaluations", role="penilai", cycle_id=cycle["id"], status="rated")
    return [
        {
            "id": e["id"],
            "name": e["employee_name"],
            "nip": e["employee_nip"],
            "detail": " · ".join(x for x in (e.get("period_name"), _predikat(e.get("predikat"))) if x),
            "version": e["version"],
        }
        for e in sorted(items, key=lambda e: (e["employee_name"], e["period_seq"]))
    ]


def _predikat(code: str | None) -> str:
    return t(f"predikat.{code}") if code else ""


def _plan(plan_id: int) -> dict:
    p = api().get(f"{P}/plans/{plan_id}")
    return {
        "id": p["id"],
        "name": p["employee_name"],
        "nip": p["employee_nip"],
        "detail": p["position"],
        "version": p["version"],
    }


def _evaluation(evaluation_id: int) -> dict:
    e = api().get(f"{R}/evaluations/{evaluation_id}")
    detail = " · ".join(x for x in (e.get("period_name"), _predikat(e.get("predikat"))) if x)
    return {
        "id": e["id"],
        "name": e["employee_name"],
        "nip": e["employee_nip"],
        "detail": detail,
        "version": e["version"],
    }


ACTIONS = {
    "setujui": Action(
        "setujui",
        "approve",
        _plans_to_approve,
        _plan,
        lambda i, headers: api().post(f"{P}/plans/{i}/approve", headers=headers),
    ),
    "tandatangani": Action(
        "tandatangani",
        "sign",
        _evaluations_to_sign,
        _evaluation,
        lambda i, headers: api().post(f"{R}/evaluations/{i}/sign", headers=headers),
    ),
}


def _action(slug: str) -> Action:
    action = ACTIONS.get(slug)
    if action is None:
        abort(404)
    return action


def _chosen() -> tuple[list[int], str | None]:
    """The ids ticked in the form (each once, in order), or the error to show beside the list."""
    raw = request.form.getlist("item")
    ids: list[int] = []
    for value in raw:
        try:
            n = int(value)
        except (TypeError, ValueError):
            return [], t("bulk.error.invalid")
        if n < 1 or n > 2**31 - 1:
            return [], t("bulk.error.invalid")
        if n not in ids:
            ids.append(n)
    if not ids:
        return [], t("bulk.error.none")
    if len(ids) > MAX_ITEMS:
        return [], t("bulk.error.too_many", n=MAX_ITEMS)
    return ids, None


def _choose_again(action, ids: list, error: str):
    """The list again with what was ticked and why it cannot go on (422), nothing done."""
    return page(
        "portal/bulk/choose.html",
        422,
        action=action,
        items=action.candidates(),
        errors={"item": error},
        chosen=set(ids),
    )


@bp.get("/<slug>")
@login_required("supervisor")
def choose(slug: str):
    action = _action(slug)
    return page("portal/bulk/choose.html", action=action, items=action.candidates(), errors={}, chosen=set())


@bp.post("/<slug>/konfirmasi")
@login_required("supervisor")
def confirm(slug: str):
    """Names everyone chosen before anything is done; one the API hides from me is named by number."""
    action = _action(slug)
    ids, error = _chosen()
    if error:
        return _choose_again(action, ids, error)
    known = {c["id"]: c for c in action.candidates()}
    items = []
    for i in ids:
        item = known.get(i)
        if item is None:
            try:
                item = action.lookup(i)
            except ApiProblem as exc:
                if exc.status not in (403, 404):
                    raise
                item = {"id": i, "name": t(f"bulk.{action.key}.unnamed", id=i), "nip": "", "detail": ""}
        items.append(item)
    return page("portal/bulk/confirm.html", action=action, items=items)


@bp.post("/<slug>/jalankan")
@login_required("supervisor")
def perform(slug: str):
    """Each item through its own API call: done, or refused with the reason; the rest goes on."""
    action = _action(slug)
    ids, error = _chosen()
    if error:
        return _choose_again(action, ids, error)
    results = []
    for i in ids:
        label = (request.form.get(f"label.{i}") or "").strip()[:200] or t(f"bulk.{action.key}.unnamed", id=i)
        version = (request.form.get(f"version.{i}") or "").strip()
        headers = {"If-Match": f'"{version}"'} if version.isdigit() else None  # as confirmed, or refused (412)
        try:
            done = action.perform(i, headers)
        except ApiProblem as exc:
            results.append({"id": i, "name": _name_of(action, i, label), "ok": False, "reason": _reason(exc)})
            continue
        results.append({"id": i, "name": done.get("employee_name") or label, "ok": True, "reason": ""})
    return page(
        "portal/bulk/result.html",
        action=action,
        results=results,
        done=sum(1 for r in results if r["ok"]),
        refused=sum(1 for r in results if not r["ok"]),
    )


def _name_of(action: Action, item_id: int, label: str) -> str:
    try:
        return action.lookup(item_id)["name"]
    except ApiProblem:
        return label  # hidden from me (or the service is away): the name the confirmation showed


def _reason(exc: ApiProblem) -> str:
    """The API's refusal in words (its detail is in the page's language)."""
    if exc.status == 404:
        return t("bulk.reason.not_found")
    if exc.status == 412:
        return t("bulk.reason.changed")
    if exc.status is None or exc.status >= 500:
        return t("bulk.reason.unavailable")
    if exc.status == 403 and not exc.detail:
        return t("bulk.reason.forbidden")
    return expectations_missing(exc) or exc.detail or t("error.generic.body")
