"""The ephemeral Prefect API's SQLite transactions (``flows.prefect_server``): begun IMMEDIATE,
a write transaction takes the lock up front and waits for another writer, instead of failing
with ``database is locked`` when it upgrades from a read (the server's 503 and the client's 2 s
back-off at every such sub-flow start, PrefectHQ/prefect#18934). Each check runs in its own
process: importing the server patches Prefect's configuration class for that process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import asyncio, sys
import sqlalchemy as sa
if sys.argv[2] == "patched":
    import flows.prefect_server  # noqa: F401  (what uvicorn loads in the API's process)
from prefect.server.database.configurations import AioSqliteConfiguration

async def main():
    cfg = AioSqliteConfiguration(connection_url="sqlite+aiosqlite:///" + sys.argv[1])
    engine = await cfg.engine()
    begins = []
    sa.event.listen(engine.sync_engine, "before_cursor_execute",
                    lambda conn, cursor, statement, *rest: begins.append(statement)
                    if statement.startswith("BEGIN") else None)
    session = await cfg.session(engine)
    async with session:
        async with cfg.begin_transaction(session):  # how the server opens each write (no FOR UPDATE)
            await session.execute(sa.text("SELECT 1"))
    await engine.dispose()
    print(" | ".join(begins))

asyncio.run(main())
"""


def _begins(tmp_path: Path, mode: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / f"{mode}.db"), mode],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip()


def test_the_api_begins_its_sqlite_transactions_immediate(tmp_path):
    assert _begins(tmp_path, "patched") == "BEGIN IMMEDIATE"


def test_prefect_alone_begins_them_deferred(tmp_path):
    """The behaviour the module changes (if Prefect fixes it upstream, the module can go)."""
    assert _begins(tmp_path, "plain") == "BEGIN DEFERRED"
