"""The employee's pages: my SKP per cycle, drafting and editing it (RHK with the cascade link to the
penilai's RHK, IKI per aspect, the BerAKHLAK expectations), submitting it, realisation per period
with evidence files, and the daily log.

The SKP form needs no JavaScript: it has a fixed number of RHK and IKI slots, and "tambah baris"
buttons re-render it (server-side, nothing saved) with more. Blank slots are ignored. The portal
checks what it parses itself (required texts, numbers); the plans API checks the rest and its
field errors are shown beside the slot they belong to."""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import date, timedelta

from flask import Blueprint, Response, flash, redirect, request, url_for

from .app import t
from .auth import api, current_user, login_required
from .client import ApiProblem
from .web import NotYours, P, forbidden, form_errors, get_own, page, today

bp = Blueprint("employee", __name__)

BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
ASPECTS = ("kuantitas", "kualitas", "waktu", "biaya")
KINDS = ("utama", "tambahan")
APPROACHES = ("kuantitatif", "kualitatif")
EDITABLE = ("draft", "returned", "revised")
RHK_SLOTS, IKI_SLOTS, MAX_RHK, MAX_IKI = 3, 3, 12, len(ASPECTS)
IKI_FIELDS = ("aspect", "indicator", "target_value", "target_unit", "target_text")
_API_FIELD = re.compile(r"^rhk\[(\d+)\](?:\.iki\[(\d+)\])?(?:\.(\w+))?$")
_RHK_FIELD = {
    "description": "description",
    "kind": "kind",
    "parent_rhk_id": "parent",
    "organisation_goal": "goal",
    "iki": "description",
    "id": "description",
}


# ------------------------------------------------------------------ helpers shared with the supervisor pages


def cycles() -> list[dict]:
    return api().get(f"{P}/cycles", limit=50)["items"]


def period_name(cycle: dict, seq: int | None) -> str:
    from flask import g

    for p in cycle.get("periods") or []:
        if p["seq"] == seq:
            return p["name_en"] if g.get("lang") == "en" else p["name_id"]
    return str(seq or "")


def load_plan(plan_id: int) -> tuple[dict, str | None]:
    """The plan with its ETag; a plan the API hides (404) is someone else's: "tidak berwenang"."""
    return get_own(f"{P}/plans/{plan_id}")


def parent_labels(options: dict | None) -> dict[str, str]:
    return {r["id"]: r["description"] for r in (options or {}).get("rhk", [])}


def my_rhk_labels(cycle_id: int) -> dict[str, str]:
    """The signed-in superior's own RHK in the cycle (which a subordinate's RHK support), by id."""
    user = current_user()
    mine = api().get(f"{P}/plans", cycle_id=cycle_id, employee_nip=user.nip, limit=1)["items"] if user.nip else []
    if not mine:
        return {}
    return {r["id"]: r["description"] for r in api().get(f"{P}/plans/{mine[0]['id']}")["rhk"]}


# ------------------------------------------------------------------ the SKP form: slots <-> API content


def blank_form(approach: str = "kuantitatif", rhk_slots: int = RHK_SLOTS, iki_slots: int = IKI_SLOTS) -> dict:
    return {
        "approach": approach,
        "rhk_slots": rhk_slots,
        "iki_slots": iki_slots,
        "rhk": [_blank_rhk(iki_slots) for _ in range(rhk_slots)],
        "behaviour": {v: t(f"employee.default.{v}") for v in BERAKHLAK},
        "annex": {"resources": "", "accountability": "", "consequences": ""},
    }


def _blank_rhk(iki_slots: int) -> dict:
    return {
        "id": "",
        "description": "",
        "kind": "utama",
        "parent": "",
        "goal": "",
        "iki": [_blank_iki(j) for j in range(iki_slots)],
    }


def _blank_iki(j: int) -> dict:
    return {
        "id": "",
        "aspect": ASPECTS[j % len(ASPECTS)],
        "indicator": "",
        "target_value": "",
        "target_unit": "",
        "target_text": "",
    }


