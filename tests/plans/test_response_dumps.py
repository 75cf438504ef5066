"""The plans API's response schemas built on ``ObjectSchema`` (its SKP, list row, daily log and
realisation) dump the seeded ORM rows exactly as plain marshmallow does."""

from __future__ import annotations

from marshmallow import Schema
from sqlalchemy import select

from services.plans.dailylogs import DailyLogOut
from services.plans.models import DailyLog, Plan, Realisation
from services.plans.progress import RealisationOut
from services.plans.schemas import PlanOut
from services.plans.skp import PlanSummary


def plain(schema: Schema, obj, many: bool = False):
    return Schema._serialize(schema, obj, many=many)


def test_the_hot_response_schemas_dump_their_rows_as_marshmallow_does(org, team):
    """The plans API's SKP, list row, daily log and realisation schemas on the seeded rows."""
    hp, ka, sa = team
    r = org.post("/daily-logs", org.as_(sa["employee_nip"]), {"date": "2026-01-05", "activity": "Rapat", "minutes": 30})
    assert r.status_code == 201
    iki_id = sa["rhk"][0]["iki"][0]["id"]
    body = {"iki_id": iki_id, "period_seq": 1, "value": 3, "links": ["https://example.org/a"]}
    assert org.post(f"/plans/{sa['id']}/realisations", org.as_(sa["employee_nip"]), body).status_code == 201
    with org.app.app_context():
        with org.app.extensions["kinerja"].uow() as s:
            plans = list(s.scalars(select(Plan)))
            for schema in (PlanOut(), PlanSummary()):
                assert [schema.dump(p) for p in plans] == [plain(schema, p) for p in plans]
            logs = list(s.scalars(select(DailyLog)))
            assert logs and DailyLogOut().dump(logs, many=True) == plain(DailyLogOut(), logs, many=True)
            rows = list(s.scalars(select(Realisation)))
            for row in rows:
                row.period_seq = 1
            assert rows and RealisationOut().dump(rows, many=True) == plain(RealisationOut(), rows, many=True)
