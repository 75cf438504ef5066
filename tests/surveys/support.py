"""Helpers of the surveys tests: the API paths, questionnaire builders, a survey client acting as
HR / kiosk / the public, and row counts to prove that a refused request saved nothing."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.common.auth import issue_token
from services.surveys.domain import UNSUR
from services.surveys.models import Base, platform_tables

API = "/surveys/api/v1"
JAKARTA = ZoneInfo("Asia/Jakarta")
# a Tuesday morning in the first quarter; campaigns below run through Q1 2026
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=JAKARTA).astimezone(timezone.utc)
Q1 = {"start_date": "2026-01-01", "end_date": "2026-03-31"}


# the directory's units surveys knows (its read model of plans.unit.upserted): a campaign names one of them
UNITS = {"PKTD": [("PKM-01", "Puskesmas Teluk Damar"), ("DISDUK", "Dinas Kependudukan dan Pencatatan Sipil")]}


def seed_units(app, units: dict[str, list[tuple[str, str]]] | None = None) -> None:
    """Feed the surveys read model the units of each agency, as ``plans.unit.upserted`` would."""
    from services.surveys.directory import rm_unit

    n = 9000
    with app.extensions["kinerja"].session_factory() as s, s.begin():
        for agency, pairs in (UNITS if units is None else units).items():
            for code, name in pairs:
                n += 1
                rm_unit(s, {"id": n, "agency_code": agency, "code": code, "name": name})


def answers(value: int = 4, **overrides) -> dict:
    """All nine unsur answered ``value``; ``U4=1`` style overrides."""
    a = {u: value for u in UNSUR}
    a.update(overrides)
    return a


def questionnaire(value: int = 4, profile: dict | None = None, suggestion: str | None = None, **extra) -> dict:
    body = {"answers": answers(value), "profile": profile or {}}
    if suggestion is not None:
        body["suggestion"] = suggestion
    body.update(extra)
    return body


def campaign_body(**overrides) -> dict:
    body = {
        "unit_code": "PKM-01",
        "unit_name": "Puskesmas Teluk Damar",
        "service_type": "Pelayanan rawat jalan",
        **Q1,
        "population": 1000,
        # tokens are on by default (the index feeds results); most tests use the form open to anyone
        "open_form": True,
        "open_form_reason": "Loket tanpa struk: formulir terbuka untuk semua pengunjung",
    }
    body.update(overrides)
    return body


def csrf_of(html: bytes | str) -> str:
    text = html.decode() if isinstance(html, bytes) else html
    m = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert m, "no CSRF token in the form"
    return m.group(1)


class Surveys:
    """Acts on the surveys app through its test client."""

    def __init__(self, app, client):
        self.app, self.client = app, client
        self.secret = app.extensions["kinerja"].config.jwt_secret

    def headers(self, *roles: str, agency: str | None = "PKTD", sub: str | None = None, **kw) -> dict:
        return {"Authorization": "Bearer " + issue_token(self.secret, roles=list(roles), agency=agency, sub=sub, **kw)}

    @property
    def hr(self) -> dict:
        return self.headers("hr", sub="hr@pktd")

    @property
    def kiosk(self) -> dict:
        return self.headers("agency", sub="kiosk-pkm-01", scope="surveys:responses:write")

    @property
    def other_hr(self) -> dict:
        return self.headers("hr", agency="OTHER", sub="hr@other")

    def get(self, path: str, headers: dict | None = None, **kw):
        return self.client.get(API + path, headers=headers if headers is not None else self.hr, **kw)

    def post(self, path: str, body=None, headers: dict | None = None, **kw):
        return self.client.post(API + path, json=body, headers=headers if headers is not None else self.hr, **kw)

    def patch(self, path: str, body=None, headers: dict | None = None, **kw):
        return self.client.patch(API + path, json=body, headers=headers if headers is not None else self.hr, **kw)

    def create(self, expect: int = 201, headers: dict | None = None, **overrides) -> dict:
        r = self.post("/campaigns", campaign_body(**overrides), headers)
        assert r.status_code == expect, r.get_data(as_text=True)
        return r.get_json()

    def open(self, **overrides) -> dict:
        c = self.create(**overrides)
        r = self.post(f"/campaigns/{c['id']}/open")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def record(self, campaign_id: int, body: dict, headers: dict | None = None):
        return self.post(f"/campaigns/{campaign_id}/responses", body, headers if headers is not None else self.kiosk)

    def batch(self, campaign_id: int, bodies: list, headers: dict | None = None):
        return self.post(
            f"/campaigns/{campaign_id}/responses:batch", bodies, headers if headers is not None else self.kiosk
        )

    def import_csv(self, campaign_id: int, text: str, dry_run: bool = False, headers: dict | None = None):
        q = "?dry_run=true" if dry_run else ""
        return self.client.post(
            f"{API}/campaigns/{campaign_id}/responses:import{q}",
            data=text.encode(),
            content_type="text/csv",
            headers=headers if headers is not None else self.hr,
        )

    def ikm(self, campaign_id: int) -> dict:
        r = self.get(f"/campaigns/{campaign_id}/ikm")
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def db(self):
        return self.app.extensions["kinerja"].session_factory()

    def counts(self) -> dict[str, int]:
        with self.db() as s:
            return {
                name: s.scalar(select(func.count()).select_from(t))
                for name, t in Base.metadata.tables.items()
                if name not in ("idempotency_keys", "rate_counters")
            }

    def responses(self) -> int:
        return self.counts()["responses"]

    def outbox(self, type_: str | None = None) -> list[dict]:
        t = platform_tables.outbox
        with self.db() as s:
            stmt = select(t).order_by(t.c.id)
            if type_:
                stmt = stmt.where(t.c.type == type_)
            return [dict(r) for r in s.execute(stmt).mappings()]

    # the public form
    def form(self, slug: str, lang: str | None = None, **params):
        q = "&".join([*(f"lang={lang}" for _ in [0] if lang), *(f"{k}={v}" for k, v in params.items())])
        return self.client.get(f"/surveys/s/{slug}" + (f"?{q}" if q else ""))

    def submit_form(
        self, slug: str, fields: dict, csrf: str | None = None, lang: str | None = None, environ: dict | None = None
    ):
        if csrf is None:
            page = self.form(slug, lang)
            assert page.status_code == 200, page.get_data(as_text=True)[:500]
            csrf = csrf_of(page.data)
        data = {"csrf_token": csrf, **{k: str(v) for k, v in fields.items()}}
        return self.client.post(
            f"/surveys/s/{slug}" + (f"?lang={lang}" if lang else ""), data=data, environ_base=environ or {}
        )


def form_answers(value: int = 4, **overrides) -> dict:
    return {u: v for u, v in answers(value, **overrides).items()}


def problem(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:2000])
    assert resp.mimetype == "application/problem+json", resp.mimetype
    body = resp.get_json(force=True)
    assert body["status"] == status and body["title"] and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


def field_errors(body: dict) -> dict[str, str]:
    return {e["field"]: e["code"] for e in body.get("errors", [])}


def as_date(text: str) -> date:
    return date.fromisoformat(text)
