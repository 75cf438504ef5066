"""The read model: people, units, cycles, approved SKPs, realisations and feedback copied from the
plans service's events (registered in ``events.CONSUMES``) and rebuilt from its API on request;
and what a stage change makes of it here: one evaluation per approved SKP and period."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime
from types import SimpleNamespace

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from services.common.auth import require_roles
from services.common.http import remote_fetcher, walk_pages
from services.common.readmodel import complete_reply, source_url, upsert_if_newer
from services.common.usecase import now, platform, settings

from .access import ANNUAL, PREFIX, ev_ref, uow
from .models import ActingRef, CycleRef, Evaluation, FeedbackRef, GrantRef, Person, PlanRef, RealisationRef, UnitRef

blp = Blueprint(
    "readmodel", __name__, url_prefix=PREFIX, description="The read model of the plans service's data, and its rebuild"
)


def rm_unit(s: Session, d: dict, as_of: datetime | None = None) -> None:
    values = {"agency_code": d["agency_code"], "code": d["code"], "name": d["name"]}
    values |= {"parent_code": d.get("parent_code"), "head_nip": d.get("head_nip")}
    upsert_if_newer(s, UnitRef, {"id": d["id"]}, as_of, values)


PERSON_FIELDS = (
    "agency_code",
    "name",
    "position",
    "grade",
    "unit_code",
    "unit_name",
    "superior_nip",
    "active",
    "language",
)


PERSON_REQUIRED = ("agency_code", "name", "position", "unit_code", "unit_name")  # NOT NULL columns


def rm_employee(s: Session, d: dict, as_of: datetime | None = None) -> None:
    """A person lacking a required field is a KeyError naming it (a rebuild's 502), not a NOT NULL
    violation at the flush (a 409 that blamed the caller)."""
    values = {key: d[key] if key in PERSON_REQUIRED else d.get(key) for key in PERSON_FIELDS}
    upsert_if_newer(s, Person, {"nip": d["nip"]}, as_of, values)


def rm_acting(s: Session, d: dict, as_of: datetime | None = None) -> None:
    """An acting appointment (Plt/Plh), created or ended early: who stands in for whom, and when."""
    values = {key: d[key] for key in ("agency_code", "acting_nip", "for_nip", "kind")}
    values |= {key: date.fromisoformat(str(d[key])) for key in ("start_date", "end_date")}
    upsert_if_newer(s, ActingRef, {"id": d["id"]}, as_of, values)


def rm_grant(s: Session, d: dict, as_of: datetime | None = None) -> None:
    """A grant across agencies, given or revoked: who may read which agency's results, until when."""
    values = {key: d[key] for key in ("grantor_agency", "client_id", "client_agency", "scope")}
    values["expires_on"] = date.fromisoformat(str(d["expires_on"]))
    revoked = d.get("revoked_at")
    values["revoked_at"] = datetime.fromisoformat(str(revoked)) if revoked else None
    upsert_if_newer(s, GrantRef, {"id": d["id"]}, as_of, values)


def _cycle(s: Session, cycle_id: int, *, share: bool = False) -> CycleRef | None:
    """The cycle's row, locked until the transaction ends and read afresh. A stage change locks it
    FOR UPDATE, a late-approved plan FOR SHARE: with several workers (replicas, or consumers of one
    queue) the two cannot pass each other unseen. Unlocked, a plan approved while the cycle moved
    to monitoring was opened by neither: the stage change did not see the plan yet, the plan saw
    the old stage (write skew), and the employee had no evaluation for the period."""
    query = select(CycleRef).where(CycleRef.id == cycle_id).with_for_update(read=share)
    return s.execute(query.execution_options(populate_existing=True)).scalar_one_or_none()


def rm_cycle_opened(s: Session, d: dict) -> None:
    c = _cycle(s, d["cycle_id"]) or CycleRef(id=d["cycle_id"], stage=d["stage"])
    c.agency_code, c.year, c.name, c.period_type = d["agency_code"], d["year"], d["name"], d["period_type"]
    c.periods = [{k: str(v) if isinstance(v, date) else v for k, v in pr.items()} for pr in d["periods"]]
    s.add(c)


_STAGE_ORDER = (
    "draft",
    "planning",
    "monitoring",
    "annual_evaluation",
    "calibration",
    "sign_off",
    "objections",
    "closed",
)
_PHASE_ORDER = ("check_in", "self_assessment", "supervisor_evaluation")


def _position(stage: str, seq: int | None, phase: str | None) -> tuple:
    return (_STAGE_ORDER.index(stage), seq or 0, _PHASE_ORDER.index(phase) if phase in _PHASE_ORDER else -1)


def rm_stage_changed(s: Session, d: dict) -> None:
    c = _cycle(s, d["cycle_id"])
    if c is None:  # stage change before cycle.opened (a retry reordered them): keep what it tells
        c = CycleRef(
            id=d["cycle_id"],
            agency_code=d["agency_code"],
            year=d["year"],
            name=f"Periode {d['year']}",
            period_type="quarterly",
            stage="draft",
            periods=[],
        )
        s.add(c)
    if _position(d["stage"], d.get("period_seq"), d.get("phase")) <= _position(c.stage, c.period_seq, c.phase):
        return  # the cycle only moves forward: an older stage change arriving late changes nothing
    c.stage, c.period_seq, c.phase = d["stage"], d.get("period_seq"), d.get("phase")
    s.flush()
    if c.stage == "monitoring" and c.phase == "check_in":
        open_evaluations(s, c, c.period_seq)
    elif c.stage == "annual_evaluation":
        open_evaluations(s, c, ANNUAL)


def rm_plan_approved(s: Session, d: dict) -> None:
    c = _cycle(s, d["cycle_id"], share=True)  # first: a stage change waits for this plan, or it for it
    plan = s.get(PlanRef, d["plan_id"])
    if plan is not None and plan.revision > d["revision"]:
        return  # an older version arriving late
    plan = plan or PlanRef(id=d["plan_id"])
    plan.cycle_id, plan.agency_code, plan.employee_nip = d["cycle_id"], d["agency_code"], d["employee_nip"]
    plan.penilai_nip, plan.unit_code, plan.revision, plan.status = (
        d.get("penilai_nip"),
        d["unit_code"],
        d["revision"],
        "approved",
    )
    plan.is_head_of_unit = d.get("is_head_of_unit", False)
    plan.content = {"approach": d["approach"], "rhk": d["rhk"], "behaviour": d["behaviour"]}
    s.add(plan)
    s.flush()
    if c is not None and c.stage == "monitoring" and c.period_seq:
        open_evaluations(s, c, c.period_seq, only_plan=plan.id)  # approved late: still evaluated this period
    elif c is not None and c.stage == "annual_evaluation":
        open_evaluations(s, c, ANNUAL, only_plan=plan.id)


def rm_plan_revised(s: Session, d: dict) -> None:
    plan = s.get(PlanRef, d["plan_id"])
    if plan is not None:
        plan.status = "revised"  # the last approved content stays the basis until the revision is approved


def rm_realisation(s: Session, d: dict, as_of: datetime | None = None) -> None:
    """A realisation recorded or corrected: an older version arriving late (a retry, another worker)
    changes nothing."""
    values = {key: d[key] for key in ("plan_id", "iki_id", "period_seq", "evidence_count", "source")}
    values |= {"value": d.get("value"), "text": d.get("text")}
    upsert_if_newer(s, RealisationRef, {"id": d["realisation_id"]}, as_of, values)


def rm_feedback(s: Session, d: dict, as_of: datetime | None = None) -> None:
    """Continuous feedback or a coaching record (``kind``), with when it was given: the event's time,
    or the plans API's ``created_at`` in a rebuild. The evaluation document lists them."""
    f = s.get(FeedbackRef, d["feedback_id"]) or FeedbackRef(id=d["feedback_id"])
    f.plan_id, f.giver_nip, f.rhk_id, f.value_code = d["plan_id"], d["giver_nip"], d.get("rhk_id"), d.get("value_code")
    f.period_seq, f.text, f.kind = d.get("period_seq"), d["text"], d.get("kind") or "feedback"
    given = d.get("created_at")
    f.given_at = f.given_at or (datetime.fromisoformat(given) if isinstance(given, str) else as_of)
    s.add(f)


def rebuild_read_model(s: Session, fetch) -> dict:
    """Replay the read model from the plans API. ``fetch(path) -> json`` calls plans with a
    token that sees the agency (HR or agency role)."""

    def pages(path):
        return walk_pages(fetch, path)

    snapshot = now()  # the API's answer is newer than any event sent before it
    counts = Counter()
    for u in pages("/plans/api/v1/units"):
        rm_unit(s, u, snapshot)
        counts["units"] += 1
    for e in pages("/plans/api/v1/employees"):
        rm_employee(s, e, snapshot)
        counts["people"] += 1
    for a in pages("/plans/api/v1/acting"):
        rm_acting(s, a, snapshot)
        counts["acting"] += 1
    for gr in pages("/plans/api/v1/grants"):  # those the agency gave (HR's token)
        rm_grant(s, gr, snapshot)
        counts["grants"] += 1
    for c in pages("/plans/api/v1/cycles"):
        rm_cycle_opened(s, {**c, "cycle_id": c["id"]})
        ref = s.get(CycleRef, c["id"])
        ref.stage, ref.period_seq, ref.phase = c["stage"], c.get("period_seq"), c.get("phase")
        counts["cycles"] += 1
        for summary in pages(f"/plans/api/v1/plans?cycle_id={c['id']}"):
            if summary["revision"] < 1:
                continue
            version = fetch(f"/plans/api/v1/plans/{summary['id']}/versions/{summary['revision']}")
            snap = version["snapshot"]
            plan = fetch(f"/plans/api/v1/plans/{summary['id']}")
            unit = s.scalar(select(UnitRef).where(UnitRef.id == plan["unit_id"]))
            existing = s.get(PlanRef, summary["id"]) or PlanRef(id=summary["id"])
            existing.cycle_id, existing.agency_code, existing.employee_nip = (
                c["id"],
                c["agency_code"],
                plan["employee_nip"],
            )
            existing.penilai_nip, existing.unit_code = plan["penilai_nip"], unit.code if unit else ""
            existing.revision, existing.status = summary["revision"], plan["status"]
            existing.is_head_of_unit = plan["is_head_of_unit"]
            existing.content = {"approach": snap["approach"], "rhk": snap["rhk"], "behaviour": snap["behaviour"]}
            s.add(existing)
            counts["plans"] += 1
            for r in fetch(f"/plans/api/v1/plans/{summary['id']}/realisations"):
                rm_realisation(
                    s,
                    {
                        "realisation_id": r["id"],
                        "plan_id": r["plan_id"],
                        "iki_id": r["iki_id"],
                        "period_seq": r["period_seq"],
                        "value": r["value"],
                        "text": r["text"],
                        "evidence_count": len(r["evidence"]),
                        "source": r["source"],
                    },
                    snapshot,
                )
                counts["realisations"] += 1
            for f in fetch(f"/plans/api/v1/plans/{summary['id']}/feedback"):
                rm_feedback(s, {**f, "feedback_id": f["id"]})
                counts["feedback"] += 1
    return dict(counts)


# ------------------------------------------------------------------ opening evaluations


def period_name(c: CycleRef, seq: int) -> str:
    if seq == ANNUAL:
        return f"Tahunan {c.year}"
    for pr in c.periods or []:
        if pr["seq"] == seq:
            return pr["name_id"]
    return f"Periode {seq}"


_OPEN_CHUNK = 2000
"""Evaluations opened per statement: a stage change of a 100,000-person agency opens them, and
writes their events, 2,000 at a time instead of one flush and one outbox insert each."""


def open_evaluations(s: Session, c: CycleRef, seq: int, only_plan: int | None = None) -> int:
    """One evaluation per approved SKP for the period (idempotent), snapshotting the parties.

    The evaluations are made in the database: ``INSERT … SELECT`` from the plans joined with the
    SKP's employee, penilai (the employee's superior) and atasan (the penilai's superior), a range
    of plan ids at a time, skipping any the unique index already holds (``ON CONFLICT DO NOTHING``:
    a ``NOT EXISTS`` on an evaluations table the planner took for empty rescanned it for every
    plan), ``RETURNING`` what the chunk's ``reviews.evaluation.opened`` events name, which are then
    written with one executemany. Loading every ``Person`` of the agency for each
    stage change took the reviews worker from 138 to 249 MB at 100,000 people, and one flush per
    evaluation made a stage change two round trips per person (bench/reviews_open.py)."""
    emp, pen, ata = aliased(Person), aliased(Person), aliased(Person)
    emp_on, pen_on, ata_on = emp.nip == PlanRef.employee_nip, pen.nip == emp.superior_nip, ata.nip == pen.superior_nip
    if only_plan is None:  # the agency's people (a late-approved plan looks its three people up by NIP alone)
        emp_on, pen_on, ata_on = (
            on & (p.agency_code == c.agency_code) for on, p in ((emp_on, emp), (pen_on, pen), (ata_on, ata))
        )
    kind, name, at = ("annual" if seq == ANNUAL else "periodic"), period_name(c, seq), now()
    table = Evaluation.__table__
    values = {
        "cycle_id": literal(c.id),
        "agency_code": literal(c.agency_code),
        "kind": literal(kind),
        "period_seq": literal(seq),
        "period_name": literal(name),
        "plan_id": PlanRef.id,
        "plan_revision": PlanRef.revision,
        "is_head_of_unit": PlanRef.is_head_of_unit,
        "employee_nip": emp.nip,
        "employee_name": emp.name,
        "position": emp.position,
        "grade": emp.grade,
        "unit_code": emp.unit_code,
        "unit_name": emp.unit_name,
        "penilai_nip": pen.nip,
        "penilai_name": pen.name,
        "penilai_position": pen.position,
        "penilai_grade": pen.grade,
        "penilai_unit_name": pen.unit_name,
        "atasan_nip": ata.nip,
        "atasan_name": ata.name,
        "status": literal("open"),
        "version": literal(1),  # the mapper's version counter starts at 1
        "created_at": literal(at, table.c.created_at.type),
        "updated_at": literal(at, table.c.updated_at.type),
    }
    plans = (
        select(*values.values())
        .join(emp, emp_on)
        .outerjoin(pen, pen_on)
        .outerjoin(ata, ata_on)
        .where(PlanRef.cycle_id == c.id, emp.active.is_(True))
    )
    ids = select(PlanRef.id).where(PlanRef.cycle_id == c.id).order_by(PlanRef.id)
    if only_plan is not None:
        plans, ids = plans.where(PlanRef.id == only_plan), ids.where(PlanRef.id == only_plan)
    ids = s.scalars(ids).all()
    named = (table.c.id, table.c.employee_nip, table.c.penilai_nip, table.c.atasan_nip, table.c.unit_code)
    dialect_insert = pg_insert if s.get_bind().dialect.name == "postgresql" else sqlite_insert
    opened = 0
    for i in range(0, len(ids), _OPEN_CHUNK):
        chunk = plans.where(PlanRef.id.between(ids[i], ids[min(i + _OPEN_CHUNK, len(ids)) - 1]))
        # an evaluation already there (a stage change delivered twice) is kept: the unique index decides
        stmt = dialect_insert(table).from_select(list(values), chunk, include_defaults=True)
        stmt = stmt.on_conflict_do_nothing(index_elements=["plan_id", "kind", "period_seq"]).returning(*named)
        events = []
        for ev_id, employee, penilai, atasan, unit in sorted(s.execute(stmt).all()):  # in the order they were made
            ref = {"id": ev_id, "cycle_id": c.id, "agency_code": c.agency_code, "kind": kind, "period_seq": seq}
            ref |= {"period_name": name, "employee_nip": employee, "penilai_nip": penilai, "atasan_nip": atasan}
            ref |= {"unit_code": unit, "status": "open", "predikat": None}
            events.append(("reviews.evaluation.opened", str(ev_id), ev_ref(SimpleNamespace(**ref))))
        platform().emit_many(s, events)
        opened += len(events)
    return opened


def plans_base_url() -> str:
    """Where the rebuild reads the plans API (``services.common.readmodel.source_url``)."""
    return source_url(settings().plans_url, "PLANS_URL", "readmodel.plans_url_missing")


# ------------------------------------------------------------------ HTTP


class RebuildOut(Schema):
    counts = fields.Dict()


@blp.route("/read-model/rebuild")
class Rebuild(MethodView):
    @blp.response(200, RebuildOut)
    def post(self):
        """Rebuild the read model of people, units, acting officials, cycles and approved SKPs from the plans API,
        with the caller's token (HR of the agency)."""
        require_roles("hr")
        fetch = remote_fetcher(
            plans_base_url(), request.headers.get("Authorization", ""), "readmodel.plans_unreachable"
        )

        with uow() as s, complete_reply(fetch):  # a reply lacking a field: 502, nothing changed
            return {"counts": rebuild_read_model(s, fetch)}
