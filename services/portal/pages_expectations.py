"""The ekspektasi khusus pimpinan: the penilai writes, per BerAKHLAK value, what they expect of each
subordinate (PermenPANRB 6/2022) — on one SKP (``/tim/skp/<id>/ekspektasi``) or for several at once
(``/tim/ekspektasi``), both through ``PUT /plans/<id>/behaviour`` with the version the page showed
(``If-Match``).

The bulk steps follow ``pages_bulk.py`` and share its helpers: the subordinates with checkboxes and
the texts written once; a confirmation naming everyone chosen and the texts; then one call per SKP,
each checked and audited on its own, the refusals named with their reason (someone outside my
reporting line, an SKP approved or changed since) and the rest done. A value left empty in the bulk
form is left as it is on every SKP; on one SKP's page an emptied value removes the expectation."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_bulk import _chosen, _reason  # the bulk steps' ticked ids and refusal reasons
from .pages_employee import cycle_of, load_plan
from .pages_supervisor import _running_cycle, bp
from .web import BERAKHLAK, P, decides_for, forbidden, page, t, team_plans

#: the statuses in which the penilai may still write them (approved: through a revision of the SKP)
WRITABLE = ("draft", "returned", "revised", "submitted")
MIN_TEXT, MAX_TEXT = 10, 2000  # characters; the API refuses more than MAX_TEXT too


def _texts() -> dict[str, str]:
    return {v: (request.form.get(f"behaviour-{v}") or "").strip() for v in BERAKHLAK}


def _check(texts: dict[str, str]) -> dict[str, str]:
    """Each text written: long enough to say something observable, not longer than the API keeps."""
    errors = {}
    for v, text in texts.items():
        if text and len(text) < MIN_TEXT:
            errors[f"behaviour-{v}"] = t("expectations.error.short", n=MIN_TEXT)
        elif len(text) > MAX_TEXT:
            errors[f"behaviour-{v}"] = t("expectations.error.long", n=MAX_TEXT, length=len(text))
    return errors


def _api_errors(exc: ApiProblem) -> dict[str, str]:
    """The API's field errors (``behaviour.<value>``) beside the value's field; others above the form."""
    out: dict[str, str] = {}
    for name, message in exc.field_errors().items():
        key = "behaviour-" + name.split(".", 1)[1] if name.startswith("behaviour.") else "_"
        out.setdefault(key if key == "_" or key[len("behaviour-") :] in BERAKHLAK else "_", message)
    if not out:
        out["_"] = exc.detail or t("error.generic.body")
    return out


def written(plan: dict) -> dict[str, str]:
    """Per value: ``penilai`` (written by the penilai), ``employee`` (a text the penilai has not written,
    from before the penilai wrote them) or ``missing``."""
    texts, by = plan.get("behaviour") or {}, set(plan.get("behaviour_by_penilai") or ())
    return {v: "penilai" if v in by else "employee" if (texts.get(v) or "").strip() else "missing" for v in BERAKHLAK}


# ------------------------------------------------------------------ one SKP


def _one_page(plan: dict, etag: str | None, status: int = 200, *, texts=None, errors=None, current=None):
    penilai = decides_for(plan.get("penilai_nip"))  # the penilai, their Plt/Plh, HR for the top official
    return page(
        "portal/supervisor/expectations.html",
        status,
        plan=plan,
        etag=etag,
        cycle=cycle_of(plan),
        texts=texts if texts is not None else {v: (plan.get("behaviour") or {}).get(v, "") for v in BERAKHLAK},
        errors=errors or {},
        current=current or {},
        who=written(plan),
        berakhlak=BERAKHLAK,
        writable=plan["status"] in WRITABLE and penilai,
        penilai=penilai,
        max_text=MAX_TEXT,
    )


@bp.route("/tim/skp/<int:plan_id>/ekspektasi", methods=["GET", "POST"])
@login_required("supervisor", "hr")  # HR: the top official's SKP
def expectations(plan_id: int):
    """The seven values of one subordinate's SKP, each with the text the penilai expects."""
    user = current_user()
    plan, etag = load_plan(plan_id)
    if plan["employee_nip"] == user.nip:
        return redirect(url_for("employee.plan", plan_id=plan_id))
    if request.method == "GET":
        return _one_page(plan, etag)
    texts = _texts()
    errors = _check(texts)
    if errors:
        return _one_page(plan, request.form.get("etag") or etag, 422, texts=texts, errors=errors)
    try:
        api().put(f"{P}/plans/{plan_id}/behaviour", {"behaviour": texts}, request.form.get("etag") or etag)
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        if exc.status == 412:  # changed since the page was opened: what I typed stays, beside what is saved now
            saved = plan.get("behaviour") or {}
            current = {v: saved.get(v, "") for v in BERAKHLAK if saved.get(v, "") != texts[v]}
            errors = {"_": t("expectations.error.stale")}
            return _one_page(plan, etag, 409, texts=texts, errors=errors, current=current)
        if exc.status not in (409, 422):
            raise
        return _one_page(plan, request.form.get("etag") or etag, 422, texts=texts, errors=_api_errors(exc))
    flash(t("expectations.saved", name=plan["employee_name"]), "ok")
    return redirect(url_for("supervisor.plan_review", plan_id=plan_id))


