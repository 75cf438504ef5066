"""Evaluations in the portal, for the three parties of each one (DOMAIN.md §6):

- the employee: my evaluations, the self-assessment (draft with If-Match, submit), the ratings
  and predikat, the signed document versions and their PDF, acknowledging receipt, and an
  objection (keberatan) within the window after acknowledging;
- the penilai: the rating page with the explained suggestion, feedback per IKI and per
  BerAKHLAK value, both ratings, the reason when departing from the suggestion, then signing;
- the atasan penilai: countersigning, and deciding objections (upheld, or changed with new
  ratings); both sides' statements are heard on the objection page.

Every call goes to the reviews (and plans) API with the signed-in user's own token: the API
decides who may see and do what; these pages only choose what to offer, from the viewer's
role in the evaluation and the cycle's stage."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta

from flask import Blueprint, Response, current_app, flash, redirect, request, url_for

from .app import t
from .auth import api, current_user, login_required
from .client import ApiProblem
from .web import NotYours, error_page, forbidden, form_errors, get_own, page

bp = Blueprint("evaluations", __name__)
P = "/plans/api/v1"
R = "/reviews/api/v1"
RATINGS = ("above", "meets", "below")
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
SELF_FIELDS = ("achievements", "challenges", "improvement_plan")
TEXT_MAX = 8000


def objection_days() -> int:
    """The objection window (days after acknowledging); the same setting the reviews service reads."""
    try:
        return int(os.environ.get("REVIEWS_OBJECTION_DAYS", "14"))
    except ValueError:
        return 14


def suggest_threshold() -> float:
    try:
        return float(os.environ.get("REVIEWS_SUGGEST_THRESHOLD", "0.05"))
    except ValueError:
        return 0.05


# ------------------------------------------------------------------ small helpers


def _evaluation(evaluation_id: int) -> tuple[dict, str | None]:
    return get_own(f"{R}/evaluations/{evaluation_id}")


@bp.app_template_filter("eval_date")
def eval_date(value) -> str:
    """An API timestamp as the date in Jakarta (where the people are), ``YYYY-MM-DD``."""
    from zoneinfo import ZoneInfo

    moment = _parse_dt(value) if isinstance(value, str) else value
    if moment is None:
        return str(value or "")[:10]
    if moment.tzinfo is None:
        return moment.date().isoformat()
    return moment.astimezone(ZoneInfo("Asia/Jakarta")).date().isoformat()


def _roles(ev: dict) -> dict[str, bool]:
    """The viewer's part in the evaluation (HR records the penilai's and atasan's acts for the top official)."""
    user = current_user()
    nip = user.nip
    hr = user.is_hr
    return {
        "employee": bool(nip) and nip == ev["employee_nip"],
        "penilai": (bool(nip) and nip == ev.get("penilai_nip")) or (ev.get("penilai_nip") is None and hr),
        "atasan": (bool(nip) and nip == ev.get("atasan_nip")) or (ev.get("atasan_nip") is None and hr),
        "hr": hr,
    }


def _cycle(cycle_id: int) -> dict | None:
    try:
        return api().get(f"{P}/cycles/{cycle_id}")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return None
        raise


def stage_allows(cycle: dict | None, ev: dict, action: str) -> bool:
    """What the reviews service allows in the cycle's stage (it refuses anything else with 409);
    the pages offer only these actions."""
    if cycle is None:
        return False
    stage, seq, phase = cycle.get("stage"), cycle.get("period_seq") or 0, cycle.get("phase")
    annual = ev["period_seq"] == 0
    here = stage == "monitoring" and seq == ev["period_seq"]
    past = (stage == "monitoring" and seq > ev["period_seq"]) or stage in (
        "annual_evaluation",
        "calibration",
        "sign_off",
        "objections",
    )
    if action == "self_assess":
        return stage == "annual_evaluation" if annual else here and phase in ("check_in", "self_assessment")
    if action == "rate":
        return stage == "annual_evaluation" if annual else here and phase == "supervisor_evaluation"
    if action in ("sign", "acknowledge", "countersign"):
        return stage in ("sign_off", "objections") if annual else (here and phase == "supervisor_evaluation") or past
    if action == "object":
        return stage != "closed"
    raise ValueError(action)


