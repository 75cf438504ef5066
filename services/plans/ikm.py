"""What plans consumes: the public satisfaction index (IKM) that surveys computes for a service
unit becomes the realisation of every IKI mapped to that unit (``surveys.ikm.computed``, wired
in ``events.py``)."""

from __future__ import annotations

import logging
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.auth import Principal

from . import domain
from .cycles import cycle_state
from .models import Cycle, Iki, Period, Plan, Realisation, Rhk
from .progress import record_realisation

log = logging.getLogger("kinerja.plans.surveys")

SURVEYS_ACTOR = Principal(sub="system:surveys", roles=frozenset({"admin"}))


def record_ikm(s: Session, envelope: dict) -> list[Realisation]:
    """``surveys.ikm.computed``: record the unit's IKM (``ikm_unit``, 25–100) as the realisation of
    every IKI mapped to that unit's satisfaction (``Iki.satisfaction_unit_code``) in the agency's
    approved SKPs, for the period containing the campaign's end date. SKPs whose cycle stage does
    not take realisations, and IKI whose realisation already holds this value from the survey,
    are left alone (so a re-published index changes nothing)."""
    data = envelope.get("data") or {}
    value, unit_code, agency = data.get("ikm_unit"), data.get("unit_code"), data.get("agency_code")
    try:
        end = date.fromisoformat(str(data.get("period_end")))
    except ValueError:
        end = None
    if value is None or not unit_code or not agency or end is None:
        log.warning("surveys.ikm.computed %s without ikm_unit, unit, agency or period_end: ignored", envelope.get("id"))
        return []
    rows = s.execute(
        select(Iki.id, Plan.id, Period.seq, Period.id)
        .join(Rhk, Iki.rhk_id == Rhk.id)
        .join(Plan, Rhk.plan_id == Plan.id)
        .join(Period, Period.cycle_id == Plan.cycle_id)
        .where(
            Iki.satisfaction_unit_code == unit_code,
            Plan.agency_code == agency,
            Plan.status.in_(("approved", "revised")),
            Period.start <= end,
            Period.end >= end,
        )
        .order_by(Plan.id, Iki.id)
    ).all()
    note = (
        f"IKM {unit_code} · {data.get('service_type') or ''} · {data.get('period_start')}–{data.get('period_end')}: "
        f"{data.get('respondents')} responden, mutu {data.get('mutu')} ({data.get('kinerja')})"
    )
    recorded: list[Realisation] = []
    for iki_id, plan_id, seq, period_id in rows:
        plan = s.get(Plan, plan_id)
        if not domain.allowed(cycle_state(s.get(Cycle, plan.cycle_id)), "realisation.record"):
            log.info("surveys.ikm.computed: plan %s's cycle takes no realisations now; IKI %s skipped", plan_id, iki_id)
            continue
        current = s.scalar(select(Realisation).where(Realisation.iki_id == iki_id, Realisation.period_id == period_id))
        if current is not None and current.source == "surveys.ikm" and current.value == value:
            continue
        recorded.append(
            record_realisation(
                s,
                SURVEYS_ACTOR,
                plan,
                {"iki_id": iki_id, "period_seq": seq, "value": value, "text": None, "note": note[:4000], "links": []},
                source="surveys.ikm",
            )
        )
    return recorded
