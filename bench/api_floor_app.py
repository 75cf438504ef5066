"""The floor of ``bench/api_load.py``: a bare Flask + SQLAlchemy app answering the six requests of the
api benchmark's mix with the same queries against the same PostgreSQL tables (the databases the
Kinerja topology seeded), and nothing else: no authentication (the caller's NIP comes in the
``X-Bench-Nip`` header the load script sends to both), no validation, no audit chain, no outbox,
no access checks, no marshmallow; rows go out as JSON as the driver returns them.

    FLOOR_PLANS_DATABASE_URL=postgresql+psycopg://…/kinerja_bench_api_plans \\
    FLOOR_REVIEWS_DATABASE_URL=postgresql+psycopg://…/kinerja_bench_api_reviews \\
    gunicorn -c python:kinerja.gunicorn_conf 'bench.api_floor_app:create_app()'

The engines are made by Kinerja's own ``make_engine`` (pool 5 + 10 overflow, a connection the server
closed dropped at checkout) and connect on first use, after gunicorn has forked its workers."""

from __future__ import annotations

import json
import os
from datetime import date, datetime, timezone

from flask import Flask, Response, request
from sqlalchemy import text

from services.common.db import make_engine

P = "/plans/api/v1"
R = "/reviews/api/v1"
PAGE = 50


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status=status, mimetype="application/json")


def _rows(result) -> list[dict]:
    return [dict(r._mapping) for r in result]


def _page(rows: list[dict], limit: int) -> dict:
    more = len(rows) > limit
    items = rows[:limit]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if more and items else None}


def create_app() -> Flask:
    app = Flask(__name__)
    plans = make_engine(os.environ["FLOOR_PLANS_DATABASE_URL"])
    reviews = make_engine(os.environ["FLOOR_REVIEWS_DATABASE_URL"])

    def nip() -> str:
        return request.headers.get("X-Bench-Nip", "")

    def limit() -> int:
        return min(int(request.args.get("limit", PAGE)), 200)

    @app.get(f"{P}/plans/<int:plan_id>")
    def plan_get(plan_id: int):
        with plans.connect() as conn:
            plan = conn.execute(text("SELECT * FROM plans WHERE id = :id"), {"id": plan_id}).first()
            if plan is None:
                return _json({"status": 404}, 404)
            out = dict(plan._mapping)
            rhk = _rows(conn.execute(text("SELECT * FROM rhk WHERE plan_id = :id ORDER BY position"), {"id": plan_id}))
            iki = _rows(
                conn.execute(
                    text("SELECT * FROM iki WHERE rhk_id = ANY(:ids) ORDER BY position"),
                    {"ids": [r["id"] for r in rhk]},
                )
            )
            for r in rhk:
                r["iki"] = [i for i in iki if i["rhk_id"] == r["id"]]
            out["rhk"] = rhk
        return _json(out)

    @app.get(f"{P}/plans")
    def team_plans():
        sql = "SELECT * FROM plans WHERE cycle_id = :cycle AND penilai_nip = :nip AND id > :after ORDER BY id LIMIT :n"
        args = {"cycle": int(request.args["cycle_id"]), "nip": request.args.get("penilai_nip", nip())}
        with plans.connect() as conn:
            rows = _rows(
                conn.execute(text(sql), {**args, "after": int(request.args.get("cursor", 0)), "n": limit() + 1})
            )
        return _json(_page(rows, limit()))

    @app.get(f"{P}/daily-logs")
    def team_logs():
        sql = (
            "SELECT * FROM daily_logs WHERE employee_nip IN (SELECT nip FROM employees WHERE superior_nip = :nip) "
            "AND id > :after ORDER BY id LIMIT :n"
        )
        with plans.connect() as conn:
            rows = _rows(
                conn.execute(text(sql), {"nip": nip(), "after": int(request.args.get("cursor", 0)), "n": limit() + 1})
            )
        return _json(_page(rows, limit()))

    @app.post(f"{P}/daily-logs")
    def log_post():
        body = request.get_json()
        day = date.fromisoformat(body["date"])
        with plans.begin() as conn:
            emp = conn.execute(
                text("SELECT nip, agency_code, superior_nip FROM employees WHERE nip = :nip"), {"nip": nip()}
            ).first()
            cycle = conn.execute(
                text(
                    "SELECT id FROM cycles WHERE agency_code = :a AND year = :y AND stage <> 'closed' "
                    "ORDER BY id DESC LIMIT 1"
                ),
                {"a": emp.agency_code, "y": day.year},
            ).scalar()
            plan_id = conn.execute(
                text("SELECT id FROM plans WHERE cycle_id = :c AND employee_nip = :nip"), {"c": cycle, "nip": emp.nip}
            ).scalar()
            row = conn.execute(
                text(
                    "INSERT INTO daily_logs (agency_code, employee_nip, superior_nip, plan_id, iki_id, date, activity, "
                    "minutes, created_at) VALUES (:a, :nip, :sup, :plan, :iki, :date, :activity, :minutes, :at) "
                    "RETURNING *"
                ),
                {
                    "a": emp.agency_code,
                    "nip": emp.nip,
                    "sup": emp.superior_nip,
                    "plan": plan_id,
                    "iki": body.get("iki_id"),
                    "date": day,
                    "activity": body["activity"],
                    "minutes": body["minutes"],
                    "at": datetime.now(timezone.utc),
                },
            ).first()
        return _json(dict(row._mapping), 201)

    @app.post(f"{P}/plans/<int:plan_id>/realisations")
    def realisation_post(plan_id: int):
        body = request.get_json()
        with plans.begin() as conn:
            period = conn.execute(
                text(
                    "SELECT pr.id FROM periods pr JOIN plans p ON p.cycle_id = pr.cycle_id "
                    "WHERE p.id = :id AND pr.seq = :s"
                ),
                {"id": plan_id, "s": body["period_seq"]},
            ).scalar()
            row = conn.execute(
                text(
                    "INSERT INTO realisations (plan_id, iki_id, period_id, value, text, note, links, source, "
                    "recorded_by, recorded_at, version) VALUES (:plan, :iki, :period, :value, NULL, NULL, '[]', "
                    "'employee', :by, :at, 1) ON CONFLICT (iki_id, period_id) DO UPDATE SET value = EXCLUDED.value, "
                    "recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at, "
                    "version = realisations.version + 1 RETURNING *"
                ),
                {
                    "plan": plan_id,
                    "iki": body["iki_id"],
                    "period": period,
                    "value": body.get("value"),
                    "by": nip(),
                    "at": datetime.now(timezone.utc),
                },
            ).first()
        return _json(dict(row._mapping), 201)

    @app.get(f"{R}/evaluations/<int:evaluation_id>")
    def evaluation_get(evaluation_id: int):
        with reviews.connect() as conn:
            row = conn.execute(text("SELECT * FROM evaluations WHERE id = :id"), {"id": evaluation_id}).first()
        if row is None:
            return _json({"status": 404}, 404)
        return _json(dict(row._mapping))

    return app
