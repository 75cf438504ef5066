"""``kinerja hr`` import and cycle commands against the embedded services over HTTP."""

from __future__ import annotations

from kinerja.http import ApiError
from tests.plans.support import EMPLOYEES_CSV, HEAD, KASI_A, STAFF_A, UNITS_CSV, iki, rhk

BROKEN_NIP = "19900101201503100X"  # a staff row with a NIP that cannot be valid


def _agency(server) -> None:
    server.client(server.token("admin", agency=None, sub="admin@kinerja")).post(
        "/plans/api/v1/agencies", {"code": "PKMB", "name": "Pemerintah Kabupaten Maju Bersama"}
    )


def _files(tmp_path, employees: str = EMPLOYEES_CSV):
    units, emps = tmp_path / "units.csv", tmp_path / "employees.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    emps.write_text(employees, encoding="utf-8")
    return units, emps


def _imported(server, tmp_path):
    _agency(server)
    units, emps = _files(tmp_path)
    r = server.hr("import", "--units", units, "--employees", emps)
    assert r.exit_code == 0, r.output
    return r


def _open(server) -> int:
    r = server.hr("cycle", "open", "--year", 2026, "--period-type", "quarterly", "--planning-deadline", "2026-01-31")
    assert r.exit_code == 0, r.output
    return int(r.output.rsplit("ID periode (cycle id):", 1)[1].split()[0])


def test_import_with_a_broken_row_prints_the_row_writes_nothing_and_exits_non_zero(server, tmp_path):
    _agency(server)
    lines = EMPLOYEES_CSV.splitlines()
    lines[5] = lines[5].replace(STAFF_A[1], BROKEN_NIP)  # row 6 of the file (header is row 1)
    units, emps = _files(tmp_path, "\n".join(lines) + "\n")
    r = server.hr("import", "--units", units, "--employees", emps)
    assert r.exit_code != 0
    out = r.output
    assert "Galat impor Pegawai (employees)" in out and "Baris" in out and "(row)" in out
    row = next(line for line in out.splitlines() if BROKEN_NIP in line)
    assert row.split()[0] == "6" and "nip" in row
    assert "impor ditolak, tidak ada yang disimpan (import refused, nothing written)" in out
    # nothing written: not even the units, which were fine
    assert server.client().all("/plans/api/v1/units") == []


def test_import_dry_run_then_real_run_then_unchanged(server, tmp_path):
    _agency(server)
    units, emps = _files(tmp_path)
    r = server.hr("import", "--units", units, "--employees", emps, "--dry-run")
    assert r.exit_code == 0, r.output
    assert "Uji impor, tidak ada yang disimpan (dry run, nothing written)" in r.output
    assert "references to units of the units file are accepted" in r.output  # units not there yet
    assert server.client().all("/plans/api/v1/units") == []
    r = server.hr("import", "--units", units, "--employees", emps)
    assert r.exit_code == 0, r.output
    table = {
        line.split("(")[0].strip(): line.split()
        for line in r.output.splitlines()
        if line.startswith(("Unit (units)", "Pegawai (employees)"))
    }
    assert table["Unit"][-5:] == ["3", "3", "0", "0", "0"]  # rows created updated unchanged errors
    assert table["Pegawai"][-5:] == ["9", "9", "0", "0", "0"]
    r = server.hr("import", "--employees", emps)
    assert r.exit_code == 0, r.output
    row = next(line for line in r.output.splitlines() if line.startswith("Pegawai (employees)"))
    assert row.split()[-5:] == ["9", "0", "0", "9", "0"]  # all unchanged the second time


def test_cycle_open_is_idempotent_and_status_shows_the_units(server, tmp_path):
    _imported(server, tmp_path)
    r = server.hr("cycle", "open", "--year", 2026, "--period-type", "quarterly", "--planning-deadline", "2026-01-31")
    assert r.exit_code == 0, r.output
    assert "Periode penilaian dibuat (cycle created)" in r.output
    assert "Tahap (stage): Draf (draft) → Perencanaan SKP (planning)" in r.output
    assert "Triwulan I" in r.output and "2026-01-31" in r.output
    cycle_id = int(r.output.rsplit("ID periode (cycle id):", 1)[1].split()[0])
    again = server.hr("cycle", "open", "--year", 2026, "--period-type", "quarterly")
    assert again.exit_code == 0, again.output
    assert f"sudah ada (cycle already exists): #{cycle_id}" in again.output
    assert "tidak diubah (unchanged)" in again.output and "planning" in again.output

    # a little progress to count: the head's plan approved by HR, kasi A's submitted
    c = server.client(server.token("employee", "supervisor", nip=HEAD))
    head = c.post(
        "/plans/api/v1/plans",
        {
            "cycle_id": cycle_id,
            "approach": "kuantitatif",
            "behaviour": _behaviour(),
            "rhk": [rhk("Jalan mantap", goal="Sasaran PK 1", ikis=[iki()])],
        },
    )
    c.post(f"/plans/api/v1/plans/{head['id']}/submit")
    server.client().post(f"/plans/api/v1/plans/{head['id']}/approve")
    k = server.client(server.token("employee", "supervisor", nip=KASI_A))
    kasi = k.post(
        "/plans/api/v1/plans",
        {
            "cycle_id": cycle_id,
            "approach": "kuantitatif",
            "behaviour": _behaviour(),
            "rhk": [rhk("Dukung", parent=head["rhk"][0]["id"], ikis=[iki()])],
        },
    )
    k.post(f"/plans/api/v1/plans/{kasi['id']}/submit")

    r = server.hr("cycle", "status", cycle_id)
    assert r.exit_code == 0, r.output
    out = r.output
    assert "Tahap (stage): Perencanaan SKP (planning) [planning]" in out
    assert "SKP per unit dan status (plans per unit by status)" in out
    rows = {line.split()[0]: line for line in out.splitlines() if line.strip().startswith(("DINAS", "SEK-A", "SEK-B"))}
    assert set(rows) == {"DINAS", "SEK-A", "SEK-B"}
    assert rows["DINAS"].split()[-9:-4] == ["0", "0", "0", "1", "0"] and rows["DINAS"].endswith("█   1/1   100 %")
    # draft, submitted, returned, approved, no plan; then the bar
    assert rows["SEK-A"].split()[3:8] == ["0", "1", "0", "0", "3"] and rows["SEK-A"].endswith("0/4     0 %")
    assert any(line.startswith("  SEK-A") for line in out.splitlines())  # indented under DINAS
    assert "Belum ada evaluasi (no evaluations yet)." in out


