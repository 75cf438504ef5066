"""SIASN for HR (and admins), endpoints ``hr.siasn*``: what SIASN has of each countersigned evaluation
(not sent, sent, failed with SIASN's answer, uploaded by hand), filtered by kind and state; the push
when SIASN's web services are configured; else — and always as a second way — the payloads as a
file (JSON or CSV, per kind) to upload by hand, and the form that marks evaluations uploaded (ticked
per employee, or every one in the file just downloaded). The push log stays below.

Each form is checked here first and then by the reviews API; every refusal is shown beside its field
and nothing is saved."""

from __future__ import annotations

import hashlib

from flask import Response, flash, redirect, request, session, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import all_cycles, bp, period_name, selection
from .web import R, page, t

KINDS = ("annual", "periodic")
FORMATS = ("json", "csv")
STATES = ("not_sent", "sent", "failed", "uploaded")
FILE_KEY = "siasn_file"  # the last file downloaded: {cycle_id, kind, sha256, count, filename}
NOTE_MAX = 500


def _choice(name: str, allowed) -> str | None:
    value = request.values.get(name)
    return value if value in allowed else None


def _page(c, cycles_, *, errors=None, values=None, unmapped=None, status=200):
    """The page: the cycle's state per evaluation (filtered, one page), the push or the file, the log."""
    errors = errors or {}
    kind, state = _choice("kind_filter", KINDS), _choice("state", STATES)
    data = {"items": [], "next_cursor": None, "counts": dict.fromkeys(STATES, 0), "configured": False}
    log = {"items": [], "next_cursor": None}
    shown = _choice("status", ("sent", "failed", "uploaded"))
    if c is not None:
        data = api().get(
            f"{R}/siasn/status",
            cycle_id=c["id"],
            kind=kind,
            state=state,
            limit=100,
            cursor=request.args.get("cursor"),
        )
        log = api().get(
            f"{R}/siasn/pushes", cycle_id=c["id"], status=shown, limit=50, cursor=request.args.get("log_cursor")
        )
    downloaded = session.get(FILE_KEY)
    if not (isinstance(downloaded, dict) and c is not None and downloaded.get("cycle_id") == c["id"]):
        downloaded = None
    return page(
        "portal/siasn/index.html",
        status,
        cycles=list(reversed(cycles_)),
        c=c,
        data=data,
        log=log,
        shown=shown,
        kind_filter=kind,
        state=state,
        period_name=period_name,
        errors=errors,
        values=values or {},
        unmapped=unmapped,
        downloaded=downloaded,
        kinds=[(k, t(f"notif.siasn.kind.{k}")) for k in KINDS],
        states=[(s, t(f"siasn.state.{s}")) for s in STATES],
        note_max=NOTE_MAX,
    )


@bp.route("/siasn", methods=["GET", "POST"])
@login_required("hr")
def siasn():
    cycles_ = all_cycles()
    c, _ = selection(cycles_)
    errors: dict[str, str] = {}
    kind = (request.form.get("kind") or "").strip()
    if request.method == "POST" and c is not None:
        if kind not in KINDS:
            errors["kind"] = t("notif.siasn.choose_kind")
        else:
            try:
                out = api().post(f"{R}/siasn/push", {"cycle_id": c["id"], "kind": kind}, retry=False)
            except ApiProblem as exc:
                if exc.status not in (409, 422, 503):
                    raise
                errors["kind"] = exc.detail or t("error.generic.body")
            else:
                flash(t("notif.siasn.pushed", sent=out["sent"], failed=out["failed"], skipped=out["skipped"]), "ok")
                return redirect(url_for("hr.siasn", cycle_id=c["id"]))
    return _page(c, cycles_, errors=errors, values={"kind": kind}, status=422 if errors else 200)