def form_from_plan(plan: dict) -> dict:
    rhk_slots = max(RHK_SLOTS, len(plan["rhk"]))
    iki_slots = max([IKI_SLOTS] + [len(r["iki"]) for r in plan["rhk"]])
    form = blank_form(plan["approach"], rhk_slots, iki_slots)
    for i, r in enumerate(plan["rhk"]):
        slot = form["rhk"][i]
        slot.update(
            id=r["id"],
            description=r["description"],
            kind=r["kind"],
            parent=r.get("parent_rhk_id") or "",
            goal=r.get("organisation_goal") or "",
        )
        for j, k in enumerate(r["iki"]):
            value = k.get("target_value")
            slot["iki"][j] = {
                "id": k["id"],
                "aspect": k["aspect"],
                "indicator": k["indicator"],
                "target_value": "" if value is None else _fmt_num(value),
                "target_unit": k.get("target_unit") or "",
                "target_text": k.get("target_text") or "",
            }
    form["behaviour"] = {v: (plan.get("behaviour") or {}).get(v, "") for v in BERAKHLAK}
    annex = plan.get("annex") or {}
    form["annex"] = {k: annex.get(k, "") for k in ("resources", "accountability", "consequences")}
    return form


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(request.form.get(name, default))))
    except (TypeError, ValueError):
        return default


def form_from_request() -> dict:
    f = request.form
    rhk_slots = _int_arg("rhk_slots", RHK_SLOTS, 1, MAX_RHK)
    iki_slots = _int_arg("iki_slots", IKI_SLOTS, 1, MAX_IKI)
    form = {
        "approach": f.get("approach", "kuantitatif"),
        "rhk_slots": rhk_slots,
        "iki_slots": iki_slots,
        "rhk": [],
        "behaviour": {v: f.get(f"behaviour-{v}", "").strip() for v in BERAKHLAK},
        "annex": {k: f.get(f"annex-{k}", "").strip() for k in ("resources", "accountability", "consequences")},
    }
    for i in range(rhk_slots):
        p = f"rhk-{i}-"
        slot = {
            "id": f.get(p + "id", ""),
            "description": f.get(p + "description", "").strip(),
            "kind": f.get(p + "kind", "utama"),
            "parent": f.get(p + "parent", ""),
            "goal": f.get(p + "goal", "").strip(),
            "iki": [],
        }
        for j in range(iki_slots):
            q = f"{p}iki-{j}-"
            slot["iki"].append({k: f.get(q + k, "").strip() for k in ("id", *IKI_FIELDS)})
            if not slot["iki"][-1]["aspect"]:
                slot["iki"][-1]["aspect"] = ASPECTS[j % len(ASPECTS)]
        form["rhk"].append(slot)
    more = f.get("more")
    if more == "rhk" and rhk_slots < MAX_RHK:
        form["rhk_slots"] += 1
        form["rhk"].append(_blank_rhk(iki_slots))
    elif more == "iki" and iki_slots < MAX_IKI:
        form["iki_slots"] += 1
        for slot in form["rhk"]:
            slot["iki"].append(_blank_iki(iki_slots))
    return form


def _iki_blank(k: dict) -> bool:
    return not (k["id"] or k["indicator"] or k["target_value"] or k["target_unit"] or k["target_text"])


def _rhk_blank(r: dict) -> bool:
    return not (r["id"] or r["description"] or r["parent"] or r["goal"]) and all(_iki_blank(k) for k in r["iki"])