# ------------------------------------------------------------------ several SKP at once


def _candidates() -> list[dict]:
    """My subordinates' SKP of the running cycle (I am their penilai), with what is written per value."""
    cycle = _running_cycle()
    if cycle is None or not current_user().nip:
        return []
    return [_item(p) for p in sorted(team_plans(cycle["id"]), key=lambda p: p["employee_name"])]


def _item(p: dict) -> dict:
    by = set(p.get("behaviour_by_penilai") or ())
    return {
        "id": p["id"],
        "name": p["employee_name"],
        "nip": p["employee_nip"],
        "detail": p.get("position") or "",
        "version": p["version"],
        "status": p["status"],
        "writable": p["status"] in WRITABLE,
        "by_penilai": [v for v in BERAKHLAK if v in by],
        "not_yet": [v for v in BERAKHLAK if v not in by],
    }


def _choose_page(status: int = 200, *, texts=None, errors=None, chosen=None):
    items = _candidates()
    return page(
        "portal/supervisor/expectations_bulk.html",
        status,
        items=items,
        texts=texts or {v: "" for v in BERAKHLAK},
        errors=errors or {},
        chosen=chosen,
        berakhlak=BERAKHLAK,
        max_text=MAX_TEXT,
        cycle=_running_cycle(),
    )


def _bulk_input() -> tuple[dict[str, str], list[int], dict[str, str]]:
    """The texts, the ticked SKP and the errors (nothing is done while there are any)."""
    texts = _texts()
    errors = _check(texts)
    if not any(texts.values()):
        errors["_"] = t("expectations.error.none_written")
    ids, error = _chosen()
    if error:
        errors["item"] = error
    return texts, ids, errors


@bp.get("/tim/ekspektasi")
@login_required("supervisor")
def expectations_bulk():
    return _choose_page()


@bp.post("/tim/ekspektasi/konfirmasi")
@login_required("supervisor")
def expectations_confirm():
    """Names everyone chosen and the texts before anything is written."""
    texts, ids, errors = _bulk_input()
    if errors:
        return _choose_page(422, texts=texts, errors=errors, chosen=set(ids))
    known = {c["id"]: c for c in _candidates()}
    items = []
    for i in ids:
        item = known.get(i)
        if item is None:  # not among my subordinates' SKP: named if I may read it, refused when performed
            try:
                item = _item(api().get(f"{P}/plans/{i}"))
            except ApiProblem as exc:
                if exc.status not in (403, 404):
                    raise
                item = {"id": i, "name": t("expectations.unnamed", id=i), "nip": "", "detail": "", "version": None}
        replaced = [v for v in item.get("by_penilai", ()) if texts[v]]
        items.append(item | {"replaced": replaced})
    return page(
        "portal/supervisor/expectations_confirm.html",
        items=items,
        texts=texts,
        berakhlak=BERAKHLAK,
    )


@bp.post("/tim/ekspektasi/jalankan")
@login_required("supervisor")
def expectations_perform():
    """One ``PUT …/behaviour`` per SKP with the version confirmed: written, or refused with the reason."""
    texts, ids, errors = _bulk_input()
    if errors:
        return _choose_page(422, texts=texts, errors=errors, chosen=set(ids))
    body = {"behaviour": {v: text for v, text in texts.items() if text}}  # an empty value stays as it is
    results = []
    for i in ids:
        label = (request.form.get(f"label.{i}") or "").strip()[:200] or t("expectations.unnamed", id=i)
        version = (request.form.get(f"version.{i}") or "").strip()
        try:
            done = api().put(f"{P}/plans/{i}/behaviour", body, f'"{version}"' if version.isdigit() else None)
        except ApiProblem as exc:
            results.append({"id": i, "name": _name_of(i, label), "ok": False, "reason": _reason(exc)})
            continue
        results.append({"id": i, "name": done.get("employee_name") or label, "ok": True, "reason": ""})
    return page(
        "portal/supervisor/expectations_result.html",
        results=results,
        done=sum(1 for r in results if r["ok"]),
        refused=sum(1 for r in results if not r["ok"]),
    )


def _name_of(plan_id: int, label: str) -> str:
    try:
        return api().get(f"{P}/plans/{plan_id}")["employee_name"]
    except ApiProblem:
        return label  # hidden from me (or the service is away): the name the confirmation showed