@bp.get("/siasn/unduh")
@login_required("hr")
def siasn_download():
    """The file from the reviews API, passed on as it is; remembered (its SHA-256) for "mark every
    one in the file uploaded". Evaluations without a SIASN value: the page lists them."""
    cycles_ = all_cycles()
    c, _ = selection(cycles_)
    kind, fmt = _choice("kind", KINDS), _choice("format", FORMATS) or "json"
    if c is None or kind is None:
        return redirect(url_for("hr.siasn", cycle_id=c["id"] if c else None))
    params = {"cycle_id": c["id"], "kind": kind, "format": fmt}
    if request.args.get("skip_unmapped") == "1":
        params["skip_unmapped"] = "true"
    try:
        upstream = api().request("GET", f"{R}/siasn/export", params=params)
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        lines = [e.get("detail") or "" for e in exc.errors] or [exc.detail or t("error.generic.body")]
        unmapped = {"kind": kind, "format": fmt, "detail": exc.detail, "lines": lines[:200], "more": len(lines) > 200}
        return _page(c, cycles_, unmapped=unmapped, status=422)
    content = upstream.content
    filename = upstream.headers.get("content-disposition", "").partition('filename="')[2].rstrip('"') or "siasn"
    session[FILE_KEY] = {
        "cycle_id": c["id"],
        "kind": kind,
        "sha256": hashlib.sha256(content).hexdigest(),
        "count": int(upstream.headers.get("kinerja-siasn-count") or 0),
        "filename": filename,
    }
    return Response(
        content,
        content_type=upstream.headers.get("content-type", "application/octet-stream"),
        headers={
            "Content-Disposition": upstream.headers.get("content-disposition", "attachment"),
            "Cache-Control": "private, no-store",
        },
    )


@bp.post("/siasn/terunggah")
@login_required("hr")
def siasn_uploaded():
    """Mark evaluations uploaded to SIASN by hand: the ticked ones (of the chosen kind), or every one
    in the file downloaded last for this cycle."""
    cycles_ = all_cycles()
    c, _ = selection(cycles_)
    if c is None:
        return redirect(url_for("hr.siasn"))
    f = request.form
    values = {
        "mark_kind": (f.get("mark_kind") or "").strip(),
        "note": (f.get("note") or "").strip(),
        "whole_file": f.get("whole_file") == "1",
        "evaluation_ids": [v for v in f.getlist("evaluation_ids") if v.isdigit()][:1000],
    }
    downloaded = session.get(FILE_KEY)
    errors: dict[str, str] = {}
    body: dict = {"cycle_id": c["id"], "note": values["note"] or None}
    if values["whole_file"]:
        if not (isinstance(downloaded, dict) and downloaded.get("cycle_id") == c["id"]):
            errors["whole_file"] = t("siasn.mark.no_file")
        else:
            body |= {"kind": downloaded["kind"], "sha256": downloaded["sha256"]}
            if values["evaluation_ids"]:
                errors["evaluation_ids"] = t("siasn.mark.one_way")
    else:
        if values["mark_kind"] not in KINDS:
            errors["mark_kind"] = t("notif.siasn.choose_kind")
        if not values["evaluation_ids"]:
            errors["evaluation_ids"] = t("siasn.mark.choose")
        body |= {"kind": values["mark_kind"], "evaluation_ids": [int(v) for v in values["evaluation_ids"]]}
    if len(values["note"]) > NOTE_MAX:
        errors["note"] = t("siasn.mark.note_long", max=NOTE_MAX)
    if not errors:
        try:
            out = api().post(f"{R}/siasn/uploaded", body, retry=False)
        except ApiProblem as exc:
            if exc.status != 422:
                raise
            for name, message in exc.field_errors().items():
                target = {"sha256": "whole_file", "note": "note", "kind": "mark_kind"}.get(name)
                target = target or ("evaluation_ids" if name.startswith("evaluation_ids") else "_")
                errors[target] = f"{errors[target]} {message}" if target in errors else message
        else:
            if values["whole_file"]:
                session.pop(FILE_KEY, None)
            flash(t("siasn.mark.done", n=out["uploaded"]), "ok")
            return redirect(url_for("hr.siasn", cycle_id=c["id"]))
    return _page(c, cycles_, errors=errors, values=values, status=422)
