"""Rating (the penilai): the team's evaluations to rate, sign and countersign with the objections
waiting for a decision, and the rating page: the explained suggestion (target, realisation and
achievement per IKI), feedback per IKI and per BerAKHLAK value, both ratings, and the reason
when departing from the suggestion. The suggested rating perilaku comes from the levels chosen per value
(the peers' majority filling in), each value shown with the continuous feedback recorded on it and the
peers' answers; "Perbarui saran perilaku" recomputes it from the form without saving."""

from __future__ import annotations

from flask import flash, g, redirect, request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_evaluations import (
    RATINGS,
    bp,
    check_length,
    load_cycle,
    load_evaluation,
    plan_snapshot,
    refusal_errors,
    roles_in,
    shown,
    stage_allows,
)
from .pages_feedback import rating_notes
from .web import BERAKHLAK, P, R, acting_appointment, acts_as, forbidden, page, settings, t


def _realisations(ev: dict) -> dict[str, dict]:
    """The realisation per IKI the evaluation looks at: its period's, or for the annual the latest period's."""
    try:
        rows = api().get(f"{P}/plans/{ev['plan_id']}/realisations")
    except ApiProblem:
        return {}
    out: dict[str, dict] = {}
    for r in rows or []:
        if ev["period_seq"] and r["period_seq"] != ev["period_seq"]:
            continue
        if r["iki_id"] not in out or r["period_seq"] > out[r["iki_id"]]["period_seq"]:
            out[r["iki_id"]] = r
    return out


def _peer_summary(evaluation_id: int) -> dict | None:
    """Peer feedback in aggregate (the API shows it only from the minimum number of answers)."""
    try:
        return api().get(f"{R}/evaluations/{evaluation_id}/peer-feedback")
    except ApiProblem:
        return None


def _rating_page(evaluation_id: int, status: int = 200, *, errors: dict | None = None, form: dict | None = None):
    ev, etag = load_evaluation(evaluation_id)
    roles = roles_in(ev)
    if not roles["penilai"]:
        return forbidden()
    cycle = load_cycle(ev["cycle_id"])
    judged = _judgements(ev.get("suggestion"))
    plan = plan_snapshot(ev)
    real = _realisations(ev)
    if form is None:
        form = {
            "rating_hasil": ev.get("rating_hasil") or "",
            "rating_perilaku": ev.get("rating_perilaku") or "",
            "deviation_reason": ev.get("deviation_reason") or "",
            "perilaku_deviation_reason": ev.get("perilaku_deviation_reason") or "",
            "notes": ev.get("notes") or "",
            "recommendations": ev.get("recommendations") or "",
            "perilaku_below_values": list(ev.get("perilaku_below_values") or []),
        }
        for k, v in (ev.get("iki_feedback") or {}).items():
            form[f"iki_feedback.{k}"] = v
        for k, v in judged.items():
            form[f"iki_judgements.{k}"] = v
        for k, v in (ev.get("value_feedback") or {}).items():
            form[f"value_level.{k}"] = (v or {}).get("level") or ""
            form[f"value_text.{k}"] = (v or {}).get("text") or ""
    # the perilaku suggestion from the levels on the form (as recorded, or as just chosen), the peers filling in
    levels = {c: form.get(f"value_level.{c}") for c in BERAKHLAK if form.get(f"value_level.{c}") in RATINGS}
    suggestion = api().get(f"{R}/evaluations/{evaluation_id}/suggestion", **levels)
    perilaku = suggestion.get("perilaku") or {}
    if judged:  # the penilai's qualitative judgements count: the suggestion stored with the rating has them
        suggestion = ev["suggestion"]
    rows = _explained(plan, suggestion, real)
    peers = _peer_summary(evaluation_id)
    continuous = rating_notes(ev, plan, cycle)  # continuous feedback and coaching per RHK and value
    t_pct = 100 * settings().suggest_threshold
    return page(
        "portal/evaluations/rate.html",
        status,
        ev=ev,
        etag=etag,
        cycle=cycle,
        suggestion=suggestion,
        rows=rows,
        plan=plan,
        form=form,
        errors=errors or {},
        threshold=_num(t_pct),
        upper=_num(round(100 + t_pct, 2)),
        values=BERAKHLAK,
        behaviour=(plan or {}).get("behaviour") or {},
        peers=peers,
        continuous=continuous,
        perilaku=perilaku,
        value_rows=_value_rows(perilaku, peers, continuous),
        below_names=", ".join(t(f"berakhlak.{c}") for c in perilaku.get("below_values") or []),
        can_rate=ev["status"] in ("open", "self_assessed", "rated") and stage_allows(cycle, ev, "rate"),
        can_sign=ev["status"] == "rated" and stage_allows(cycle, ev, "sign"),
        acting=acting_appointment(ev.get("penilai_nip")),  # I rate and sign as Plt/Plh of the penilai
    )


