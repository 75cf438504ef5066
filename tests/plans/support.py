"""Helpers shared by the plans API tests (and the PostgreSQL integration test): a settable
clock, token helpers, problem+json assertions, plan builders and the seeded agency.

Seeded agency PKMB (all NIPs valid: birth date + appointment at age >= 20 + sex + sequence):

    DINAS   head  (kepala dinas)             197503122000031001
    SEK-A   kasi_a -> head                   198004152005042002
            staff_a[0..2] -> kasi_a          199001012015031004, 199105052016022005, 199203032017011006
    SEK-B   kasi_b -> head                   198107202006011003
            staff_b[0..2] -> kasi_b          199306062018031007, 199407072019022008, 199508082020011009

Agency OTHER: its own HR and one employee (198808082010011010).
A quarterly 2026 cycle of PKMB, advanced to ``planning``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from services.common.auth import issue_token
from services.plans.domain import BERAKHLAK
from services.plans.models import Base, platform_tables

API = "/plans/api/v1"
JAKARTA = ZoneInfo("Asia/Jakarta")
START = datetime(2026, 1, 5, 8, 0, tzinfo=JAKARTA).astimezone(timezone.utc)

HEAD = "197503122000031001"
KASI_A = "198004152005042002"
KASI_B = "198107202006011003"
STAFF_A = ["199001012015031004", "199105052016022005", "199203032017011006"]
STAFF_B = ["199306062018031007", "199407072019022008", "199508082020011009"]
OTHER_EMP = "198808082010011010"
ALL_PKMB = [HEAD, KASI_A, KASI_B, *STAFF_A, *STAFF_B]

# employees not in the seed, for the directory tests
NEW_A = "199609092021011010"  # born 1996-09-09, appointed 2021-01 (24), male, #010
NEW_B = "199702022022032011"  # born 1997-02-02, appointed 2022-03 (25), female, #011
NEW_C = "199811112023011012"


UNITS_CSV = """code,name,parent_code
DINAS,Dinas Pekerjaan Umum,
SEK-A,Seksi Perencanaan,DINAS
SEK-B,Seksi Pelaksanaan,DINAS
"""

EMPLOYEES_CSV = (
    "\n".join(
        [
            "nip,name,email,phone,position,grade,unit_code,superior_nip,language",
            f"{HEAD},Budi Santoso,budi@pkmb.go.id,,Kepala Dinas,IV/c,DINAS,,id",
            f"{KASI_A},Siti Aminah,siti@pkmb.go.id,,Kepala Seksi Perencanaan,III/d,SEK-A,{HEAD},id",
            f"{KASI_B},Agus Salim,agus@pkmb.go.id,,Kepala Seksi Pelaksanaan,III/d,SEK-B,{HEAD},en",
            f"{STAFF_A[0]},Rina Wati,,,Analis Perencanaan,III/a,SEK-A,{KASI_A},id",
            f"{STAFF_A[1]},Dewi Lestari,,,Pengelola Data,II/c,SEK-A,{KASI_A},id",
            f"{STAFF_A[2]},Joko Widodo,,,Pengadministrasi Umum,II/b,SEK-A,{KASI_A},id",
            f"{STAFF_B[0]},Andi Pratama,,,Teknisi Jalan,III/a,SEK-B,{KASI_B},id",
            f"{STAFF_B[1]},Maya Sari,,,Pengawas Lapangan,III/b,SEK-B,{KASI_B},id",
            f"{STAFF_B[2]},Eko Saputra,,,Operator Alat Berat,II/a,SEK-B,{KASI_B},id",
        ]
    )
    + "\n"
)

BEHAVIOUR = {v: f"Ekspektasi {v.replace('_', ' ')}" for v in BERAKHLAK}


class FakeClock:
    """A settable clock returning tz-aware UTC datetimes."""

    def __init__(self, now: datetime = START):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when.astimezone(timezone.utc)

    def advance(self, **delta) -> None:
        self.now = self.now + timedelta(**delta)


def problem(resp, status: int, code: str | None = None) -> dict:
    """Assert ``resp`` is an RFC 9457 problem with ``status`` (and ``code``); return the body."""
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:2000])
    assert resp.mimetype == "application/problem+json", resp.mimetype
    body = resp.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("https://kinerja.go.id/problems/")
    assert body["title"] and body["detail"]
    if code is not None:
        assert body["code"] == code, body
    return body


def field_errors(body: dict) -> dict[str, str]:
    """``{field: code}`` of a validation problem (the last code for a field wins)."""
    return {e["field"]: e["code"] for e in body.get("errors", [])}


def new_employee(nip=NEW_A, **over) -> dict:
    return {
        "nip": nip,
        "name": "Pegawai Baru",
        "position": "Analis Kebijakan",
        "unit_code": "SEK-A",
        "superior_nip": KASI_A,
    } | over


def nips(resp) -> set[str]:
    assert resp.status_code == 200, resp.get_json()
    return {e["nip"] for e in resp.get_json()["items"]}


def iki(aspect="kuantitas", value=12.0, unit="laporan", indicator=None, **extra) -> dict:
    return {
        "aspect": aspect,
        "indicator": indicator or f"Jumlah {unit} ({aspect})",
        "target_value": value,
        "target_unit": unit,
        **extra,
    }


def rhk(description, *, parent=None, goal=None, kind="utama", ikis=None, **extra) -> dict:
    return {
        "kind": kind,
        "description": description,
        "parent_rhk_id": parent,
        "organisation_goal": goal,
        "iki": ikis if ikis is not None else [iki()],
        **extra,
    }


def content(rhks, behaviour=None, approach="kuantitatif") -> dict:
    return {"approach": approach, "rhk": rhks, "behaviour": dict(BEHAVIOUR if behaviour is None else behaviour)}


class Tokens:
    def __init__(self, secret: str):
        self.secret = secret

    def token(self, *roles: str, agency: str | None = "PKMB", nip: str | None = None, **kw) -> str:
        return issue_token(self.secret, roles=list(roles), agency=agency, nip=nip, **kw)

    def headers(self, *roles: str, agency: str | None = "PKMB", nip: str | None = None, **kw) -> dict:
        return {"Authorization": f"Bearer {self.token(*roles, agency=agency, nip=nip, **kw)}"}

    def admin(self) -> dict:
        return self.headers("admin", agency=None, sub="admin@kinerja")

    def hr(self, agency: str = "PKMB") -> dict:
        return self.headers("hr", agency=agency, sub=f"hr@{agency.lower()}")

    def employee(self, nip: str, agency: str = "PKMB") -> dict:
        return self.headers("employee", agency=agency, nip=nip)

    def supervisor(self, nip: str, agency: str = "PKMB") -> dict:
        return self.headers("employee", "supervisor", agency=agency, nip=nip)


class Org:
    """The seeded agency, with helpers to act as its people."""

    HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, OTHER_EMP = HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B, OTHER_EMP
    ALL = ALL_PKMB

    def __init__(self, app, client, tokens: Tokens, clock: FakeClock):
        self.app, self.client, self.tokens, self.clock = app, client, tokens, clock
        self.cycle_id: int | None = None

    # who
    @property
    def hr(self) -> dict:
        return self.tokens.hr("PKMB")

    @property
    def other_hr(self) -> dict:
        return self.tokens.hr("OTHER")

    @property
    def admin(self) -> dict:
        return self.tokens.admin()

    def as_(self, nip: str) -> dict:
        if nip == OTHER_EMP:
            return self.tokens.employee(nip, agency="OTHER")
        if nip in (HEAD, KASI_A, KASI_B):
            return self.tokens.supervisor(nip)
        return self.tokens.employee(nip)

    # http shortcuts
    def get(self, path: str, headers: dict, **kw):
        return self.client.get(API + path, headers=headers, **kw)

    def post(self, path: str, headers: dict, json_body=None, **kw):
        return self.client.post(API + path, headers=headers, json=json_body, **kw)

    def put(self, path: str, headers: dict, json_body=None, **kw):
        return self.client.put(API + path, headers=headers, json=json_body, **kw)

    def patch(self, path: str, headers: dict, json_body=None, **kw):
        return self.client.patch(API + path, headers=headers, json=json_body, **kw)

    def import_csv(self, kind: str, text: str, headers: dict | None = None, dry_run: bool = False):
        q = f"?kind={kind}" + ("&dry_run=true" if dry_run else "")
        return self.client.post(
            f"{API}/directory/import{q}", data=text.encode(), content_type="text/csv", headers=headers or self.hr
        )

    # cycle
    def advance(self, expected: str | None = None, cycle_id: int | None = None):
        body = {"expected": expected} if expected else {}
        return self.post(f"/cycles/{cycle_id or self.cycle_id}/advance", self.hr, body)

    def advance_to(self, label: str, cycle_id: int | None = None) -> dict:
        """Advance the cycle until its state label is ``label``."""
        cycle_id = cycle_id or self.cycle_id
        for _ in range(40):
            c = self.get(f"/cycles/{cycle_id}", self.hr).get_json()
            if c["state"] == label:
                return c
            r = self.advance(c["state"], cycle_id)
            assert r.status_code == 200, r.get_json()
        raise AssertionError(f"cycle never reached {label}")

    # plans
    def create_plan(self, nip: str, rhks, behaviour=None, approach="kuantitatif", cycle_id=None, expect=201) -> dict:
        body = content(rhks, behaviour, approach) | {"cycle_id": cycle_id or self.cycle_id}
        r = self.post("/plans", self.as_(nip), body)
        assert r.status_code == expect, r.get_data(as_text=True)
        return r.get_json()

    def plan(self, plan_id: int, nip: str | None = None) -> dict:
        r = self.get(f"/plans/{plan_id}", self.as_(nip) if nip else self.hr)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def submit(self, plan_id: int, nip: str):
        return self.post(f"/plans/{plan_id}/submit", self.as_(nip))

    def approve(self, plan_id: int, nip: str):
        return self.post(f"/plans/{plan_id}/approve", self.as_(nip))

    def approved_plan(self, nip: str, rhks, approver: str, **kw) -> dict:
        plan = self.create_plan(nip, rhks, **kw)
        r = self.submit(plan["id"], nip)
        assert r.status_code == 200, r.get_json()
        r = self.approve(plan["id"], approver)
        assert r.status_code == 200, r.get_json()
        return r.get_json()

    def head_plan(self) -> dict:
        """The head's SKP (a draft): two RHK, each an organisation goal (the head of the agency's
        own penilai sits outside the directory)."""
        return self.create_plan(
            HEAD,
            [
                rhk(
                    "Meningkatnya kualitas jalan kabupaten",
                    goal="Sasaran PK 1: jalan mantap 90%",
                    ikis=[iki("kuantitas", 90, "%"), iki("waktu", 12, "bulan")],
                ),
                rhk(
                    "Terlaksananya pembangunan jembatan",
                    goal="Sasaran PK 2: jembatan baru",
                    ikis=[iki("kuantitas", 3, "jembatan")],
                ),
            ],
        )

    def team_a(self) -> tuple[dict, dict, dict]:
        """Head's draft plan, kasi A's plan approved by the head, staff A[0]'s approved by kasi A."""
        hp = self.head_plan()
        ka = self.cascade(hp, KASI_A, approver=HEAD)
        sa = self.cascade(ka, STAFF_A[0], approver=KASI_A)
        return hp, ka, sa

    def cascade(self, parent_plan: dict, nip: str, approver: str | None = None, which: int = 0) -> dict:
        """A plan for ``nip`` whose single RHK supports ``parent_plan``'s RHK number ``which``."""
        parent_id = parent_plan["rhk"][which]["id"]
        rhks = [
            rhk(
                f"Mendukung: {parent_plan['rhk'][which]['description']} ({nip[-3:]})",
                parent=parent_id,
                ikis=[iki("kuantitas", 4, "dokumen"), iki("kualitas", 100, "%")],
            )
        ]
        if approver:
            return self.approved_plan(nip, rhks, approver)
        return self.create_plan(nip, rhks)

    def count(self, path: str, headers: dict | None = None) -> int:
        """Total items of a paginated list (walking every page)."""
        n, cursor = 0, None
        sep = "&" if "?" in path else "?"
        while True:
            url = path + (f"{sep}limit=200&cursor={cursor}" if cursor else f"{sep}limit=200")
            body = self.get(url, headers or self.hr).get_json()
            n += len(body["items"])
            cursor = body["next_cursor"]
            if not cursor:
                return n

    def db(self):
        return self.app.extensions["kinerja"].session_factory()

    def counts(self) -> dict[str, int]:
        """Rows per table: compare before and after a refused request (nothing may change)."""
        with self.db() as s:
            return {name: s.scalar(select(func.count()).select_from(t)) for name, t in Base.metadata.tables.items()}

    def outbox(self, type_: str | None = None) -> list[dict]:
        t = platform_tables.outbox
        with self.db() as s:
            stmt = select(t).order_by(t.c.id)
            if type_:
                stmt = stmt.where(t.c.type == type_)
            return [dict(r) for r in s.execute(stmt).mappings()]


