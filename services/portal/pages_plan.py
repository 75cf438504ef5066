"""Drafting my SKP (employee): my plans per cycle, drafting and editing one (RHK with the cascade
link to the penilai's RHK, IKI per aspect, the BerAKHLAK expectations), submitting it, reading an
approved version, and reopening an approved SKP for revision. The form's slots: ``skp_form.py``."""

from __future__ import annotations

from typing import Callable

from flask import Response, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .pages_employee import EDITABLE, bp, cycle_of, cycles, load_plan, my_plan, my_rhk_labels, parent_labels
from .pages_hr import units_in_tree_order
from .skp_form import (
    APPROACHES,
    ASPECTS,
    KINDS,
    MAX_IKI,
    MAX_RHK,
    api_errors,
    blank_form,
    content_from_form,
    field_labels,
    form_from_plan,
    form_from_request,
    is_slot,
)
from .web import BERAKHLAK, NotYours, P, error_page, forbidden, page, t

OPEN_STAGES = ("planning", "monitoring")  # an SKP may be drafted while the cycle is in one of these


def _options(cycle_id: int) -> dict:
    try:
        return api().get(f"{P}/plans/cascade-options", cycle_id=cycle_id)
    except ApiProblem as exc:
        if exc.status in (404, 422):
            raise NotYours() from None
        raise


def _unit_choices(plan: dict | None) -> list[tuple[str, str]]:
    """The service units an IKI's realisation may come from (the unit's IKM, from the surveys): the
    agency's units in tree order, plus any code this plan already holds that is no longer a unit,
    so that saving the form never drops a link it did not show."""
    units = units_in_tree_order(api().all(f"{P}/units"))
    choices = [(u["code"], f"{'· ' * u['depth']}{u['name']} ({u['code']})") for u in units]
    known = {code for code, _ in choices}
    for r in (plan or {}).get("rhk", []):
        for k in r["iki"]:
            code = k.get("satisfaction_unit_code")
            if code and code not in known:
                known.add(code)
                choices.append((code, code))
    return choices


def _form_page(
    status: int,
    *,
    form: dict,
    errors: dict,
    options: dict,
    unit_choices: list,
    cycle: dict,
    plan: dict | None = None,
    etag: str | None = None,
    action: str,
) -> Response:
    choices = [(r["id"], f"{r['description']} ({t('employee.kind.' + r['kind'])})") for r in options.get("rhk", [])]
    if options.get("is_head_of_unit") and not choices:
        # no superior's RHK to pick (e.g. the agency's top official): the organisation goal is the link
        errors = {
            (k[: -len("parent")] + "goal" if is_slot(k) and k.endswith("-parent") else k): (
                t("employee.error.goal_required") if v == t("employee.error.cascade_goal") else v
            )
            for k, v in errors.items()
        }
    return page(
        "portal/employee/plan_form.html",
        status,
        form=form,
        errors=errors,
        options=options,
        field_labels=field_labels(errors),
        parent_choices=choices,
        unit_choices=unit_choices,
        cycle=cycle,
        plan=plan,
        etag=etag,
        action=action,
        berakhlak=BERAKHLAK,
        aspects=ASPECTS,
        kinds=KINDS,
        approaches=APPROACHES,
        head_of_unit=options.get("is_head_of_unit", False),
        max_rhk=MAX_RHK,
        max_iki=MAX_IKI,
    )


def _form_flow(
    initial: dict, save: Callable[[dict, str | None], int], *, head_of_unit: bool, etag: str | None = None, **kw
) -> Response:
    """The SKP form, new or edited: a GET shows ``initial``; a POST re-renders it with more slots
    ("tambah baris"), or checks it, saves it with ``save(content, etag)`` (→ the plan's id), and
    submits it when asked (``then=submit``)."""
    if request.method == "GET":
        return _form_page(200, form=initial, errors={}, etag=etag, **kw)
    form = form_from_request()
    sent_etag = request.form.get("etag") or etag
    if request.form.get("more"):
        return _form_page(200, form=form, errors={}, etag=sent_etag, **kw)
    unit_codes = frozenset(code for code, _ in kw["unit_choices"])
    content, errors, slots = content_from_form(form, head_of_unit, unit_codes)
    if errors:
        return _form_page(422, form=form, errors=errors, etag=sent_etag, **kw)
    try:
        plan_id = save(content, sent_etag)
    except ApiProblem as exc:
        if exc.status == 412:
            return _form_page(409, form=form, errors={"_": t("employee.error.stale")}, etag=etag, **kw)
        if exc.status not in (409, 422):
            raise
        return _form_page(422, form=form, errors=api_errors(exc, slots), etag=sent_etag, **kw)
    if request.form.get("then") == "submit":
        return _submit(plan_id)
    flash(t("employee.saved_draft"), "ok")
    return redirect(url_for("employee.plan", plan_id=plan_id))