def _value_rows(perilaku: dict, peers: dict | None, continuous: list[dict]) -> dict[str, dict]:
    """Per BerAKHLAK value what the penilai rates it from: the continuous feedback recorded on it, the peers'
    answers per level (once shown) and the suggestion's level with its reason."""
    classes = {v["code"]: v for v in perilaku.get("values") or []}
    notes = {grp["value_code"]: grp["items"] for grp in continuous if grp.get("value_code")}
    aggregate = (peers or {}).get("aggregate") or {}
    return {
        code: {
            "notes": notes.get(code) or [],
            "peers": aggregate.get(code) if (aggregate.get(code) or {}).get("n") else None,
            "level": (classes.get(code) or {}).get("level"),
            "reason": (classes.get(code) or {}).get("reason"),
        }
        for code in BERAKHLAK
    }


def _num(value) -> str:
    """12.0 → "12", 2.5 → "2,5" (Indonesian) or "2.5"."""
    if value is None:
        return ""
    v = float(value)
    text = str(int(v)) if v.is_integer() else f"{v:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if g.get("lang", "id") == "id" else text


def _judgements(suggestion: dict | None) -> dict[str, str]:
    """The IKI whose class came from the penilai's judgement, in a suggestion stored with the rating."""
    return {
        i["id"]: i["level"]
        for r in (suggestion or {}).get("rhk", [])
        for i in r.get("iki", [])
        if i.get("reason") == "suggest.iki.judgement" and i.get("level")
    }


def _explained(plan: dict | None, suggestion: dict, real: dict[str, dict]) -> list[dict]:
    """Each RHK of the SKP with the suggestion's class and, per IKI, target, realisation, achievement and why."""
    by_rhk = {r["id"]: r for r in suggestion.get("rhk", [])}
    out = []
    for r in (plan or {}).get("rhk", []):
        cls = by_rhk.get(r["id"], {})
        iki_cls = {i["id"]: i for i in cls.get("iki", [])}
        ikis = []
        for i in r.get("iki", []):
            c = iki_cls.get(i["id"], {})
            rv = real.get(i["id"])
            ach = c.get("achievement")
            target = (
                f"{_num(i['target_value'])} {i.get('target_unit') or ''}".strip()
                if i.get("target_value") is not None
                else (i.get("target_text") or "—")
            )
            shown = None
            if rv is not None:
                shown = _num(rv["value"]) if rv.get("value") is not None else (rv.get("text") or "")
            ikis.append(
                {
                    "iki": i,
                    "level": c.get("level"),
                    "reason": c.get("reason"),
                    "target": target,
                    "shown": shown,
                    "achievement": None if ach is None else _num(round(100 * ach, 1)),
                    "realisation": rv,
                    "qualitative": i.get("target_value") is None,
                }
            )
        out.append({"rhk": r, "level": cls.get("level"), "iki": ikis})
    return out


@bp.get("/evaluasi/<int:evaluation_id>/nilai")
@login_required()
def rate(evaluation_id: int):
    return _rating_page(evaluation_id)


