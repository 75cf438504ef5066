"""``kinerja hr``: the HR command line, entirely through the HTTP APIs.

    kinerja hr import --units units.csv --employees employees.csv [--dry-run]
    kinerja hr cycle open --year 2026 --period-type quarterly [--planning-deadline 2026-01-31]
    kinerja hr cycle status CYCLE_ID
    kinerja hr cycle advance CYCLE_ID [--expected STATE]
    kinerja hr report CYCLE_ID --out DIR [--pdf] [--documents N]

``--url`` (``KINERJA_URL``, default http://127.0.0.1:8000) and ``--token`` (``KINERJA_TOKEN``, an HR
token of the agency, e.g. from ``kinerja token --role hr --agency KODE``). Output is in Bahasa
Indonesia with English in parentheses; tables and progress bars use ``rich`` when it is installed
(Prefect brings it), else plain aligned text and click's progress bar.
"""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from collections import Counter
from functools import wraps
from pathlib import Path
from typing import Any, Iterable

import click

from . import report as rp
from .http import DEFAULT_URL, ApiError, Client

try:
    import rich  # noqa: F401

    HAVE_RICH = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_RICH = False
USE_RICH = HAVE_RICH  # the plain renderer is kept (and tested) for environments without rich

P = rp.P


class HrError(click.ClickException):
    def show(self, file=None):
        click.echo(f"Galat (error): {self.format_message()}", err=True)