# ------------------------------------------------------------------ pages


@bp.get("/skp")
@login_required("employee")
def plans():
    user = current_user()
    all_cycles = cycles()
    mine = {p["cycle_id"]: p for p in api().all(f"{P}/plans", employee_nip=user.nip)} if user.nip else {}
    rows = []
    for c in reversed(all_cycles):
        plan = mine.get(c["id"])
        if plan and plan["status"] == "returned":
            plan = api().get(f"{P}/plans/{plan['id']}")  # the note lives on the full plan
        rows.append({"cycle": c, "plan": plan, "can_draft": plan is None and c["stage"] in OPEN_STAGES})
    return page("portal/employee/plans.html", rows=rows)


@bp.route("/skp/new", methods=["GET", "POST"])
@login_required("employee")
def plan_new():
    user = current_user()
    all_cycles = cycles()
    cycle_id = request.values.get("cycle_id", type=int)
    cycle = next((c for c in all_cycles if c["id"] == cycle_id), None)
    if cycle is None:
        open_cycles = [c for c in all_cycles if c["stage"] in OPEN_STAGES]
        if not open_cycles:
            flash(t("employee.no_open_cycle"), "warn")
            return redirect(url_for("employee.plans"))
        cycle = open_cycles[-1]
    existing = api().get(f"{P}/plans", cycle_id=cycle["id"], employee_nip=user.nip, limit=1)["items"]
    if existing:
        return redirect(url_for("employee.plan", plan_id=existing[0]["id"]))
    options = _options(cycle["id"])

    def create(content: dict, etag: str | None) -> int:
        return api().post(f"{P}/plans", content | {"cycle_id": cycle["id"]})["id"]

    return _form_flow(
        blank_form(),
        create,
        head_of_unit=options.get("is_head_of_unit", False),
        options=options,
        unit_choices=_unit_choices(None),
        cycle=cycle,
        action=url_for("employee.plan_new", cycle_id=cycle["id"]),
    )


@bp.get("/skp/<int:plan_id>")
@login_required()
def plan(plan_id: int):
    user = current_user()
    data, etag = load_plan(plan_id)
    if data["employee_nip"] != user.nip:
        if user.is_supervisor:  # a superior reading a subordinate's SKP reviews it on the team pages
            return redirect(url_for("supervisor.plan_review", plan_id=plan_id))
        return forbidden()
    cycle = cycle_of(data)
    options = _options(data["cycle_id"])
    versions = api().get(f"{P}/plans/{plan_id}/versions") if data["revision"] else []
    from .pages_feedback import feedback_of, grouped, superior_name  # the superior's notes and my replies

    notes = feedback_of(plan_id) if data["status"] in ("approved", "revised") else []
    return page(
        "portal/employee/plan.html",
        feedback_groups=grouped(data, notes, cycle, {user.nip: user.name} | superior_name(options)),
        feedback_count=len(notes),
        plan=data,
        etag=etag,
        cycle=cycle,
        parents=parent_labels(options),
        versions=versions,
        options=options,
        berakhlak=BERAKHLAK,
        editable=data["status"] in EDITABLE,
        can_revise=data["status"] == "approved"
        and bool(cycle)
        and cycle["stage"] in ("monitoring", "annual_evaluation"),
        penilai_name=options.get("superior_name") if options.get("superior_nip") == data["penilai_nip"] else None,
    )


