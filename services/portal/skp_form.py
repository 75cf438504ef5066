"""The SKP form, without JavaScript: a fixed number of RHK and IKI slots that "tambah baris"
buttons re-render (server-side, nothing saved) with more; blank slots are ignored. This module
turns the slots into the plans API's content and back, checks what it parses itself (required
texts, numbers), and puts the API's field errors (``rhk[1].iki[0].target_unit``) beside the slot
the person typed in."""

from __future__ import annotations

import re

from flask import request

from .client import ApiProblem
from .pages_employee import fmt_num, parse_number
from .web import BERAKHLAK, t

ASPECTS = ("kuantitas", "kualitas", "waktu", "biaya")
KINDS = ("utama", "tambahan")
APPROACHES = ("kuantitatif", "kualitatif")
RHK_SLOTS, IKI_SLOTS, MAX_RHK, MAX_IKI = 3, 3, 12, len(ASPECTS)
IKI_FIELDS = ("aspect", "indicator", "target_value", "target_unit", "target_text", "satisfaction_unit_code")
_API_FIELD = re.compile(r"^rhk\[(\d+)\](?:\.iki\[(\d+)\])?(?:\.(\w+))?$")
_RHK_FIELD = {
    "description": "description",
    "kind": "kind",
    "parent_rhk_id": "parent",
    "organisation_goal": "goal",
    "iki": "description",
    "id": "description",
}


def blank_form(approach: str = "kuantitatif", rhk_slots: int = RHK_SLOTS, iki_slots: int = IKI_SLOTS) -> dict:
    return {
        "approach": approach,
        "rhk_slots": rhk_slots,
        "iki_slots": iki_slots,
        "rhk": [_blank_rhk(iki_slots) for _ in range(rhk_slots)],
        "behaviour": {},  # the ekspektasi khusus pimpinan are the penilai's: the form only shows them
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
        "satisfaction_unit_code": "",
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
                "target_value": "" if value is None else fmt_num(value),
                "target_unit": k.get("target_unit") or "",
                "target_text": k.get("target_text") or "",
                "satisfaction_unit_code": k.get("satisfaction_unit_code") or "",
            }
    form["behaviour"] = {v: (plan.get("behaviour") or {}).get(v, "") for v in BERAKHLAK}
    annex = plan.get("annex") or {}
    form["annex"] = {k: annex.get(k, "") for k in ("resources", "accountability", "consequences")}
    return form


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
        "behaviour": {},  # not the employee's to write (see blank_form); the edit sends the plan's back
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
    return not any(k.get(name) for name in ("id", *IKI_FIELDS[1:]))


def _rhk_blank(r: dict) -> bool:
    return not (r["id"] or r["description"] or r["parent"] or r["goal"]) and all(_iki_blank(k) for k in r["iki"])


def content_from_form(
    form: dict, head_of_unit: bool, unit_codes: frozenset[str] = frozenset()
) -> tuple[dict, dict, list]:
    """``(API content, {form field: message}, [(rhk slot, [iki slots])])`` — the slot map turns the
    API's ``rhk[i].iki[j]`` back into the slot the person typed in. ``unit_codes``: the service units
    an IKI may take its realisation from (the unit's survey index, IKM); the API stores any code, so a
    code the form did not offer is refused here, beside the field, before anything is saved."""
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
                    value = parse_number(k["target_value"])
                except ValueError:
                    errors[q + "target_value"] = t("form.number")
            if form["approach"] == "kuantitatif":
                if not k["target_value"]:
                    errors[q + "target_value"] = t("form.required")
                if not k["target_unit"]:
                    errors[q + "target_unit"] = t("form.required")
            elif not k["target_text"] and not (k["target_value"] and k["target_unit"]):
                errors[q + "target_text"] = t("employee.error.target_text")
            unit_code = k.get("satisfaction_unit_code") or ""
            if unit_code and unit_code not in unit_codes:
                errors[q + "satisfaction_unit_code"] = t("employee.error.satisfaction_unit")
            kept.append(j)
            ikis.append(
                {
                    "id": k["id"] or None,
                    "aspect": k["aspect"],
                    "indicator": k["indicator"],
                    "target_value": value,
                    "target_unit": k["target_unit"] or None,
                    "target_text": k["target_text"] or None,
                    "satisfaction_unit_code": unit_code or None,
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
    "satisfaction_unit_code": "employee.iki.satisfaction_unit",
}
_SLOT = re.compile(r"^rhk-(\d+)-(?:iki-(\d+)-)?(\w+)$")


def is_slot(name: str) -> bool:
    """Whether a form field belongs to an RHK or IKI slot (``rhk-0-parent``, ``rhk-1-iki-2-indicator``)."""
    return _SLOT.match(name) is not None


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