def seed(org: Org) -> None:
    c = org.client
    for code, name in (("PKMB", "Pemerintah Kabupaten Maju Bersama"), ("OTHER", "Instansi Lain")):
        r = org.post("/agencies", org.admin, {"code": code, "name": name})
        assert r.status_code == 201, r.get_json()
    r = org.import_csv("units", UNITS_CSV)
    assert r.status_code == 200 and r.get_json()["created"] == 3, r.get_json()
    r = org.import_csv("employees", EMPLOYEES_CSV)
    assert r.status_code == 200 and r.get_json()["created"] == 9, r.get_json()
    r = org.import_csv("units", "code,name,parent_code\nBIRO,Biro Umum,\n", headers=org.other_hr)
    assert r.status_code == 200, r.get_json()
    r = org.import_csv(
        "employees", f"nip,name,position,unit_code\n{OTHER_EMP},Lain Orang,Analis,BIRO\n", headers=org.other_hr
    )
    assert r.status_code == 200, r.get_json()
    r = org.post("/cycles", org.hr, {"year": 2026, "period_type": "quarterly"})
    assert r.status_code == 201, r.get_json()
    org.cycle_id = r.get_json()["id"]
    r = org.advance("draft")
    assert r.status_code == 200 and r.get_json()["stage"] == "planning", r.get_json()
    assert c is org.client