@bp.get("/skp/<int:plan_id>/versi/<int:revision>")
@login_required()
def plan_version(plan_id: int, revision: int):
    """An approved version of my SKP as it was approved (the live plan may have been revised since)."""
    user = current_user()
    data, _ = load_plan(plan_id)
    if data["employee_nip"] != user.nip and not user.is_supervisor:
        return forbidden()
    version = api().get(f"{P}/plans/{plan_id}/versions/{revision}")
    snap = version["snapshot"]
    shown = data | {
        k: snap.get(k, data.get(k))
        for k in ("approach", "rhk", "behaviour", "annex", "position", "grade", "penilai_nip")
    }
    shown |= {"status": "approved", "revision": revision}
    parents = (
        parent_labels(_options(data["cycle_id"]))
        if data["employee_nip"] == user.nip
        else my_rhk_labels(data["cycle_id"])
    )
    return page(
        "portal/employee/version.html",
        plan=shown,
        live=data,
        version=version,
        cycle=cycle_of(data),
        parents=parents,
        berakhlak=BERAKHLAK,
        penilai_name=None,
    )


@bp.get("/skp/<int:plan_id>/cetak.pdf")
@login_required()
def plan_pdf(plan_id: int):
    """The printable SKP (``?versi=`` a kept approved version), fetched from the plans service with the
    user's token and language and passed on as it is: the service decides who may print it."""
    revision = request.args.get("versi", type=int)
    try:
        upstream = api().request(
            "GET",
            f"{P}/plans/{plan_id}/skp.pdf",
            params={"version": revision},
            headers={"Accept": "application/pdf"},
        )
    except ApiProblem as exc:
        if exc.status in (403, 404, 422):
            return forbidden()
        raise
    if not upstream.headers.get("content-type", "").startswith("application/pdf"):
        return error_page(503, "error.unavailable")
    disposition = upstream.headers.get("content-disposition") or f'inline; filename="skp-{plan_id}.pdf"'
    return Response(
        upstream.content,
        mimetype="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )


@bp.route("/skp/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required("employee")
def plan_edit(plan_id: int):
    data, etag = my_plan(plan_id)
    if data["status"] not in EDITABLE:
        flash(t("employee.not_editable"), "warn")
        return redirect(url_for("employee.plan", plan_id=plan_id))
    options = _options(data["cycle_id"])

    def update(content: dict, sent_etag: str | None) -> int:
        # the expectations as they are (the penilai's are kept by the API; an older text the employee wrote is not lost)
        api().put(f"{P}/plans/{plan_id}", content | {"behaviour": data.get("behaviour") or {}}, sent_etag)
        return plan_id

    return _form_flow(
        form_from_plan(data),
        update,
        head_of_unit=options.get("is_head_of_unit", data.get("is_head_of_unit")),
        etag=etag,
        options=options,
        unit_choices=_unit_choices(data),
        cycle=cycle_of(data),
        plan=data,
        action=url_for("employee.plan_edit", plan_id=plan_id),
    )


@bp.post("/skp/<int:plan_id>/submit")
@login_required("employee")
def plan_submit(plan_id: int):
    return _submit(plan_id)


def _submit(plan_id: int):
    data, etag = my_plan(plan_id)
    try:
        api().post(f"{P}/plans/{plan_id}/submit")
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        options = _options(data["cycle_id"])
        if data["status"] not in EDITABLE:
            flash(exc.detail or t("error.generic.body"), "error")
            return redirect(url_for("employee.plan", plan_id=plan_id))
        # what is missing is shown beside its field, on the form
        slots = [(i, list(range(len(r["iki"])))) for i, r in enumerate(data["rhk"])]
        errors = api_errors(exc, slots) if exc.status == 422 else {"_": exc.detail}
        errors.setdefault("_", t("employee.error.submit"))
        return _form_page(
            422,
            form=form_from_plan(data),
            errors=errors,
            options=options,
            unit_choices=_unit_choices(data),
            cycle=cycle_of(data),
            plan=data,
            etag=etag,
            action=url_for("employee.plan_edit", plan_id=plan_id),
        )
    flash(t("employee.submitted"), "ok")
    return redirect(url_for("employee.plan", plan_id=plan_id))


@bp.post("/skp/<int:plan_id>/revise")
@login_required("employee")
def plan_revise(plan_id: int):
    """Reopen my approved SKP for revision (expectations changed); the approved version is kept."""
    my_plan(plan_id)
    try:
        api().post(f"{P}/plans/{plan_id}/revise")
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        flash(exc.detail or t("error.generic.body"), "error")
        return redirect(url_for("employee.plan", plan_id=plan_id))
    flash(t("employee.revision_opened"), "ok")
    return redirect(url_for("employee.plan_edit", plan_id=plan_id))
