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

This module holds the ``hr`` group and ``hr report``; the other commands are in
:mod:`kinerja.hr_import` and :mod:`kinerja.hr_cycle`, the text output in :mod:`kinerja.hr_output`.
"""

from __future__ import annotations

from pathlib import Path

import click

from . import report as rp
from .hr_api import api_errors, client_of
from .hr_cycle import cycle
from .hr_import import import_
from .hr_output import heading, progress
from .http import DEFAULT_URL

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


for _command in (import_, cycle):
    hr.add_command(_command)


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
