"""``kinerja hr import``: the directory (units, employees) from CSV files, every file checked first
(a dry run) so that nothing is written when any row is wrong; the refused rows as a table."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import click

from .hr_api import HrError, api_errors, client_of
from .hr_output import heading, table
from .http import ApiError, Client
from .report import P


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


def _errors_table(errors: list[dict], rows: dict[int, dict] | None = None, key: str = "") -> str:
    """The refused rows; given the file's ``rows`` (by line), each with its ``key`` (code or NIP) too."""
    keyed = rows is not None
    return table(
        [
            "Baris\n(row)",
            *(["Kunci\n(key)"] if keyed else []),
            "Kolom\n(field)",
            "Kode\n(code)",
            "Keterangan\n(detail)",
        ],
        [
            [
                e.get("row") or "–",
                *([rows.get(e.get("row") or 0, {}).get(key, "")] if keyed else []),
                e.get("field") or "",
                e.get("code") or "",
                e.get("detail") or "",
            ]
            for e in errors
        ],
        right={0},
    )


@click.command("import")
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
        click.echo(_errors_table(report["errors"], _rows_by_line(texts[kind]), "code" if kind == "units" else "nip"))
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
                click.echo(_errors_table(report["errors"]))
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