@bp.post("/evaluasi/<int:evaluation_id>/nilai")
@login_required()
def rate_save(evaluation_id: int):
    f = request.form
    form = {k: (v or "").strip() for k, v in f.items() if k not in ("csrf_token",)}
    errors: dict[str, str] = {}
    body: dict = {}
    for name in ("rating_hasil", "rating_perilaku"):
        value = form.get(name, "")
        if not value:
            errors[name] = t("evaluations.rate.choose_rating")
        elif value not in RATINGS:
            errors[name] = t("evaluations.rate.choose_rating")
        body[name] = value
    if form.get("action") == "suggest":  # "Perbarui saran perilaku": the suggestion from the levels chosen
        form["perilaku_below_values"] = [v for v in f.getlist("perilaku_below_values") if v]
        return _rating_page(evaluation_id, form=form)
    for name in ("deviation_reason", "perilaku_deviation_reason", "notes", "recommendations"):
        body[name] = form.get(name) or None
        check_length(errors, name, form.get(name, ""))
    body["iki_feedback"] = {
        k[len("iki_feedback.") :]: v for k, v in form.items() if k.startswith("iki_feedback.") and v
    }
    body["iki_judgements"] = {}
    for k, v in form.items():
        if k.startswith("iki_judgements.") and v:
            if v not in RATINGS:
                errors[k] = t("evaluations.rate.choose_rating")
            body["iki_judgements"][k[len("iki_judgements.") :]] = v
    values = {}
    for code in BERAKHLAK:
        level, text = form.get(f"value_level.{code}", ""), form.get(f"value_text.{code}", "")
        if level and level not in RATINGS:
            errors[f"value_level.{code}"] = t("evaluations.rate.choose_rating")
        elif text and not level:
            errors[f"value_level.{code}"] = t("evaluations.rate.value_level_needed")
        elif level:
            values[code] = {"level": level, "text": text}
        check_length(errors, f"value_text.{code}", text)
    body["value_feedback"] = values
    # the values behind a "below" rating perilaku (checkboxes, always shown: no script decides when)
    below = [v for v in f.getlist("perilaku_below_values") if v]
    form["perilaku_below_values"] = below
    if any(v not in BERAKHLAK for v in below):
        errors["perilaku_below_values"] = t("evaluations.rate.below_values_unknown")
    elif body["rating_perilaku"] == "below" and not below:
        errors["perilaku_below_values"] = t("evaluations.rate.below_values_needed")
    body["perilaku_below_values"] = below if body["rating_perilaku"] == "below" else []
    for k, v in body["iki_feedback"].items():
        check_length(errors, f"iki_feedback.{k}", v)
    if errors:
        return _rating_page(evaluation_id, 422, errors=errors, form=form)
    etag = form.get("etag") or None
    try:
        api().put(f"{R}/evaluations/{evaluation_id}/rating", body, etag)
    except ApiProblem as exc:
        shown(exc)
        suggested = next(
            (
                (e.get("params") or {}).get("suggested")
                for e in exc.errors
                if e.get("code") == "rating.deviation_reason_required"
            ),
            None,
        )
        errors = refusal_errors(
            exc,
            {"iki_feedback.": "iki_feedback.", "iki_judgements.": "iki_judgements.", "value_feedback.": "value_level."},
            suggested=suggested,
        )
        for key in list(errors):  # any refused value code → the values' checkbox group
            if key.startswith("perilaku_below_values"):
                errors.pop(key)
                errors["perilaku_below_values"] = t("evaluations.rate.below_values_unknown")
        if any(e.get("code") == "rating.perilaku_below_values_required" for e in exc.errors):
            errors["perilaku_below_values"] = t("evaluations.rate.below_values_needed")
        for e in exc.errors:  # departing from the suggested perilaku: the reason asked beside its field
            if e.get("code") == "rating.perilaku_deviation_reason_required":
                sug = (e.get("params") or {}).get("suggested")
                errors["perilaku_deviation_reason"] = t(
                    "evaluations.error.perilaku_deviation_reason_required",
                    suggested=t(f"rating.{sug}") if sug in RATINGS else "-",
                )
        for key in list(errors):  # value_feedback.<code>.level / .text → the value's radio group / text
            if key.startswith("value_level.") and key.count(".") == 2:
                code, part = key[len("value_level.") :].split(".")
                errors.setdefault(f"value_text.{code}" if part == "text" else f"value_level.{code}", errors.pop(key))
        return _rating_page(evaluation_id, 422, errors=errors, form=form)
    flash(t("evaluations.rate.saved"), "ok")
    return redirect(url_for("evaluations.rate", evaluation_id=evaluation_id) + "#hasil")


# ------------------------------------------------------------------ the team's evaluations


@bp.get("/tim/evaluasi")
@login_required("supervisor")
def team():
    client = api()
    cycles = [c for c in client.get(f"{P}/cycles", limit=50)["items"]]
    wanted = request.args.get("cycle_id", type=int)
    cycle = next((c for c in cycles if c["id"] == wanted), None)
    if cycle is None:
        running = [c for c in cycles if c["stage"] != "closed"]
        cycle = running[-1] if running else (cycles[-1] if cycles else None)
    ctx: dict = {"cycle": cycle, "cycles": cycles}
    if cycle is None:
        return page("portal/evaluations/team.html", **ctx, groups=[], objections=[], counts={})
    as_penilai = client.all(f"{R}/evaluations", role="penilai", cycle_id=cycle["id"])
    as_atasan = client.all(f"{R}/evaluations", role="atasan", cycle_id=cycle["id"])
    objections = [
        o
        for o in client.all(f"{R}/objections", cycle_id=cycle["id"])
        if acts_as(o.get("atasan_nip")) and o["status"] != "decided"
    ]
    names = {e["id"]: e for e in as_penilai + as_atasan}
    for o in objections:
        o["evaluation"] = names.get(o["evaluation_id"])

    def order(items):
        return sorted(items, key=lambda e: (e["period_seq"] == 0, e["period_seq"], e["employee_name"]))

    groups = [
        (
            "to_rate",
            order(
                [e for e in as_penilai if e["status"] in ("open", "self_assessed") and stage_allows(cycle, e, "rate")]
            ),
        ),
        ("to_sign", order([e for e in as_penilai if e["status"] == "rated"])),
        ("waiting_employee", order([e for e in as_penilai if e["status"] == "signed"])),
        ("to_countersign", order([e for e in as_atasan if e["status"] == "acknowledged"])),
    ]
    counts = {key: len(items) for key, items in groups}
    counts["objections"] = len(objections)
    ctx.update(
        groups=groups,
        objections=objections,
        counts=counts,
        can_countersign={e["id"]: stage_allows(cycle, e, "countersign") for e in as_atasan},
    )
    return page("portal/evaluations/team.html", **ctx)