def _parse_dt(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def objection_closes_on(ev: dict) -> date | None:
    """The last day to object: the day of acknowledging + the window (the reviews service counts
    in the same calendar, its clock's date)."""
    ack = _parse_dt(ev.get("acknowledged_at"))
    return ack.date() + timedelta(days=objection_days()) if ack else None


def _clock_today() -> date:
    return current_app.extensions["portal"].clock().date()


def _plan_snapshot(ev: dict) -> dict | None:
    """The approved SKP version the evaluation is based on (RHK, IKI, targets, BerAKHLAK expectations)."""
    try:
        return api().get(f"{P}/plans/{ev['plan_id']}/versions/{ev['plan_revision']}")["snapshot"]
    except (ApiProblem, KeyError, TypeError):
        return None


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


def _objection_for(evaluation_id: int) -> dict | None:
    try:
        items = api().all(f"{R}/objections", evaluation_id=evaluation_id)
    except ApiProblem:
        return None
    for o in items:
        if o["evaluation_id"] == evaluation_id:
            return o
    return None


def _documents(evaluation_id: int) -> list[dict]:
    try:
        return api().get(f"{R}/evaluations/{evaluation_id}/documents") or []
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return []
        raise


def _peer_summary(evaluation_id: int) -> dict | None:
    """Peer feedback in aggregate (the API shows it only from the minimum number of answers)."""
    try:
        return api().get(f"{R}/evaluations/{evaluation_id}/peer-feedback")
    except ApiProblem:
        return None


def _follow_up(ev: dict) -> dict | None:
    """The development plan or recognition planned at countersigning."""
    if ev["status"] != "countersigned":
        return None
    try:
        items = api().all(f"{R}/followups", cycle_id=ev["cycle_id"])
    except ApiProblem:
        return None
    return next((f for f in items if f["evaluation_id"] == ev["id"]), None)


def _text(name: str) -> str:
    return (request.form.get(name) or "").strip()


def _too_long(errors: dict, name: str, value: str) -> None:
    if len(value) > TEXT_MAX:
        errors[name] = t("evaluations.error.too_long", n=TEXT_MAX)


def _api_errors(
    exc: ApiProblem,
    fields: dict[str, str] | None = None,
    *,
    default_field: str | None = None,
    suggested: str | None = None,
) -> dict[str, str]:
    """The API's refusal beside the field: its field errors mapped to the form's names, a few
    codes worded here, and a refusal without a field (409) beside ``default_field``."""
    codes = {e.get("field"): e.get("code") for e in exc.errors}
    errors = form_errors(exc, fields)
    for field_name, code in codes.items():
        target = (fields or {}).get(field_name, field_name)
        if code == "rating.deviation_reason_required":
            errors[target] = t(
                "evaluations.error.deviation_reason_required",
                suggested=t(f"rating.{suggested}") if suggested in RATINGS else "-",
            )
        elif code == "objection.new_rating_required":
            errors[target] = t("evaluations.error.new_rating_required")
    if not exc.errors:
        message = exc.detail or t("error.generic.body")
        if exc.code == "objection.window_closed":
            closed = exc.body.get("closed_on")
            message = t("evaluations.objection.window_closed_on", date=closed) if closed else message
        elif exc.status == 412:
            message = t("evaluations.error.changed_meanwhile")
        errors = {default_field or "_": message}
    return errors


def _reraise(exc: ApiProblem):
    """Not a party (the API's 403/404) is "tidak berwenang"; anything else goes to the shared error pages."""
    if exc.status in (403, 404):
        raise NotYours() from exc
    raise exc


def _refused(exc: ApiProblem) -> bool:
    """A refusal the page shows (validation, conflict, stale version); anything else is an error page."""
    return exc.status in (409, 412, 422, 428)


# ------------------------------------------------------------------ my evaluations


@bp.get("/evaluasi")
@login_required()
def mine():
    user = current_user()
    if not user.nip:
        return page("portal/evaluations/mine.html", evaluations=[], cycles={}, no_nip=True)
    items = api().all(f"{R}/evaluations", role="employee")
    cycles = {c["id"]: c for c in api().get(f"{P}/cycles", limit=50)["items"]}
    items.sort(key=lambda e: (-(e["cycle_id"]), e["period_seq"] == 0, e["period_seq"]))
    annual = [e for e in items if e["period_seq"] == 0]
    periodic = [e for e in items if e["period_seq"] != 0]
    return page(
        "portal/evaluations/mine.html", evaluations=items, annual=annual, periodic=periodic, cycles=cycles, no_nip=False
    )


# ------------------------------------------------------------------ one evaluation


def _detail_page(
    evaluation_id: int,
    status: int = 200,
    *,
    errors: dict | None = None,
    form: dict | None = None,
    posted: str | None = None,
):
    ev, etag = _evaluation(evaluation_id)
    roles = _roles(ev)
    cycle = _cycle(ev["cycle_id"])
    plan = _plan_snapshot(ev)
    objection = _objection_for(evaluation_id) if ev.get("acknowledged_at") else None
    closes_on = objection_closes_on(ev)
    window_open = closes_on is not None and _clock_today() <= closes_on and stage_allows(cycle, ev, "object")
    iki = [(r, i) for r in (plan or {}).get("rhk", []) for i in r.get("iki", [])]
    sa = ev.get("self_assessment") or {}
    ctx = dict(
        ev=ev,
        etag=etag,
        roles=roles,
        cycle=cycle,
        plan=plan,
        iki=iki,
        objection=objection,
        documents=_documents(evaluation_id) if ev.get("document_version") else [],
        follow_up=_follow_up(ev),
        values=BERAKHLAK,
        closes_on=closes_on,
        window_open=window_open,
        can_self_assess=roles["employee"] and ev["status"] == "open" and stage_allows(cycle, ev, "self_assess"),
        can_rate=roles["penilai"]
        and ev["status"] in ("open", "self_assessed", "rated")
        and stage_allows(cycle, ev, "rate"),
        can_sign=roles["penilai"] and ev["status"] == "rated" and stage_allows(cycle, ev, "sign"),
        can_acknowledge=roles["employee"] and ev["status"] == "signed" and stage_allows(cycle, ev, "acknowledge"),
        can_countersign=roles["atasan"] and ev["status"] == "acknowledged" and stage_allows(cycle, ev, "countersign"),
        can_object=roles["employee"] and objection is None and ev["status"] in ("acknowledged", "countersigned"),
        errors=errors or {},
        posted=posted,
        objection_days=objection_days(),
        form=form
        if form is not None
        else {
            **{f: sa.get(f) or "" for f in SELF_FIELDS},
            **{f"iki_comments.{k}": v for k, v in (sa.get("iki_comments") or {}).items()},
        },
    )
    return page("portal/evaluations/detail.html", status, **ctx)


@bp.get("/evaluasi/<int:evaluation_id>")
@login_required()
def detail(evaluation_id: int):
    return _detail_page(evaluation_id)


@bp.post("/evaluasi/<int:evaluation_id>/penilaian-diri")
@login_required()
def self_assessment(evaluation_id: int):
    """The employee's self-assessment: ``action=save`` keeps a draft (PUT with If-Match), ``submit`` sends it."""
    submit = request.form.get("action") == "submit"
    body: dict = {f: _text(f) or None for f in SELF_FIELDS}
    comments = {
        k[len("iki_comments.") :]: (v or "").strip()
        for k, v in request.form.items()
        if k.startswith("iki_comments.") and (v or "").strip()
    }
    body["iki_comments"] = comments
    form = {**{f: body[f] or "" for f in SELF_FIELDS}, **{f"iki_comments.{k}": v for k, v in comments.items()}}
    errors: dict[str, str] = {}
    for f in SELF_FIELDS:
        if submit and not body[f]:
            errors[f] = t("form.required")
        _too_long(errors, f, body[f] or "")
    for k, v in comments.items():
        _too_long(errors, f"iki_comments.{k}", v)
    if errors:
        return _detail_page(evaluation_id, 422, errors=errors, form=form, posted="self")
    etag = request.form.get("etag") or None
    path = f"{R}/evaluations/{evaluation_id}/self-assessment"
    try:
        if submit:
            api().post(path + "/submit", body, headers={"If-Match": etag} if etag else None)
        else:
            api().put(path, body, etag)
    except ApiProblem as exc:
        if not _refused(exc):
            _reraise(exc)
        return _detail_page(
            evaluation_id, 422, errors=_api_errors(exc, {"iki_comments.": "iki_comments."}), form=form, posted="self"
        )
    flash(t("evaluations.self.submitted" if submit else "evaluations.self.saved"), "ok")
    return redirect(url_for("evaluations.detail", evaluation_id=evaluation_id) + "#penilaian-diri")


def _chain_action(evaluation_id: int, action: str, done_key: str, back: str | None = None):
    """Sign, acknowledge or countersign: the API decides; a refusal comes back as a message on the page."""
    try:
        api().post(f"{R}/evaluations/{evaluation_id}/{action}")
    except ApiProblem as exc:
        if not _refused(exc):
            _reraise(exc)
        flash(exc.detail or t("error.generic.body"), "error")
    else:
        flash(t(done_key), "ok")
    return redirect(back or url_for("evaluations.detail", evaluation_id=evaluation_id))


@bp.post("/evaluasi/<int:evaluation_id>/terima")
@login_required()
def acknowledge(evaluation_id: int):
    return _chain_action(evaluation_id, "acknowledge", "evaluations.chain.acknowledged")


@bp.post("/evaluasi/<int:evaluation_id>/tandatangani")
@login_required()
def sign(evaluation_id: int):
    return _chain_action(
        evaluation_id, "sign", "evaluations.chain.signed", back=url_for("evaluations.rate", evaluation_id=evaluation_id)
    )


@bp.post("/evaluasi/<int:evaluation_id>/sahkan")
@login_required()
def countersign(evaluation_id: int):
    back = url_for("evaluations.team") if request.form.get("back") == "team" else None
    return _chain_action(evaluation_id, "countersign", "evaluations.chain.countersigned", back=back)


@bp.post("/evaluasi/<int:evaluation_id>/keberatan")
@login_required()
def object_(evaluation_id: int):
    reasons = _text("reasons")
    form = {"reasons": reasons}
    errors: dict[str, str] = {}
    if not reasons:
        errors["reasons"] = t("form.required")
    _too_long(errors, "reasons", reasons)
    if errors:
        return _detail_page(evaluation_id, 422, errors=errors, form=form, posted="objection")
    try:
        obj = api().post(f"{R}/evaluations/{evaluation_id}/objections", {"reasons": reasons})
    except ApiProblem as exc:
        if not _refused(exc):
            _reraise(exc)
        return _detail_page(
            evaluation_id,
            422,
            errors=_api_errors(exc, {"reasons": "reasons"}, default_field="reasons"),
            form=form,
            posted="objection",
        )
    flash(t("evaluations.objection.filed"), "ok")
    return redirect(url_for("evaluations.objection", objection_id=obj["id"]))


@bp.get("/evaluasi/<int:evaluation_id>/dokumen.pdf")
@login_required()
def document(evaluation_id: int):
    """The evaluation document (the latest signed version, or a draft marked as such), fetched
    from the reviews service with the user's token and passed on as it is."""
    try:
        upstream = api().request(
            "GET", f"{R}/evaluations/{evaluation_id}/document.pdf", headers={"Accept": "application/pdf"}
        )
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        raise
    if not upstream.headers.get("content-type", "").startswith("application/pdf"):
        return error_page(503, "error.unavailable")
    disposition = upstream.headers.get("content-disposition") or f'inline; filename="penilaian-{evaluation_id}.pdf"'
    return Response(
        upstream.content,
        mimetype="application/pdf",
        headers={"Content-Disposition": disposition, "Cache-Control": "private, no-store"},
    )


# ------------------------------------------------------------------ the penilai: rating


def _rating_page(evaluation_id: int, status: int = 200, *, errors: dict | None = None, form: dict | None = None):
    ev, etag = _evaluation(evaluation_id)
    roles = _roles(ev)
    if not roles["penilai"]:
        return forbidden()
    cycle = _cycle(ev["cycle_id"])
    suggestion = api().get(f"{R}/evaluations/{evaluation_id}/suggestion")
    judged = _judgements(ev.get("suggestion"))
    if judged:  # the penilai's qualitative judgements count: the suggestion stored with the rating has them
        suggestion = ev["suggestion"]
    plan = _plan_snapshot(ev)
    real = _realisations(ev)
    rows = _explained(plan, suggestion, real)
    if form is None:
        form = {
            "rating_hasil": ev.get("rating_hasil") or "",
            "rating_perilaku": ev.get("rating_perilaku") or "",
            "deviation_reason": ev.get("deviation_reason") or "",
            "notes": ev.get("notes") or "",
            "recommendations": ev.get("recommendations") or "",
        }
        for k, v in (ev.get("iki_feedback") or {}).items():
            form[f"iki_feedback.{k}"] = v
        for k, v in judged.items():
            form[f"iki_judgements.{k}"] = v
        for k, v in (ev.get("value_feedback") or {}).items():
            form[f"value_level.{k}"] = (v or {}).get("level") or ""
            form[f"value_text.{k}"] = (v or {}).get("text") or ""
    t_pct = 100 * suggest_threshold()
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
        peers=_peer_summary(evaluation_id),
        can_rate=ev["status"] in ("open", "self_assessed", "rated") and stage_allows(cycle, ev, "rate"),
        can_sign=ev["status"] == "rated" and stage_allows(cycle, ev, "sign"),
    )