def test_advance_prints_the_transition_and_a_wrong_expected_names_the_current_stage(server, tmp_path):
    _imported(server, tmp_path)
    cycle_id = _open(server)
    r = server.hr("cycle", "advance", cycle_id)
    assert r.exit_code == 0, r.output
    assert f"Periode #{cycle_id} Penilaian Kinerja 2026: planning → monitoring:1:check_in" in r.output
    assert "Perencanaan SKP (planning) → Pemantauan Triwulan I · Check-in (monitoring period 1 · check-in)" in r.output
    r = server.hr("cycle", "advance", cycle_id, "--expected", "monitoring:1:check_in")
    assert r.exit_code == 0 and "monitoring:1:check_in → monitoring:1:self_assessment" in r.output, r.output
    stale = server.hr("cycle", "advance", cycle_id, "--expected", "planning")
    assert stale.exit_code == 1
    assert "Galat (error): tahap tidak sesuai" in stale.output
    assert "tahap saat ini (current stage): monitoring:1:self_assessment" in stale.output
    assert "Tidak ada yang diubah (nothing changed)" in stale.output
    assert server.client().get(f"/plans/api/v1/cycles/{cycle_id}")["state"] == "monitoring:1:self_assessment"


def test_errors_are_clear_messages(server, tmp_path):
    _agency(server)
    r = server.hr("cycle", "status", 999)
    assert r.exit_code == 1 and "Galat (error): GET " in r.output and "/plans/api/v1/cycles/999 → 404" in r.output
    r = server.runner.invoke(
        __import__("kinerja.cli", fromlist=["main"]).main,
        ["hr", "--url", server.url, "cycle", "status", "1"],
        env={"KINERJA_TOKEN": ""},
    )
    assert r.exit_code == 1 and "token diperlukan" in r.output
    r = server.hr("cycle", "status", 1, token=server.token("employee", nip=HEAD))
    assert r.exit_code == 1 and "404" in r.output
    dead = server.runner.invoke(
        __import__("kinerja.cli", fromlist=["main"]).main,
        ["hr", "--url", "http://127.0.0.1:9", "--token", "x", "cycle", "status", "1"],
    )
    assert dead.exit_code == 1 and "Tidak dapat terhubung ke http://127.0.0.1:9" in dead.output


def test_the_client_turns_problems_into_messages_and_walks_pages(server, tmp_path):
    _imported(server, tmp_path)
    c = server.client()
    assert len(list(c.paginate("/plans/api/v1/employees", limit=2))) == 9  # five pages of two
    try:
        c.post("/plans/api/v1/cycles", {"year": 1999, "period_type": "weekly"})
    except ApiError as exc:
        assert exc.status == 422 and exc.code == "validation"
        assert "year" in exc.message and "period_type" in exc.message
    else:
        raise AssertionError("422 expected")


def _behaviour() -> dict:
    from tests.plans.support import BEHAVIOUR

    return dict(BEHAVIOUR)


def test_without_rich_or_httpx_the_tables_are_plain_and_urllib_carries_the_calls(server, tmp_path, monkeypatch):
    import kinerja.hr_output
    import kinerja.http

    monkeypatch.setattr(kinerja.hr_output, "USE_RICH", False)
    monkeypatch.setattr(kinerja.http, "httpx", None)
    assert kinerja.http.Client(server.url, "t").transport == "urllib"
    _imported(server, tmp_path)
    cycle_id = _open(server)
    r = server.hr("cycle", "status", cycle_id)
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    i = lines.index("SKP per unit dan status (plans per unit by status)")
    assert lines[i + 1].startswith("Unit     Nama") and lines[i + 2].startswith("         (name)")
    assert set(lines[i + 3].replace(" ", "")) == {"─"}  # one rule per column, two spaces apart
    assert lines[i + 4].startswith("DINAS    Dinas Pekerjaan Umum") and lines[i + 5].startswith("  SEK-A  ")
    stale = server.hr("cycle", "advance", cycle_id, "--expected", "draft")
    assert stale.exit_code == 1 and "tahap saat ini (current stage): planning" in stale.output
