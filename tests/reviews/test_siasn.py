"""SIASN export (services/reviews/siasn.py) against a fake SIASN on 127.0.0.1: both tokens, the
payloads of /skp22/save and /kinerjaperiodik/save, retries on 503 and connection errors, no retry
on 400, push records, and the HR endpoints. Evaluation rows are inserted directly into a reviews
app's database, so the test does not depend on the whole planning → rating → sign-off chain."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from services.common.auth import Principal, issue_token
from services.common.config import Config
from services.reviews import domain
from services.reviews.app import create_app
from services.reviews.models import CycleRef, Evaluation, SiasnPush
from services.reviews.siasn import (
    DEFAULT_CODES,
    SiasnClient,
    SiasnConfig,
    SiasnMappingError,
    is_success,
    merge_codes,
    periodic_payload,
    skp22_payload,
)
from services.reviews.siasn_export import push_results

GATEWAY, SSO = "gw-token-123", "sso-token-456"
BASE = "/apisiasn/1.0"
AGENCY = "PEMKOT-X"
NOW = datetime(2026, 1, 20, 3, 0, tzinfo=timezone.utc)

REQUIRED = {
    "/skp22/save": (
        "tahun",
        "hasilKinerjaNilai",
        "perilakuKerjaNilai",
        "kuadranKinerjaNilai",
        "penilaiNama",
        "penilaiNipNrp",
        "penilaiGolongan",
        "penilaiJabatan",
        "penilaiUnorNama",
        "statusPenilai",
        "pnsDinilaiOrang",
    ),
    "/kinerjaperiodik/save": (
        "pnsDinilaiId",
        "bulanMulaiPenilaian",
        "tahunMulaiPenilaian",
        "bulanSelesaiPenilaian",
        "tahunSelesaiPenilaian",
        "periodikId",
        "tahun",
        "hasilKinerjaNilai",
        "perilakuKerjaNilai",
        "kuadranKinerjaNilai",
        "penilaiNama",
        "penilaiNipNrp",
        "penilaiJabatanNama",
        "statusPenilai",
    ),
}


class FakeSiasn:
    """A SIASN stand-in: checks both tokens and the required fields, records every body, and
    answers 503 to the first ``fail_first`` calls."""

    def __init__(self, fail_first: int = 1):
        self.fail_first = fail_first
        self.calls: list[tuple[str, dict]] = []  # every request that passed the token check
        self.saved: list[tuple[str, dict]] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def reply(self, status: int, body: dict):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if (
                    self.headers.get("Authorization") != f"Bearer {GATEWAY}"
                    or self.headers.get("Auth") != f"bearer {SSO}"
                ):
                    return self.reply(401, {"success": False, "message": "invalid token"})
                path = self.path.removeprefix(BASE)
                if path not in REQUIRED:
                    return self.reply(404, {"success": False, "message": "not found"})
                try:
                    body = json.loads(raw)
                except ValueError:
                    return self.reply(400, {"success": False, "message": "invalid json"})
                with fake.lock:
                    fake.calls.append((path, body))
                    if len(fake.calls) <= fake.fail_first:
                        return self.reply(503, {"success": False, "message": "service unavailable"})
                missing = [f for f in REQUIRED[path] if body.get(f) in (None, "")]
                if missing:
                    return self.reply(400, {"success": False, "message": f"{', '.join(missing)} is required"})
                with fake.lock:
                    fake.saved.append((path, body))
                return self.reply(200, {"success": True, "mapData": f"rw-{len(fake.saved)}"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{BASE}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def fake():
    with FakeSiasn(fail_first=1) as server:
        yield server


@pytest.fixture
def app(tmp_path):
    app = create_app(Config.from_env("reviews", env={"KINERJA_VAR": str(tmp_path)}, testing=True), clock=lambda: NOW)
    yield app
    app.extensions["kinerja"].engine.dispose()


def evaluation(**overrides) -> Evaluation:
    values = dict(
        cycle_id=7,
        agency_code=AGENCY,
        kind="annual",
        period_seq=0,
        period_name="Tahunan 2025",
        plan_id=1,
        plan_revision=1,
        employee_nip="199001012015031001",
        employee_name="Siti Rahayu",
        position="Pranata Komputer",
        grade="III/c",
        unit_code="U1",
        unit_name="Bidang Data",
        penilai_nip="198205102008011002",
        penilai_name="Budi Santoso",
        penilai_position="Kepala Bidang Data",
        penilai_grade="Pembina (IV/a)",
        penilai_unit_name="Bidang Data",
        atasan_nip="197512312000121003",
        atasan_name="Andi Wijaya",
        status="countersigned",
        rating_hasil="above",
        rating_perilaku="above",
        predikat="SANGAT_BAIK",
        self_assessment={},
        iki_feedback={},
        value_feedback={},
        created_at=NOW,
        updated_at=NOW,
    )
    values.update(overrides)
    if "predikat" not in overrides and values["rating_hasil"] and values["rating_perilaku"]:
        values["predikat"] = domain.predikat(values["rating_hasil"], values["rating_perilaku"])
    return Evaluation(**values)


@pytest.fixture
def seeded(app):
    """Cycle 7 (quarterly, 2025) with: annual countersigned ×3 (one whose penilai is unknown — a
    malformed payload), annual only signed ×1, periodic countersigned ×2 (Triwulan I and II)."""
    periods = [
        {
            "seq": i + 1,
            "name_id": f"Triwulan {r}",
            "name_en": f"Quarter {r}",
            "start": f"2025-{3 * i + 1:02d}-01",
            "end": end,
            "deadline": end,
        }
        for i, (r, end) in enumerate(
            [("I", "2025-03-31"), ("II", "2025-06-30"), ("III", "2025-09-30"), ("IV-Akhir", "2025-12-31")]
        )
    ]
    ids = {}
    with app.extensions["kinerja"].uow() as s:
        s.add(
            CycleRef(
                id=7,
                agency_code=AGENCY,
                year=2025,
                name="SKP 2025",
                period_type="quarterly",
                stage="closed",
                periods=periods,
            )
        )
        s.add(
            CycleRef(
                id=8, agency_code="OTHER", year=2025, name="SKP 2025", period_type="monthly", stage="closed", periods=[]
            )
        )
        rows = {
            "annual_a": evaluation(plan_id=1),
            "annual_b": evaluation(
                plan_id=2,
                employee_nip="199203152016022002",
                employee_name="Rina",
                rating_hasil="meets",
                rating_perilaku="below",
            ),
            "annual_bad": evaluation(
                plan_id=3,
                employee_nip="198801012010011001",
                employee_name="Kepala Dinas",
                penilai_nip=None,
                penilai_name=None,
                penilai_position=None,
                penilai_grade=None,
                penilai_unit_name=None,
            ),
            "annual_signed": evaluation(plan_id=4, employee_nip="199505052019031001", status="signed"),
            "q1": evaluation(
                plan_id=1,
                kind="periodic",
                period_seq=1,
                period_name="Triwulan I",
                rating_hasil="below",
                rating_perilaku="meets",
            ),
            "q2": evaluation(
                plan_id=1,
                kind="periodic",
                period_seq=2,
                period_name="Triwulan II",
                rating_hasil="meets",
                rating_perilaku="meets",
            ),
        }
        for row in rows.values():
            s.add(row)
        s.flush()
        ids = {k: v.id for k, v in rows.items()}
    return ids


def hr() -> Principal:
    return Principal(sub="hr-1", roles=frozenset({"hr"}), agency=AGENCY)


def client_for(fake: FakeSiasn, sleeps: list | None = None, **config) -> SiasnClient:
    cfg = SiasnConfig(url=fake.url, gateway_token=GATEWAY, sso_token=SSO, **config)
    return SiasnClient(cfg, sleep=(sleeps.append if sleeps is not None else lambda _: None))


# ------------------------------------------------------------------ payload builders


def test_skp22_payload_from_an_evaluation_row():
    ev = evaluation(rating_hasil="meets", rating_perilaku="below")
    body = skp22_payload(ev, {}, year=2025)
    assert body == {
        "tahun": 2025,
        "hasilKinerjaNilai": 2,
        "perilakuKerjaNilai": 3,
        "kuadranKinerjaNilai": 4,
        "penilaiNama": "Budi Santoso",
        "penilaiNipNrp": "198205102008011002",
        "penilaiGolongan": "41",
        "penilaiJabatan": "Kepala Bidang Data",
        "penilaiUnorNama": "Bidang Data",
        "statusPenilai": "ASN",
        "pnsDinilaiOrang": "199001012015031001",
    }
    known = skp22_payload(ev, {"siasn_id": "A5EB03E2-1234", "penilai_status": "non_asn", "record_id": "r-9"}, year=2025)
    assert known["pnsDinilaiOrang"] == "A5EB03E2-1234" and known["statusPenilai"] == "NON ASN"
    assert known["id"] == "r-9"
    with pytest.raises(SiasnMappingError):
        skp22_payload(ev, {})  # no year
    with pytest.raises(SiasnMappingError):
        skp22_payload(evaluation(rating_hasil=None, rating_perilaku=None, predikat=None), {}, year=2025)


def test_periodic_payload_months_and_configured_codes():
    ev = evaluation(kind="periodic", period_seq=2, rating_hasil="below", rating_perilaku="above")
    cycle = {"year": 2025, "period_type": "quarterly", "periods": []}  # computed like the plans service
    body = periodic_payload(ev, {"koefisien_id": "22"}, cycle=cycle)
    assert (
        body["bulanMulaiPenilaian"],
        body["tahunMulaiPenilaian"],
        body["bulanSelesaiPenilaian"],
        body["tahunSelesaiPenilaian"],
    ) == (4, 2025, 6, 2025)
    assert body["periodikId"] == "2" and body["tahun"] == 2025 and body["koefisienId"] == "22"
    assert (body["hasilKinerjaNilai"], body["perilakuKerjaNilai"], body["kuadranKinerjaNilai"]) == (3, 1, 3)
    assert body["pnsDinilaiId"] == "199001012015031001" and body["penilaiJabatanNama"] == "Kepala Bidang Data"
    semester = {"year": 2025, "period_type": "semester", "periods": []}
    with pytest.raises(SiasnMappingError):  # no BKN default for semester: must be configured
        periodic_payload(ev, {}, cycle=semester)
    codes = merge_codes({"periodik": {"semester": "3"}, "rating": {"above": "A"}})
    body = periodic_payload(ev, {}, cycle=semester, codes=codes)
    assert body["periodikId"] == "3" and body["bulanSelesaiPenilaian"] == 12 and body["perilakuKerjaNilai"] == "A"
    assert DEFAULT_CODES["periodik"] == {"monthly": "1", "quarterly": "2"}  # defaults untouched


def test_config_from_env_inline_and_file(tmp_path):
    cfg = SiasnConfig.from_env(
        {
            "SIASN_URL": "http://x",
            "SIASN_GATEWAY_TOKEN": "g",
            "SIASN_SSO_TOKEN": "s",
            "SIASN_CODE_MAP": '{"kuadran": {"BAIK": "9"}}',
            "SIASN_MAX_ATTEMPTS": "2",
        }
    )
    assert cfg.configured and cfg.max_attempts == 2 and cfg.codes["kuadran"]["BAIK"] == "9"
    assert cfg.codes["kuadran"]["SANGAT_BAIK"] == "1"
    path = tmp_path / "codes.json"
    path.write_text(json.dumps({"pns_id": {"199001012015031001": "uuid-1"}}))
    cfg = SiasnConfig.from_env({"SIASN_CODE_MAP": str(path)})
    assert not cfg.configured and cfg.codes["pns_id"] == {"199001012015031001": "uuid-1"}
    assert skp22_payload(evaluation(), {}, year=2025, codes=cfg.codes)["pnsDinilaiOrang"] == "uuid-1"


# ------------------------------------------------------------------ client


def test_client_retries_5xx_with_backoff_then_succeeds(fake):
    sleeps = []
    result = client_for(fake, sleeps, backoff_seconds=0.5).send(
        "/skp22/save", skp22_payload(evaluation(), {}, year=2025)
    )
    assert result.status == 200 and result.attempts == 2 and result.ok
    assert sleeps == [0.5]
    assert [p for p, _ in fake.calls] == ["/skp22/save", "/skp22/save"] and len(fake.saved) == 1


def test_client_does_not_retry_4xx(fake):
    fake.fail_first = 0
    sleeps = []
    status, body = client_for(fake, sleeps).post("/skp22/save", {"tahun": 2025})
    assert status == 400 and "is required" in body and sleeps == [] and len(fake.calls) == 1


def test_client_wrong_tokens_are_refused(fake):
    cfg = SiasnConfig(url=fake.url, gateway_token="wrong", sso_token=SSO)
    result = SiasnClient(cfg, sleep=lambda _: None).send("/skp22/save", {})
    assert result.status == 401 and result.attempts == 1 and not result.ok


def test_client_retries_connection_errors_and_gives_up():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = []
    cfg = SiasnConfig(
        url=f"http://127.0.0.1:{port}",
        gateway_token="g",
        sso_token="s",
        max_attempts=4,
        backoff_seconds=1.0,
        max_backoff_seconds=3.0,
        timeout_seconds=2,
    )
    result = SiasnClient(cfg, sleep=sleeps.append).send("/skp22/save", {})
    assert result.status is None and result.attempts == 4 and "connection error" in result.body
    assert sleeps == [1.0, 2.0, 3.0]  # exponential, capped


def test_client_with_injected_transport_and_success_false():
    calls = []

    def transport(url, body, headers, timeout):
        calls.append((url, json.loads(body), headers))
        return 200, '{"success": false, "message": "data sudah ada"}'

    cfg = SiasnConfig(url="https://siasn.example/apisiasn/1.0/", gateway_token="g", sso_token="s")
    result = SiasnClient(cfg, http=transport).send("/kinerjaperiodik/save", {"a": 1})
    assert not result.ok and result.attempts == 1
    url, body, headers = calls[0]
    assert url == "https://siasn.example/apisiasn/1.0/kinerjaperiodik/save" and body == {"a": 1}
    assert headers["Authorization"] == "Bearer g" and headers["Auth"] == "bearer s"
    assert is_success(201, "") and is_success(200, "not json") and not is_success(None, "")


# ------------------------------------------------------------------ push use case


def test_push_annual_records_sent_and_failed_and_skips_sent_next_time(app, seeded, fake):
    with app.app_context(), app.extensions["kinerja"].uow() as s:
        out = push_results(s, hr(), 7, "annual", client_for(fake))
    assert out["sent"] == 2 and out["failed"] == 1 and out["skipped"] == 0 and out["total"] == 3
    assert out["failed_evaluation_ids"] == [seeded["annual_bad"]]
    # first call 503 then retried; the malformed payload got one 400 and no retry
    assert len(fake.calls) == 4 and len(fake.saved) == 2
    saved = {b["pnsDinilaiOrang"]: b for _, b in fake.saved}
    assert saved["199001012015031001"]["kuadranKinerjaNilai"] == 1
    assert saved["199203152016022002"]["kuadranKinerjaNilai"] == 4  # meets/below: Kurang/Misconduct
    assert all(b["tahun"] == 2025 for b in saved.values())
    with app.app_context(), app.extensions["kinerja"].uow() as s:
        rows = {r.evaluation_id: r for r in s.query(SiasnPush)}
        assert rows[seeded["annual_a"]].status == "sent" and rows[seeded["annual_a"]].attempts == 2
        assert rows[seeded["annual_b"]].attempts == 1 and rows[seeded["annual_b"]].response_status == 200
        bad = rows[seeded["annual_bad"]]
        assert (bad.status, bad.attempts, bad.response_status) == ("failed", 1, 400)
        assert "penilaiNama" in bad.response_body and bad.endpoint == "/skp22/save"
        assert seeded["annual_signed"] not in rows  # only countersigned evaluations go
    fake.calls.clear()
    fake.fail_first = 0
    with app.app_context(), app.extensions["kinerja"].uow() as s:
        again = push_results(s, hr(), 7, "annual", client_for(fake))
    assert (again["sent"], again["failed"], again["skipped"]) == (0, 1, 2)  # only the failed one is retried
    assert len(fake.calls) == 1


def test_push_periodic_and_mapping_failure(app, seeded, fake):
    with app.app_context(), app.extensions["kinerja"].uow() as s:
        out = push_results(s, hr(), 7, "periodic", client_for(fake))
    assert (out["sent"], out["failed"]) == (2, 0) and out["endpoint"] == "/kinerjaperiodik/save"
    bodies = sorted((b for _, b in fake.saved), key=lambda b: b["bulanMulaiPenilaian"])
    assert [(b["bulanMulaiPenilaian"], b["bulanSelesaiPenilaian"]) for b in bodies] == [(1, 3), (4, 6)]
    assert {b["periodikId"] for b in bodies} == {"2"}
    assert bodies[0]["kuadranKinerjaNilai"] == 3  # below/meets: Butuh Perbaikan
    # a code map without the quarterly period type: recorded as failed without calling SIASN
    client = client_for(fake, codes=merge_codes({"periodik": {"quarterly": None}}))
    with app.app_context(), app.extensions["kinerja"].uow() as s:
        s.add(
            evaluation(
                plan_id=9, employee_nip="199101012015031009", kind="periodic", period_seq=3, period_name="Triwulan III"
            )
        )
        s.flush()
        calls_before = len(fake.calls)
        out = push_results(s, hr(), 7, "periodic", client)
        assert (out["sent"], out["failed"], out["skipped"]) == (0, 1, 2) and len(fake.calls) == calls_before
        row = s.query(SiasnPush).filter(SiasnPush.status == "failed").one()
        assert row.attempts == 0 and row.response_status is None and row.response_body.startswith("mapping:")


def test_push_is_hr_of_the_agency_only(app, seeded, fake):
    from services.common.errors import Problem

    with app.app_context(), app.extensions["kinerja"].uow() as s:
        for p in (
            Principal(sub="x", roles=frozenset({"hr"}), agency="OTHER"),
            Principal(sub="y", roles=frozenset({"supervisor"}), agency=AGENCY, nip="198205102008011002"),
        ):
            with pytest.raises(Problem) as exc:
                push_results(s, p, 7, "annual", client_for(fake))
            assert exc.value.status == 404
    assert fake.calls == []


# ------------------------------------------------------------------ HTTP endpoints


def test_endpoints_push_and_list(app, seeded, fake, monkeypatch):
    monkeypatch.setenv("SIASN_URL", fake.url)
    monkeypatch.setenv("SIASN_GATEWAY_TOKEN", GATEWAY)
    monkeypatch.setenv("SIASN_SSO_TOKEN", SSO)
    monkeypatch.setenv("SIASN_BACKOFF_SECONDS", "0.01")
    secret = app.extensions["kinerja"].config.jwt_secret
    auth = {"Authorization": f"Bearer {issue_token(secret, roles=['hr'], agency=AGENCY)}"}
    http = app.test_client()

    r = http.post("/reviews/api/v1/siasn/push", json={"cycle_id": 7, "kind": "annual"}, headers=auth)
    assert r.status_code == 200, r.get_json()
    assert {k: r.get_json()[k] for k in ("sent", "failed", "skipped")} == {"sent": 2, "failed": 1, "skipped": 0}

    r = http.get("/reviews/api/v1/siasn/pushes?cycle_id=7", headers=auth)
    assert r.status_code == 200
    items = r.get_json()["items"]  # a page (limit ≤ 200, next_cursor): the log grows with every push
    assert len(items) == 3 and {i["status"] for i in items} == {"sent", "failed"}
    first = http.get("/reviews/api/v1/siasn/pushes?cycle_id=7&limit=2", headers=auth).get_json()
    rest = http.get(f"/reviews/api/v1/siasn/pushes?cycle_id=7&cursor={first['next_cursor']}", headers=auth).get_json()
    assert [i["id"] for i in first["items"] + rest["items"]] == [i["id"] for i in items] and not rest["next_cursor"]
    assert all(i["kind"] == "annual" and i["endpoint"] == "/skp22/save" for i in items)
    r = http.get("/reviews/api/v1/siasn/pushes?cycle_id=7&status=failed", headers=auth)
    assert [i["employee_nip"] for i in r.get_json()["items"]] == ["198801012010011001"]

    assert (
        http.post("/reviews/api/v1/siasn/push", json={"cycle_id": 7, "kind": "weekly"}, headers=auth).status_code == 422
    )
    employee = {
        "Authorization": f"Bearer {issue_token(secret, roles=['employee'], agency=AGENCY, nip='199001012015031001')}"
    }
    assert (
        http.post("/reviews/api/v1/siasn/push", json={"cycle_id": 7, "kind": "annual"}, headers=employee).status_code
        == 403
    )
    assert http.get("/reviews/api/v1/siasn/pushes?cycle_id=7", headers=employee).status_code == 404
    other_hr = {"Authorization": f"Bearer {issue_token(secret, roles=['hr'], agency='OTHER')}"}
    assert (
        http.post("/reviews/api/v1/siasn/push", json={"cycle_id": 7, "kind": "annual"}, headers=other_hr).status_code
        == 404
    )

    monkeypatch.delenv("SIASN_SSO_TOKEN")
    r = http.post("/reviews/api/v1/siasn/push", json={"cycle_id": 7, "kind": "annual"}, headers=auth)
    assert r.status_code == 503 and r.get_json()["code"] == "siasn.not_configured"
    assert r.get_json()["missing"] == ["SIASN_SSO_TOKEN"]