def _num(value) -> str:
    """12.0 → "12", 2.5 → "2,5" (Indonesian) or "2.5"."""
    from flask import g

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
    for name in ("deviation_reason", "notes", "recommendations"):
        body[name] = form.get(name) or None
        _too_long(errors, name, form.get(name, ""))
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
        _too_long(errors, f"value_text.{code}", text)
    body["value_feedback"] = values
    for k, v in body["iki_feedback"].items():
        _too_long(errors, f"iki_feedback.{k}", v)
    if errors:
        return _rating_page(evaluation_id, 422, errors=errors, form=form)
    etag = form.get("etag") or None
    try:
        api().put(f"{R}/evaluations/{evaluation_id}/rating", body, etag)
    except ApiProblem as exc:
        if not _refused(exc):
            _reraise(exc)
        suggested = next(
            (
                (e.get("params") or {}).get("suggested")
                for e in exc.errors
                if e.get("code") == "rating.deviation_reason_required"
            ),
            None,
        )
        errors = _api_errors(
            exc,
            {"iki_feedback.": "iki_feedback.", "iki_judgements.": "iki_judgements.", "value_feedback.": "value_level."},
            suggested=suggested,
        )
        for key in list(errors):  # value_feedback.<code>.level / .text → the value's radio group / text
            if key.startswith("value_level.") and key.count(".") == 2:
                code, part = key[len("value_level.") :].split(".")
                errors.setdefault(f"value_text.{code}" if part == "text" else f"value_level.{code}", errors.pop(key))
        return _rating_page(evaluation_id, 422, errors=errors, form=form)
    flash(t("evaluations.rate.saved"), "ok")
    return redirect(url_for("evaluations.rate", evaluation_id=evaluation_id) + "#hasil")