def content_from_form(form: dict, head_of_unit: bool) -> tuple[dict, dict, list]:
    """``(API content, {form field: message}, [(rhk slot, [iki slots])])`` — the slot map turns the
    API's ``rhk[i].iki[j]`` back into the slot the person typed in."""
    errors: dict[str, str] = {}
    slots: list[tuple[int, list[int]]] = []
    rhks = []
    if form["approach"] not in APPROACHES:
        errors["approach"] = t("form.required")
    for i, r in enumerate(form["rhk"]):
        if _rhk_blank(r):
            continue
        p = f"rhk-{i}-"
        if not r["description"]:
            errors[p + "description"] = t("form.required")
        if r["kind"] not in KINDS:
            errors[p + "kind"] = t("form.required")
        if not r["parent"] and not (head_of_unit and r["goal"]):
            errors[p + "parent"] = t("employee.error.cascade_goal" if head_of_unit else "employee.error.cascade")
        ikis, kept = [], []
        for j, k in enumerate(r["iki"]):
            if _iki_blank(k):
                continue
            q = f"{p}iki-{j}-"
            if k["aspect"] not in ASPECTS:
                errors[q + "aspect"] = t("form.required")
            if not k["indicator"]:
                errors[q + "indicator"] = t("form.required")
            value = None
            if k["target_value"]:
                try:
                    value = float(k["target_value"].replace(",", "."))
                    if value != value or value in (float("inf"), float("-inf")):
                        raise ValueError
                except ValueError:
                    errors[q + "target_value"] = t("form.number")
            if form["approach"] == "kuantitatif":
                if not k["target_value"]:
                    errors[q + "target_value"] = t("form.required")
                if not k["target_unit"]:
                    errors[q + "target_unit"] = t("form.required")
            elif not k["target_text"] and not (k["target_value"] and k["target_unit"]):
                errors[q + "target_text"] = t("employee.error.target_text")
            kept.append(j)
            ikis.append(
                {
                    "id": k["id"] or None,
                    "aspect": k["aspect"],
                    "indicator": k["indicator"],
                    "target_value": value,
                    "target_unit": k["target_unit"] or None,
                    "target_text": k["target_text"] or None,
                }
            )
        if not ikis:
            errors[f"{p}iki-0-indicator"] = t("employee.error.iki_required")
        slots.append((i, kept))
        rhks.append(
            {
                "id": r["id"] or None,
                "kind": r["kind"],
                "description": r["description"],
                "parent_rhk_id": r["parent"] or None,
                "organisation_goal": (r["goal"] or None) if head_of_unit else None,
                "iki": ikis,
            }
        )
    if not rhks:
        errors["rhk-0-description"] = t("employee.error.rhk_required")
    elif not any(r["kind"] == "utama" for r in rhks):
        errors[f"rhk-{slots[0][0]}-kind"] = t("employee.error.utama_required")
    content = {
        "approach": form["approach"],
        "rhk": rhks,
        "behaviour": {v: text for v, text in form["behaviour"].items() if text},
        "annex": form["annex"],
    }
    return content, errors, slots


def api_errors(exc: ApiProblem, slots: list) -> dict[str, str]:
    """The API's field errors beside the form's slots (``rhk[1].iki[0].target_unit`` →
    ``rhk-<slot>-iki-<slot>-target_unit``)."""
    out: dict[str, str] = {}
    for name, message in exc.field_errors().items():
        m = _API_FIELD.match(name)
        if m and slots and int(m.group(1)) < len(slots):
            rslot, islots = slots[int(m.group(1))]
            if m.group(2) is not None and int(m.group(2)) < len(islots):
                field = m.group(3) or "indicator"
                key = f"rhk-{rslot}-iki-{islots[int(m.group(2))]}-{field if field in IKI_FIELDS else 'indicator'}"
            else:
                key = f"rhk-{rslot}-{_RHK_FIELD.get(m.group(3) or 'description', 'description')}"
        elif name.startswith("behaviour."):
            key = "behaviour-" + name.split(".", 1)[1]
        elif name == "rhk":
            key = f"rhk-{slots[0][0]}-description" if slots else "rhk-0-description"
        elif name.startswith("annex."):
            key = "annex-" + name.split(".", 1)[1]
        else:
            key = "approach" if name == "approach" else "_"
        out.setdefault(key, message)
    if not out:
        out["_"] = exc.detail or t("error.generic.body")
    return out