def api_errors(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            raise HrError(exc.message) from None

    return wrapper


# ---------------------------------------------------------------------------------------------- text output


def _width(text: str) -> int:
    return sum(0 if unicodedata.combining(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _is_number(v: Any) -> bool:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return True
    return isinstance(v, str) and (v.replace(".", "", 1).isdigit() or v in ("–", "-"))


def table(headers: list[str], rows: list[list[Any]], right: Iterable[int] | None = None) -> str:
    """An aligned plain-text table; a header may hold ``"Bahasa\\n(English)"`` on two lines.
    Columns whose cells are all numbers are right-aligned unless ``right`` says otherwise."""
    cells = [["" if c is None else str(c) for c in r] for r in rows]
    n = len(headers)
    head_lines = [h.split("\n") for h in headers]
    depth = max(len(h) for h in head_lines)
    widths = [max([_width(x) for x in head_lines[i]] + [_width(r[i]) for r in cells]) for i in range(n)]
    if right is None:
        right = {i for i in range(n) if cells and all(_is_number(r[i]) for r in cells)}
    right = set(right)

    if USE_RICH:
        return _rich_table(head_lines, cells, right)

    def pad(text: str, i: int) -> str:
        gap = " " * (widths[i] - _width(text))
        return gap + text if i in right else text + gap

    out = []
    for line in range(depth):
        out.append("  ".join(pad(h[line] if line < len(h) else "", i) for i, h in enumerate(head_lines)).rstrip())
    out.append("  ".join("─" * w for w in widths))
    for r in cells:
        out.append("  ".join(pad(r[i], i) for i in range(n)).rstrip())
    return "\n".join(out)


def _rich_table(head_lines: list[list[str]], cells: list[list[str]], right: set[int]) -> str:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    t = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    depth = max(len(h) for h in head_lines)
    for i, h in enumerate(head_lines):  # every header as deep as the deepest: Bahasa on the top line
        t.add_column("\n".join(h + [" "] * (depth - len(h))), justify="right" if i in right else "left", no_wrap=True)
    for r in cells:
        t.add_row(*r)
    tty = sys.stdout.isatty()
    buf = io.StringIO()
    Console(
        file=buf,
        width=4000,
        force_terminal=tty,
        color_system="auto" if tty else None,
        highlight=False,
        emoji=False,
        markup=False,
    ).print(t)
    return "\n".join(line.rstrip() for line in buf.getvalue().rstrip("\n").split("\n"))


def bar(done: int, total: int, width: int = 16) -> str:
    """``███████░░░░░░░░░  7/16  44 %``"""
    if not total:
        return "░" * width + "  –"
    k = round(width * done / total)
    return "█" * k + "░" * (width - k) + f" {done:>3}/{total:<3} {round(100 * done / total):>3} %"


def heading(text_id: str, text_en: str) -> None:
    click.echo()
    click.secho(f"{text_id} ({text_en})", bold=True)


def progress(items: Iterable, label: str) -> Iterable:
    """A progress bar on stderr (tables stay on stdout): rich's on a terminal, else click's."""
    items = list(items)
    if len(items) < 2:
        return items
    if USE_RICH and sys.stderr.isatty():
        from rich.console import Console
        from rich.progress import track

        return track(items, description=label, console=Console(stderr=True), transient=True)

    def gen():
        with click.progressbar(items, label=label, file=sys.stderr, show_pos=True) as bar_:
            yield from bar_

    return gen()


# ---------------------------------------------------------------------------------------------- group


@click.group()
@click.option(
    "--url",
    envvar="KINERJA_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="Alamat Kinerja (base URL); env KINERJA_URL.",
)
@click.option("--token", envvar="KINERJA_TOKEN", default=None, help="Token HR (bearer token); env KINERJA_TOKEN.")
@click.pass_context
def hr(ctx, url, token):
    """Perintah HR melalui API (HR commands through the HTTP APIs)."""
    ctx.obj = {"url": url, "token": token}


def client_of(ctx) -> Client:
    obj = ctx.find_object(dict) or {}
    if not obj.get("token"):
        raise HrError(
            "token diperlukan: --token atau KINERJA_TOKEN (a token is required; e.g. "
            "`kinerja token --role hr --agency KODE`)"
        )
    client = Client(obj["url"], obj["token"])
    ctx.call_on_close(client.close)
    return client


# ---------------------------------------------------------------------------------------------- import


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise HrError(f"{path}: bukan UTF-8 (not UTF-8); simpan ulang sebagai CSV UTF-8")


def _rows_by_line(text: str) -> dict[int, dict]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    return {
        line: {(k or "").strip(): (v or "").strip() for k, v in row.items() if k}
        for line, row in enumerate(reader, start=2)
    }


def _import(client: Client, kind: str, text: str, dry_run: bool) -> dict:
    try:
        return client.post(
            f"{P}/directory/import",
            params={"kind": kind, "dry_run": dry_run},
            data=text.encode("utf-8"),
            content_type="text/csv",
        )
    except ApiError as exc:
        if exc.status != 422 or not exc.errors:
            raise
        errors = []  # a header problem, or rows refused on the real run: the same table
        for e in exc.errors:
            field, row = e.get("field") or "", None
            if field.startswith("rows["):
                row, _, field = field[5:].partition("].")
                row = int(row) if row.isdigit() else None
            errors.append({"row": row, "field": field, "code": e.get("code"), "detail": e.get("detail")})
        return {
            "kind": kind,
            "dry_run": dry_run,
            "rows": exc.problem.get("rows", 0),
            "created": 0,
            "updated": 0,
            "unchanged": 0,
            "errors": errors,
        }


KIND_LABEL = {"units": "Unit (units)", "employees": "Pegawai (employees)"}


@hr.command("import")
@click.option(
    "--units",
    "units_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV unit: code,name,parent_code",
)
@click.option(
    "--employees",
    "employees_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="CSV pegawai: nip,name,email,phone,position,grade,unit_code,superior_nip,language",
)
@click.option("--dry-run", is_flag=True, help="Hanya periksa, tidak menyimpan (check only, write nothing).")
@click.pass_context
@api_errors
def import_(ctx, units_path, employees_path, dry_run):
    """Impor direktori unit dan pegawai dari CSV (directory import)."""
    if not units_path and not employees_path:
        raise click.UsageError("berikan --units dan/atau --employees (give --units and/or --employees)")
    client = client_of(ctx)
    files = [(k, p) for k, p in (("units", units_path), ("employees", employees_path)) if p]
    texts = {k: _read(p) for k, p in files}
    new_units = {r.get("code") for r in _rows_by_line(texts["units"]).values()} if "units" in texts else set()
    # every file is checked first (dry run), so nothing is written when any row is wrong
    checks: dict[str, dict] = {}
    hidden = 0
    for kind, _path in files:
        report = _import(client, kind, texts[kind], dry_run=True)
        if kind == "employees" and new_units:
            # units of the same import do not exist yet during the check: their references are fine
            rows = _rows_by_line(texts[kind])
            keep = []
            for e in report["errors"]:
                unit = rows.get(e.get("row") or 0, {}).get("unit_code")
                if e.get("code") == "employee.unit_unknown" and unit in new_units:
                    hidden += 1
                    continue
                keep.append(e)
            report["errors"] = keep
        checks[kind] = report
    failed = {k: r for k, r in checks.items() if r["errors"]}
    for kind, report in failed.items():
        path = dict(files)[kind]
        heading(f"Galat impor {KIND_LABEL[kind]} — {path.name}: {len(report['errors'])} galat", "import errors")
        rows = _rows_by_line(texts[kind])
        key = "code" if kind == "units" else "nip"
        click.echo(
            table(
                ["Baris\n(row)", "Kunci\n(key)", "Kolom\n(field)", "Kode\n(code)", "Keterangan\n(detail)"],
                [
                    [
                        e.get("row") or "–",
                        rows.get(e.get("row") or 0, {}).get(key, ""),
                        e.get("field") or "",
                        e.get("code") or "",
                        e.get("detail") or "",
                    ]
                    for e in report["errors"]
                ],
                right={0},
            )
        )
    if failed:
        raise HrError(
            f"impor ditolak, tidak ada yang disimpan (import refused, nothing written): "
            f"{sum(len(r['errors']) for r in failed.values())} galat (errors) di "
            + ", ".join(KIND_LABEL[k] for k in failed)
        )
    results = checks
    if not dry_run:
        results = {kind: _import(client, kind, texts[kind], dry_run=False) for kind, _ in files}
        bad = {k: r for k, r in results.items() if r["errors"]}
        if bad:
            for kind, report in bad.items():
                heading(f"Galat impor {KIND_LABEL[kind]}", "errors")
                click.echo(
                    table(
                        ["Baris\n(row)", "Kolom\n(field)", "Kode\n(code)", "Keterangan\n(detail)"],
                        [
                            [e.get("row") or "–", e.get("field"), e.get("code"), e.get("detail")]
                            for e in report["errors"]
                        ],
                        right={0},
                    )
                )
            raise HrError("impor ditolak (import refused): " + ", ".join(KIND_LABEL[k] for k in bad))
    heading(
        "Uji impor, tidak ada yang disimpan" if dry_run else "Impor selesai",
        "dry run, nothing written" if dry_run else "import done",
    )
    click.echo(
        table(
            [
                "Jenis\n(kind)",
                "Baris\n(rows)",
                "Dibuat\n(created)",
                "Diperbarui\n(updated)",
                "Tetap\n(unchanged)",
                "Galat\n(errors)",
            ],
            [
                [KIND_LABEL[k], r["rows"], r["created"], r["updated"], r["unchanged"], len(r["errors"])]
                for k, r in results.items()
            ],
        )
    )
    if dry_run and hidden:
        click.echo(
            f"\nCatatan (note): {hidden} rujukan ke unit baru dari berkas unit dianggap sah pada uji ini "
            f"(references to units of the units file are accepted in the dry run)."
        )


# ---------------------------------------------------------------------------------------------- cycle


@hr.group()
def cycle():
    """Periode penilaian: buka, status, maju tahap (evaluation cycles)."""


def _periods_table(c: dict) -> str:
    headers, rows = rp.period_rows(c)
    return table([h.replace(" (", "\n(") for h in headers], rows)


def _period_title(c: dict, seq: int) -> tuple[str, str]:
    """A period's name in Bahasa and English, for headings."""
    if seq == 0:
        return "Tahunan", "annual"
    p = next((p for p in c.get("periods", []) if p["seq"] == seq), None)
    return (p["name_id"], p["name_en"]) if p else (f"Periode {seq}", f"period {seq}")


@cycle.command("open")
@click.option("--year", type=int, required=True)
@click.option("--period-type", type=click.Choice(["monthly", "quarterly", "semester"]), required=True)
@click.option(
    "--planning-deadline",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Batas penyusunan SKP (planning deadline), YYYY-MM-DD.",
)
@click.option("--name", default=None, help="Nama periode (default: Penilaian Kinerja <tahun>).")
@click.pass_context
@api_errors
def cycle_open(ctx, year, period_type, planning_deadline, name):
    """Buat periode penilaian dan masuk tahap perencanaan (create the cycle, draft → planning).
    Aman diulang (safe to repeat): an existing cycle of that year and name is reused."""
    client = client_of(ctx)
    body = {"year": year, "period_type": period_type}
    if planning_deadline:
        body["planning_deadline"] = planning_deadline.date().isoformat()
    if name:
        body["name"] = name
    try:
        c = client.post(f"{P}/cycles", body)
        click.echo(f"Periode penilaian dibuat (cycle created): #{c['id']} {c['name']}")
    except ApiError as exc:
        if exc.code != "cycle.exists":
            raise
        wanted = name or f"Penilaian Kinerja {year}"
        found = [x for x in client.paginate(f"{P}/cycles", {"year": year}) if x["name"] == wanted]
        if not found:
            raise
        c = found[0]
        click.echo(f"Periode penilaian sudah ada (cycle already exists): #{c['id']} {c['name']}")
    if c["state"] == "draft":
        try:
            after = client.post(f"{P}/cycles/{c['id']}/advance", {"expected": "draft"})
            click.echo(f"Tahap (stage): {rp.state_text(c)} → {rp.state_text(after)}")
            c = after
        except ApiError as exc:
            if exc.status != 409:
                raise
            c = client.get(f"{P}/cycles/{c['id']}")
            click.echo(f"Tahap saat ini (current stage): {rp.state_text(c)} [{c['state']}]")
    else:
        click.echo(f"Tahap saat ini (current stage): {rp.state_text(c)} [{c['state']}]; tidak diubah (unchanged)")
    heading("Tahapan dan tenggat", "stages and deadlines")
    click.echo(_periods_table(c))
    click.echo(f"\nID periode (cycle id): {c['id']}")


@cycle.command("advance")
@click.argument("cycle_id", type=int)
@click.option(
    "--expected",
    default=None,
    help="Tahap yang diharapkan, mis. planning atau monitoring:2:self_assessment (expected state); "
    "default: the state read just before.",
)
@click.pass_context
@api_errors
def cycle_advance(ctx, cycle_id, expected):
    """Majukan periode satu langkah (advance the cycle one step)."""
    client = client_of(ctx)
    before = client.get(f"{P}/cycles/{cycle_id}")
    expected = expected or before["state"]
    try:
        after = client.post(f"{P}/cycles/{cycle_id}/advance", {"expected": expected})
    except ApiError as exc:
        if exc.status != 409:
            raise
        now = client.get(f"{P}/cycles/{cycle_id}")
        raise HrError(
            f"tahap tidak sesuai (not at the expected stage): diharapkan (expected) {expected}; "
            f"tahap saat ini (current stage): {now['state']} — {rp.state_text(now)}. "
            f"Tidak ada yang diubah (nothing changed)."
        )
    click.echo(f"Periode #{cycle_id} {after['name']}: {before['state']} → {after['state']}")
    click.echo(f"  {rp.state_text(before)} → {rp.state_text(after)}")


@cycle.command("status")
@click.argument("cycle_id", type=int)
@click.pass_context
@api_errors
def cycle_status(ctx, cycle_id):
    """Tahap, tenggat dan kelengkapan per unit (state, deadlines and completion per unit)."""
    client = client_of(ctx)
    ov = rp.gather_overview(client, cycle_id, progress=progress)
    c = ov["cycle"]
    click.secho(
        f"{ov['agency']['name']} ({ov['agency']['code']}) — #{c['id']} {c['name']} ({c['period_type']})", bold=True
    )
    click.echo(f"Tahap (stage): {rp.state_text(c)} [{c['state']}]")
    heading("Tahapan dan tenggat", "stages and deadlines")
    click.echo(_periods_table(c))

    heading("SKP per unit dan status", "plans per unit by status")
    shown = [
        s for s in rp.PLAN_STATUSES if s != "revised" or any(x.get("revised") for x in ov["plans_per_unit"].values())
    ]
    rows = []
    totals = Counter()
    for u in ov["units"]:
        counts = ov["plans_per_unit"].get(u["code"], Counter())
        staff = rp.staff_of(ov, u["code"])
        none = staff - sum(counts.values())
        totals.update(counts)
        totals["_none"] += none
        totals["_staff"] += staff
        rows.append(
            [
                "  " * u["depth"] + u["code"],
                u["name"][:32],
                *(counts.get(s, 0) for s in shown),
                none,
                bar(counts.get("approved", 0), staff),
            ]
        )
    rows.append(
        [
            "Jumlah",
            "(total)",
            *(totals.get(s, 0) for s in shown),
            totals["_none"],
            bar(totals.get("approved", 0), totals["_staff"]),
        ]
    )
    headers = [
        "Unit",
        "Nama\n(name)",
        *(f"{rp.LABELS[s][0]}\n({s})" for s in shown),
        "Belum ada\n(no plan)",
        "Disetujui/pegawai\n(approved/staff)",
    ]
    click.echo(table(headers, rows, right=set(range(2, 3 + len(shown)))))

    for seq in sorted(ov["evaluations"], key=lambda s: (s == 0, s)):
        evs = ov["evaluations"][seq]
        t_id, t_en = _period_title(c, seq)
        heading(f"Evaluasi per unit dan status — {t_id}", f"evaluations per unit by status, {t_en}")
        if not evs:
            click.echo("Belum ada evaluasi (no evaluations yet).")
            continue
        per_unit: dict[str, Counter] = {}
        for e in evs:
            per_unit.setdefault(e["unit_code"], Counter())[e["status"]] += 1
        order = [u["code"] for u in ov["units"] if u["code"] in per_unit] + sorted(
            set(per_unit) - {u["code"] for u in ov["units"]}
        )
        rows = []
        for code in order:
            cnt = per_unit[code]
            total = sum(cnt.values())
            rows.append(
                [
                    code,
                    *(cnt.get(s, 0) for s in rp.EVAL_STATUSES),
                    bar(sum(cnt.get(s, 0) for s in rp.EVAL_RATED), total, 12),
                ]
            )
        allc = Counter(e["status"] for e in evs)
        rows.append(
            [
                "Jumlah (total)",
                *(allc.get(s, 0) for s in rp.EVAL_STATUSES),
                bar(sum(allc.get(s, 0) for s in rp.EVAL_RATED), len(evs), 12),
            ]
        )
        click.echo(
            table(
                ["Unit", *(f"{rp.LABELS[s][0]}\n({s})" for s in rp.EVAL_STATUSES), "Dinilai/jumlah\n(rated/total)"],
                rows,
                right=set(range(1, 1 + len(rp.EVAL_STATUSES))),
            )
        )

    for seq, cal in sorted(ov["calibration"].items(), key=lambda kv: (kv[0] == 0, kv[0])):
        t_id, t_en = _period_title(c, seq)
        heading(f"Kalibrasi — {t_id}", f"calibration per unit, {t_en}")
        rows = []
        for u in cal.get("units", []):
            org = u.get("org_result") or "–"
            viol = "; ".join(rp.violation_text(v) for v in u["violations"]) or (
                "hasil organisasi belum ada (no org result)" if u.get("missing_org_result") else "sesuai (on the curve)"
            )
            rows.append(
                [
                    u["unit_code"],
                    org,
                    u["headcount"],
                    u.get("unrated", 0),
                    " ".join(f"{rp.PREDIKAT_SHORT[b['predikat']]}:{b['count']}" for b in u["bands"]),
                    "ya (yes)" if u.get("override") else "–",
                    "ya (yes)" if u.get("sign_off_blocked") else "tidak (no)",
                    viol,
                ]
            )
        click.echo(
            table(
                [
                    "Unit",
                    "Hasil org.\n(org result)",
                    "Pegawai\n(staff)",
                    "Belum dinilai\n(unrated)",
                    "Predikat\n(counts)",
                    "Pengecualian\n(override)",
                    "TTD diblokir\n(sign-off blocked)",
                    "Pelanggaran\n(violations)",
                ],
                rows,
                right={2, 3},
            )
        )
    for note in ov["notes"]:
        click.echo(f"\nCatatan (note): {note}")


# ---------------------------------------------------------------------------------------------- report


@hr.command("report")
@click.argument("cycle_id", type=int)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder keluaran (output folder).",
)
@click.option("--pdf", is_flag=True, help="Tulis juga report.pdf (also write the PDF).")
@click.option(
    "--documents",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Simpan dokumen evaluasi N pertama (save the first N evaluation documents).",
)
@click.pass_context
@api_errors
def report_(ctx, cycle_id, out_dir, pdf, documents):
    """Laporan siklus HR: HTML dan PDF (the HR cycle report)."""
    client = client_of(ctx)
    paths = rp.build_report(client, cycle_id, out_dir, pdf=pdf, documents=documents, progress=progress)
    heading("Laporan ditulis", "report written")
    click.echo(f"HTML: {paths['html']}")
    if paths["pdf"]:
        click.echo(f"PDF:  {paths['pdf']}")
    click.echo(
        f"Dokumen evaluasi (evaluation documents): {len(paths['documents'])}"
        + (f" di (in) {out_dir / 'documents'}" if paths["documents"] else "")
    )
    click.echo(f"Panggilan API (API calls): {client.calls}")
