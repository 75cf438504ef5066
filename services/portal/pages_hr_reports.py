"""HR reports: the reports page of the running cycle, rater consistency per penilai, the
follow-ups planned at countersigning (development and recognition), and each service's audit log."""

from __future__ import annotations

import json

from flask import request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import all_cycles, bp, default_cycle, period_choices, selection, state_text, to_int
from .web import P, R, S, page

AUDIT_SOURCES = {"plans": P, "reviews": R, "surveys": S}
FOLLOWUP_STATUSES = ("planned", "in_progress", "completed", "cancelled")


@bp.get("/laporan")
@login_required("hr")
def more():
    cycles_ = all_cycles()
    c = default_cycle(cycles_)
    return page("portal/hr/more.html", c=c, state_text=state_text)


@bp.get("/konsistensi")
@login_required("hr")
def consistency():
    cycles_ = all_cycles()
    c, _ = selection(cycles_)
    raw_seq = request.args.get("period_seq", "")
    seq = to_int(raw_seq) if raw_seq != "" else None
    data = {"raters": []}
    if c is not None:
        try:
            data = api().get(f"{R}/rater-consistency", cycle_id=c["id"], period_seq=seq)
        except ApiProblem as exc:
            if not (exc.status == 404 and exc.code.startswith("cycle")):
                raise
    seqs = period_choices(c)
    return page(
        "portal/hr/consistency.html",
        cycles=list(reversed(cycles_)),
        c=c,
        seq=seq,
        seqs=seqs,
        raters=data.get("raters", []),
    )


@bp.get("/tindak-lanjut")
@login_required("hr")
def followups():
    cycles_ = all_cycles()
    c, _ = selection(cycles_)
    kind = request.args.get("kind") if request.args.get("kind") in ("development", "recognition") else None
    status = request.args.get("status") if request.args.get("status") in FOLLOWUP_STATUSES else None
    data = {"items": [], "next_cursor": None}
    if c is not None:
        data = api().get(
            f"{R}/followups", cycle_id=c["id"], kind=kind, status=status, limit=50, cursor=request.args.get("cursor")
        )
    names = {e["nip"]: e["name"] for e in api().all(f"{P}/employees")}
    return page(
        "portal/hr/followups.html",
        cycles=list(reversed(cycles_)),
        c=c,
        kind=kind,
        status=status,
        statuses=FOLLOWUP_STATUSES,
        items=data["items"],
        next_cursor=data.get("next_cursor"),
        names=names,
    )


@bp.get("/audit")
@login_required("hr")
def audit():
    source = request.args.get("source") if request.args.get("source") in AUDIT_SOURCES else "plans"
    filters = {k: (request.args.get(k) or "").strip() or None for k in ("entity_type", "entity_id")}
    limit = min(max(to_int(request.args.get("limit"), 50), 1), 200)
    data = api().get(f"{AUDIT_SOURCES[source]}/audit", limit=limit, cursor=request.args.get("cursor"), **filters)
    items = [
        row | {"before_text": _compact(row.get("before")), "after_text": _compact(row.get("after"))}
        for row in data.get("items", [])
    ]
    nxt = None
    if data.get("next_cursor"):
        nxt = url_for(
            "hr.audit",
            source=source,
            cursor=data["next_cursor"],
            limit=limit if limit != 50 else None,
            **{k: v for k, v in filters.items() if v},
        )
    chain = data.get("chain") or {"ok": True}  # the service's own check of its hash chain and anchors
    return page(
        "portal/hr/audit.html",
        items=items,
        source=source,
        sources=list(AUDIT_SOURCES),
        filters=filters,
        next_url=nxt,
        chain=chain,
    )


def _compact(value) -> str:
    if value in (None, {}, []):
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_compact(v) if isinstance(v, (dict, list)) else v}" for k, v in value.items())
    return json.dumps(value, ensure_ascii=False, default=str)