def _options(cycle_id: int) -> dict:
    try:
        return api().get(f"{P}/plans/cascade-options", cycle_id=cycle_id)
    except ApiProblem as exc:
        if exc.status in (404, 422):
            raise NotYours() from None
        raise


_LABELS = {
    "description": "employee.rhk.description",
    "kind": "employee.rhk.kind",
    "parent": "employee.rhk.parent",
    "goal": "employee.rhk.goal",
    "aspect": "employee.iki.aspect",
    "indicator": "employee.iki.indicator",
    "target_value": "employee.iki.target_value",
    "target_unit": "employee.iki.target_unit",
    "target_text": "employee.iki.target_text",
}
_SLOT = re.compile(r"^rhk-(\d+)-(?:iki-(\d+)-)?(\w+)$")


def field_labels(errors: dict) -> dict[str, str]:
    """A readable name for each field in error ("IKI 1.2 · Satuan"), for the links above the form."""
    out = {}
    for name in errors:
        m = _SLOT.match(name)
        if m:
            where = (
                t("employee.iki_n", rhk=int(m.group(1)) + 1, n=int(m.group(2)) + 1)
                if m.group(2) is not None
                else t("employee.rhk_n", n=int(m.group(1)) + 1)
            )
            out[name] = f"{where} · {t(_LABELS.get(m.group(3), 'employee.rhk.description'))}"
        elif name.startswith("behaviour-"):
            out[name] = t("berakhlak." + name.split("-", 1)[1])
        elif name == "approach":
            out[name] = t("employee.approach")
    return out