# ------------------------------------------------------------------ the supervisor's lists


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
        if o.get("atasan_nip") == current_user().nip and o["status"] != "decided"
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


# ------------------------------------------------------------------ objections


def _objection_page(objection_id: int, status: int = 200, *, errors: dict | None = None, form: dict | None = None):
    try:
        obj = api().get(f"{R}/objections/{objection_id}")
    except ApiProblem as exc:
        if exc.status in (403, 404):
            return forbidden()
        raise
    ev, _ = _evaluation(obj["evaluation_id"])
    roles = _roles(ev)
    decided = obj["status"] == "decided"
    return page(
        "portal/evaluations/objection.html",
        status,
        obj=obj,
        ev=ev,
        roles=roles,
        can_decide=roles["atasan"] and not decided,
        can_state=(roles["employee"] or (roles["penilai"] and bool(current_user().nip))) and not decided,
        errors=errors or {},
        form=form or {},
    )


@bp.get("/keberatan/<int:objection_id>")
@login_required()
def objection(objection_id: int):
    return _objection_page(objection_id)


@bp.post("/keberatan/<int:objection_id>")
@login_required()
def decide(objection_id: int):
    form = {k: _text(k) for k in ("decision", "reason", "rating_hasil", "rating_perilaku")}
    errors: dict[str, str] = {}
    if form["decision"] not in ("upheld", "changed"):
        errors["decision"] = t("evaluations.objection.choose_decision")
    if not form["reason"]:
        errors["reason"] = t("form.required")
    _too_long(errors, "reason", form["reason"])
    if form["decision"] == "changed":
        for name in ("rating_hasil", "rating_perilaku"):
            if form[name] not in RATINGS:
                errors[name] = t("evaluations.error.new_rating_required")
    if errors:
        return _objection_page(objection_id, 422, errors=errors, form=form)
    body = {"decision": form["decision"], "reason": form["reason"]}
    if form["decision"] == "changed":
        body.update(rating_hasil=form["rating_hasil"], rating_perilaku=form["rating_perilaku"])
    try:
        api().post(f"{R}/objections/{objection_id}/decide", body)
    except ApiProblem as exc:
        if not _refused(exc):
            _reraise(exc)
        return _objection_page(objection_id, 422, errors=_api_errors(exc, default_field="decision"), form=form)
    flash(t("evaluations.objection.decided"), "ok")
    return redirect(url_for("evaluations.objection", objection_id=objection_id))


@bp.post("/keberatan/<int:objection_id>/pernyataan")
@login_required()
def statement(objection_id: int):
    text = _text("text")
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = t("form.required")
    _too_long(errors, "text", text)
    if errors:
        return _objection_page(objection_id, 422, errors=errors, form={"text": text})
    try:
        api().post(f"{R}/objections/{objection_id}/statements", {"text": text})
    except ApiProblem as exc:
        if not _refused(exc):
            _reraise(exc)
        return _objection_page(objection_id, 422, errors=_api_errors(exc, default_field="text"), form={"text": text})
    flash(t("evaluations.objection.statement_added"), "ok")
    return redirect(url_for("evaluations.objection", objection_id=objection_id) + "#pernyataan")
