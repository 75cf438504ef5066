"""The whole chain for reviews tests: approved SKPs for the small agency, the bus pumped so the
reviews read model follows plans, and shortcuts into the reviews API."""

from __future__ import annotations

from tests.plans.support import HEAD, KASI_A, KASI_B, STAFF_A, STAFF_B

RAPI = "/reviews/api/v1"


class Chain:
    def __init__(self, emb, org):
        self.emb, self.org = emb, org
        self.plans: dict[str, dict] = {}

    # --------------------------------------------------------------- setup
    def approve_all_plans(self) -> None:
        org = self.org
        head = org.head_plan()
        r = org.submit(head["id"], HEAD)
        assert r.status_code == 200, r.get_json()
        r = org.post(f"/plans/{head['id']}/approve", org.hr)  # the top official: HR records the approval
        assert r.status_code == 200, r.get_json()
        self.plans[HEAD] = r.get_json()
        self.plans[KASI_A] = org.cascade(self.plans[HEAD], KASI_A, approver=HEAD, which=0)
        self.plans[KASI_B] = org.cascade(self.plans[HEAD], KASI_B, approver=HEAD, which=1)
        for nip in STAFF_A:
            self.plans[nip] = org.cascade(self.plans[KASI_A], nip, approver=KASI_A)
        for nip in STAFF_B:
            self.plans[nip] = org.cascade(self.plans[KASI_B], nip, approver=KASI_B)
        self.pump()

    def pump(self) -> int:
        return self.emb.pump()

    def advance_to(self, label: str) -> dict:
        c = self.org.advance_to(label)
        self.pump()
        return c

    # --------------------------------------------------------------- reviews API
    def as_(self, nip: str) -> dict:
        return self.org.as_(nip)

    @property
    def hr(self) -> dict:
        return self.org.hr

    def get(self, path, headers, **kw):
        return self.org.client.get(RAPI + path, headers=headers, **kw)

    def post(self, path, headers, body=None, **kw):
        return self.org.client.post(RAPI + path, headers=headers, json=body, **kw)

    def put(self, path, headers, body=None, **kw):
        return self.org.client.put(RAPI + path, headers=headers, json=body, **kw)

    def evaluations(self, headers=None, **filters) -> list[dict]:
        q = "&".join(f"{k}={v}" for k, v in filters.items())
        r = self.get(f"/evaluations?limit=200&{q}", headers or self.hr)
        assert r.status_code == 200, r.get_json()
        return r.get_json()["items"]

    def evaluation_of(self, nip: str, period_seq: int = 1) -> dict:
        found = [e for e in self.evaluations(period_seq=period_seq) if e["employee_nip"] == nip]
        assert len(found) == 1, found
        return self.get(f"/evaluations/{found[0]['id']}", self.hr).get_json()

    def etag(self, evaluation_id: int, headers=None) -> str:
        return self.get(f"/evaluations/{evaluation_id}", headers or self.hr).headers["ETag"]

    def realise(self, nip: str, period_seq: int, values: list[float]) -> None:
        """Record realisations for the IKI of ``nip``'s plan, in order."""
        plan = self.plans[nip]
        ikis = [i for r in plan["rhk"] for i in r["iki"]]
        for i, value in zip(ikis, values):
            r = self.org.post(
                f"/plans/{plan['id']}/realisations",
                self.org.as_(nip),
                {"iki_id": i["id"], "period_seq": period_seq, "value": value},
            )
            assert r.status_code == 201, r.get_json()
        self.pump()

    def self_assess(self, ev: dict, nip: str):
        return self.post(
            f"/evaluations/{ev['id']}/self-assessment/submit",
            self.as_(nip),
            {
                "achievements": "Semua dokumen perencanaan selesai tepat waktu.",
                "challenges": "Data lapangan terlambat dari kecamatan.",
                "improvement_plan": "Jadwal pengumpulan data dimajukan dua minggu.",
            },
        )

    def rate(self, ev: dict, penilai: str, hasil: str, perilaku: str, **extra):
        if perilaku == "below":  # a "below" names its values (issue 15); a test may give its own or none
            extra.setdefault("perilaku_below_values", ["kolaboratif"])
        body = {"rating_hasil": hasil, "rating_perilaku": perilaku, **extra}
        return self.put(f"/evaluations/{ev['id']}/rating", {**self.as_(penilai), "If-Match": self.etag(ev["id"])}, body)

    def set_org_result(self, unit_code: str, result: str, period_seq: int = 1, headers=None):
        return self.put(
            "/org-results",
            headers or self.hr,
            {"cycle_id": self.org.cycle_id, "period_seq": period_seq, "unit_code": unit_code, "result": result},
        )