def _form_page(
    status: int,
    *,
    form: dict,
    errors: dict,
    options: dict,
    cycle: dict,
    plan: dict | None = None,
    etag: str | None = None,
    action: str,
) -> Response:
    choices = [(r["id"], f"{r['description']} ({t('employee.kind.' + r['kind'])})") for r in options.get("rhk", [])]
    if options.get("is_head_of_unit") and not choices:
        # no superior's RHK to pick (e.g. the agency's top official): the organisation goal is the link
        errors = {
            (k[: -len("parent")] + "goal" if _SLOT.match(k) and k.endswith("-parent") else k): (
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
        rows.append({"cycle": c, "plan": plan, "can_draft": plan is None and c["stage"] in ("planning", "monitoring")})
    return page("portal/employee/plans.html", rows=rows)


@bp.route("/skp/new", methods=["GET", "POST"])
@login_required("employee")
def plan_new():
    user = current_user()
    all_cycles = cycles()
    cycle_id = request.values.get("cycle_id", type=int)
    cycle = next((c for c in all_cycles if c["id"] == cycle_id), None)
    if cycle is None:
        open_cycles = [c for c in all_cycles if c["stage"] in ("planning", "monitoring")]
        if not open_cycles:
            flash(t("employee.no_open_cycle"), "warn")
            return redirect(url_for("employee.plans"))
        cycle = open_cycles[-1]
    existing = api().get(f"{P}/plans", cycle_id=cycle["id"], employee_nip=user.nip, limit=1)["items"]
    if existing:
        return redirect(url_for("employee.plan", plan_id=existing[0]["id"]))
    options = _options(cycle["id"])
    action = url_for("employee.plan_new", cycle_id=cycle["id"])
    if request.method == "GET":
        return _form_page(200, form=blank_form(), errors={}, options=options, cycle=cycle, action=action)
    form = form_from_request()
    if request.form.get("more"):
        return _form_page(200, form=form, errors={}, options=options, cycle=cycle, action=action)
    content, errors, slots = content_from_form(form, options.get("is_head_of_unit", False))
    if errors:
        return _form_page(422, form=form, errors=errors, options=options, cycle=cycle, action=action)
    try:
        plan = api().post(f"{P}/plans", content | {"cycle_id": cycle["id"]})
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        return _form_page(422, form=form, errors=api_errors(exc, slots), options=options, cycle=cycle, action=action)
    if request.form.get("then") == "submit":
        return _submit(plan["id"], user)
    flash(t("employee.saved_draft"), "ok")
    return redirect(url_for("employee.plan", plan_id=plan["id"]))


@bp.get("/skp/<int:plan_id>")
@login_required()
def plan(plan_id: int):
    user = current_user()
    data, etag = load_plan(plan_id)
    if data["employee_nip"] != user.nip:
        if user.is_supervisor:  # a superior reading a subordinate's SKP reviews it on the team pages
            return redirect(url_for("supervisor.plan_review", plan_id=plan_id))
        return forbidden()
    cycle = next((c for c in cycles() if c["id"] == data["cycle_id"]), None)
    options = _options(data["cycle_id"])
    versions = api().get(f"{P}/plans/{plan_id}/versions") if data["revision"] else []
    return page(
        "portal/employee/plan.html",
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
    cycle = next((c for c in cycles() if c["id"] == data["cycle_id"]), None)
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
        cycle=cycle,
        parents=parents,
        berakhlak=BERAKHLAK,
        penilai_name=None,
    )


@bp.route("/skp/<int:plan_id>/edit", methods=["GET", "POST"])
@login_required("employee")
def plan_edit(plan_id: int):
    user = current_user()
    data, etag = load_plan(plan_id)
    if data["employee_nip"] != user.nip:
        return forbidden()
    if data["status"] not in EDITABLE:
        flash(t("employee.not_editable"), "warn")
        return redirect(url_for("employee.plan", plan_id=plan_id))
    cycle = next((c for c in cycles() if c["id"] == data["cycle_id"]), None)
    options = _options(data["cycle_id"])
    action = url_for("employee.plan_edit", plan_id=plan_id)
    kw = dict(options=options, cycle=cycle, plan=data, action=action)
    if request.method == "GET":
        return _form_page(200, form=form_from_plan(data), errors={}, etag=etag, **kw)
    form = form_from_request()
    sent_etag = request.form.get("etag") or etag
    if request.form.get("more"):
        return _form_page(200, form=form, errors={}, etag=sent_etag, **kw)
    content, errors, slots = content_from_form(form, options.get("is_head_of_unit", data.get("is_head_of_unit")))
    if errors:
        return _form_page(422, form=form, errors=errors, etag=sent_etag, **kw)
    try:
        api().put(f"{P}/plans/{plan_id}", content, sent_etag)
    except ApiProblem as exc:
        if exc.status == 412:
            return _form_page(409, form=form, errors={"_": t("employee.error.stale")}, etag=etag, **kw)
        if exc.status not in (409, 422):
            raise
        return _form_page(422, form=form, errors=api_errors(exc, slots), etag=sent_etag, **kw)
    if request.form.get("then") == "submit":
        return _submit(plan_id, user)
    flash(t("employee.saved_draft"), "ok")
    return redirect(url_for("employee.plan", plan_id=plan_id))


@bp.post("/skp/<int:plan_id>/submit")
@login_required("employee")
def plan_submit(plan_id: int):
    return _submit(plan_id, current_user())


def _submit(plan_id: int, user):
    data, etag = load_plan(plan_id)
    if data["employee_nip"] != user.nip:
        return forbidden()
    try:
        api().post(f"{P}/plans/{plan_id}/submit")
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        # what is missing is shown beside its field, on the form
        form = form_from_plan(data)
        options = _options(data["cycle_id"])
        slots = [(i, list(range(len(r["iki"])))) for i, r in enumerate(data["rhk"])]
        errors = api_errors(exc, slots) if exc.status == 422 else {"_": exc.detail}
        if data["status"] not in EDITABLE:
            flash(exc.detail or t("error.generic.body"), "error")
            return redirect(url_for("employee.plan", plan_id=plan_id))
        cycle = next((c for c in cycles() if c["id"] == data["cycle_id"]), None)
        errors.setdefault("_", t("employee.error.submit"))
        return _form_page(
            422,
            form=form,
            errors=errors,
            options=options,
            cycle=cycle,
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
    user = current_user()
    data, _ = load_plan(plan_id)
    if data["employee_nip"] != user.nip:
        return forbidden()
    try:
        api().post(f"{P}/plans/{plan_id}/revise")
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        flash(exc.detail or t("error.generic.body"), "error")
        return redirect(url_for("employee.plan", plan_id=plan_id))
    flash(t("employee.revision_opened"), "ok")
    return redirect(url_for("employee.plan_edit", plan_id=plan_id))


# ------------------------------------------------------------------ realisation and evidence


def _period_seq(cycle: dict | None) -> int:
    seq = request.values.get("period_seq", type=int)
    periods = [p["seq"] for p in (cycle or {}).get("periods") or []]
    if seq in periods:
        return seq
    if cycle and cycle.get("period_seq"):
        return cycle["period_seq"]
    return periods[0] if periods else 1


@bp.route("/skp/<int:plan_id>/realisasi", methods=["GET", "POST"])
@login_required("employee")
def realisation(plan_id: int):
    user = current_user()
    data, _ = load_plan(plan_id)
    if data["employee_nip"] != user.nip:
        return forbidden()
    cycle = next((c for c in cycles() if c["id"] == data["cycle_id"]), None)
    seq = _period_seq(cycle)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    status = 200
    if request.method == "POST":
        errors, values = _record_realisation(plan_id, data, seq)
        if not errors:
            flash(t("employee.realisation.saved"), "ok")
            return redirect(url_for("employee.realisation", plan_id=plan_id, period_seq=seq))
        status = 422
    recorded = {r["iki_id"]: r for r in api().get(f"{P}/plans/{plan_id}/realisations", period_seq=seq)}
    return page(
        "portal/employee/realisation.html",
        status,
        plan=data,
        cycle=cycle,
        seq=seq,
        recorded=recorded,
        errors=errors,
        values=values,
        approved=data["status"] in ("approved", "revised"),
        period_name=period_name(cycle, seq) if cycle else str(seq),
    )


def _record_realisation(plan_id: int, plan: dict, seq: int) -> tuple[dict, dict]:
    f = request.form
    iki_id = f.get("iki_id", "")
    iki = next((k for r in plan["rhk"] for k in r["iki"] if k["id"] == iki_id), None)
    p = f"iki-{iki_id}-"
    values = {p + k: f.get(p + k, "").strip() for k in ("value", "text", "note")}
    values["iki_id"] = iki_id
    if iki is None:
        return {"_": t("employee.realisation.unknown_iki")}, values
    errors: dict[str, str] = {}
    raw, text = values[p + "value"], values[p + "text"]
    value = None
    if raw:
        try:
            value = float(raw.replace(",", "."))
            if value != value or abs(value) == float("inf"):
                raise ValueError
        except ValueError:
            errors[p + "value"] = t("form.number")
    elif not text:
        errors[p + "value"] = t("employee.realisation.value_required")
    uploads = [u for u in request.files.getlist(p + "file") if u.filename]
    if errors:
        return errors, values
    body = {
        "iki_id": iki_id,
        "period_seq": seq,
        "value": value,
        "text": text or None,
        "note": values[p + "note"] or None,
    }
    try:
        rec = api().post(f"{P}/plans/{plan_id}/realisations", body)
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        mapped = {p + (k if k in ("value", "text", "note") else "value"): v for k, v in exc.field_errors().items()}
        return mapped or {"_": exc.detail or t("error.generic.body")}, values
    for upload in uploads:  # each file on its own: one refused file does not lose the others
        try:
            api().request(
                "POST",
                f"{P}/plans/{plan_id}/realisations/{rec['id']}/evidence",
                files={"file": (upload.filename, upload.stream.read(), upload.mimetype)},
            )
        except ApiProblem as exc:
            if exc.status not in (409, 413, 415, 422):
                raise
            return {p + "file": t("employee.realisation.file_refused", name=upload.filename, detail=exc.detail)}, values
    return {}, values


@bp.get("/skp/bukti/<int:evidence_id>")
@login_required()
def evidence(evidence_id: int):
    try:
        resp = api().request("GET", f"{P}/evidence/{evidence_id}")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        raise
    return Response(
        resp.content,
        mimetype=resp.headers.get("Content-Type", "application/octet-stream"),
        headers={
            "Content-Disposition": resp.headers.get("Content-Disposition", "attachment"),
            "X-Content-Type-Options": "nosniff",
        },
    )


# ------------------------------------------------------------------ daily log


def _approved_ikis(user) -> list[tuple[str, str]]:
    """IKI of my approved SKP in the cycle that is running (for the optional link of a log entry)."""
    running = [c for c in cycles() if c["stage"] != "closed"]
    if not running or not user.nip:
        return []
    mine = api().get(f"{P}/plans", cycle_id=running[-1]["id"], employee_nip=user.nip, limit=1)["items"]
    if not mine or mine[0]["status"] not in ("approved", "revised"):
        return []
    plan = api().get(f"{P}/plans/{mine[0]['id']}")
    return [(k["id"], f"{k['indicator']} — {r['description']}") for r in plan["rhk"] for k in r["iki"]]


@bp.route("/log-harian", methods=["GET", "POST"])
@login_required("employee")
def daily_logs():
    user = current_user()
    ikis = _approved_ikis(user)
    errors: dict[str, str] = {}
    values = {"date": today().isoformat(), "activity": "", "minutes": "", "iki_id": ""}
    status = 200
    if request.method == "POST":
        values = {k: request.form.get(k, "").strip() for k in values}
        body: dict = {"activity": values["activity"], "iki_id": values["iki_id"] or None}
        try:
            body["date"] = date.fromisoformat(values["date"]).isoformat()
        except ValueError:
            errors["date"] = t("form.date")
        if not values["activity"]:
            errors["activity"] = t("form.required")
        try:
            body["minutes"] = int(values["minutes"])
            if not 1 <= body["minutes"] <= 1440:
                errors["minutes"] = t("employee.log.minutes_range")
        except ValueError:
            errors["minutes"] = t("form.number") if values["minutes"] else t("form.required")
        if not errors:
            try:
                api().post(f"{P}/daily-logs", body)
            except ApiProblem as exc:
                if exc.status not in (409, 422):
                    raise
                errors = form_errors(exc)
            else:
                flash(t("employee.log.saved"), "ok")
                return redirect(url_for("employee.daily_logs"))
        status = 422
    since = today() - timedelta(days=30)
    logs = api().all(f"{P}/daily-logs", **{"from": since.isoformat()})
    days: OrderedDict[str, list] = OrderedDict()
    for entry in sorted(logs, key=lambda e: (e["date"], e["id"]), reverse=True):
        days.setdefault(entry["date"], []).append(entry)
    labels = dict(ikis)
    return page(
        "portal/employee/daily_logs.html",
        status,
        errors=errors,
        values=values,
        ikis=ikis,
        labels=labels,
        days=[(d, items, sum(e["minutes"] for e in items)) for d, items in days.items()],
    )


# ------------------------------------------------------------------ template filters (this area's names)


@bp.app_template_filter("employee_num")
def _fmt_num(value) -> str:
    """A number as people write it: no needless ".0", and a decimal comma in Bahasa Indonesia
    (the forms read both "1,5" and "1.5")."""
    from flask import g

    if value is None or value == "":
        return ""
    try:
        out = _num(float(value))
    except (TypeError, ValueError):
        return str(value)
    return out.replace(".", ",") if g.get("lang", "id") == "id" else out


@bp.app_template_filter("employee_date")
def _fmt_date(value) -> str:
    """``2026-01-05`` → "Senin, 5 Januari 2026" (or "Monday, 5 January 2026")."""
    try:
        d = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    months = t("employee.months").split(",")
    days = t("employee.weekdays").split(",")
    return f"{days[d.weekday()]}, {d.day} {months[d.month - 1]} {d.year}"
