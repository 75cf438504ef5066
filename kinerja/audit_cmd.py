"""``kinerja audit verify``: each service's audit chain checked row by row and against its signed
anchors, on the database the service itself uses (embedded: ``var/<service>.db``; production:
``<SERVICE>_DATABASE_URL`` or ``DATABASE_URL``)."""

from __future__ import annotations

import os
from pathlib import Path

import click
from sqlalchemy import MetaData, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from services.common.audit import ChainReport, check
from services.common.audit_watch import AuditSettings, anchor_book, latest_valid
from services.common.config import EMBEDDED, PRODUCTION, Config, ConfigError, load_settings, service_database_url
from services.common.db import make_engine
from services.common.tables import define_platform_tables

from .registry import SERVICES


class Unreadable(Exception):
    """The service's audit log could not be read (no database, not migrated, unreachable)."""


def service_config(service: str, env: dict | None = None) -> Config:
    """The service's database, mode and ``var/`` as the service reads them, without the settings
    the check does not need (tokens, broker)."""
    env = os.environ if env is None else env
    mode = env.get("KINERJA_MODE") or EMBEDDED
    if mode not in (EMBEDDED, PRODUCTION):
        raise ConfigError(f"KINERJA_MODE must be '{EMBEDDED}' or '{PRODUCTION}', not {mode!r}")
    var_dir = Path(env.get("KINERJA_VAR") or "var")
    return Config(service=service, mode=mode, database_url=service_database_url(service, env, var_dir), var_dir=var_dir)


def verify_service(config: Config, anchor: bool = False) -> tuple[ChainReport, list[str]]:
    """The service's report and notes (anchors off, a new anchor). ``anchor``: anchor a good head."""
    settings = load_settings(AuditSettings)
    book = anchor_book(config, settings)
    url = make_url(config.database_url)
    if url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        raise Unreadable(f"no database at {url.database}")
    tables = define_platform_tables(MetaData())
    engine = make_engine(config.database_url)
    try:
        if not inspect(engine).has_table(tables.audit.name):
            raise Unreadable("no audit_log table (run `kinerja db upgrade`)")
        anchors = book.read() if book else []
        with Session(engine) as session:
            report = check(session, tables, anchors=anchors)
    except Unreadable:
        raise
    except Exception as exc:  # noqa: BLE001 - reported per service, the others still checked
        raise Unreadable(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        engine.dispose()
    notes = []
    if book is None:
        notes.append("anchors not checked and none written: set AUDIT_ANCHOR_KEY")
    elif anchor and report.ok and report.head_id and latest_valid(anchors) != (report.head_id, report.head_hash):
        book.append(report.head_id, report.head_hash, report.rows)
        notes.append(f"anchored row {report.head_id} in {book.path}")
    return report, notes


@click.group("audit")
def audit():
    """The audit log: verify its hash chain and anchors."""


@audit.command("verify")
@click.option("--service", "services", multiple=True, type=click.Choice(SERVICES), help="Only these (default: all).")
@click.option("--anchor", is_flag=True, help="Also anchor each good head (where no worker runs the periodic job).")
def verify(services, anchor):
    """Check every row's hash and link and every anchor; name the first bad row of each service.
    Exit status 1 when any service's log does not verify or cannot be read."""
    failed = False
    for name in services or SERVICES:
        config = service_config(name)
        try:
            report, notes = verify_service(config, anchor=anchor)
        except Unreadable as exc:
            click.echo(f"{name}: cannot verify: {exc}")
            failed = True
            continue
        failed |= not report.ok
        click.echo(f"{name}: {report.describe()}" + "".join(f"; {note}" for note in notes))
    if failed:
        raise SystemExit(1)
