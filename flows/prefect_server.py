"""The app factory of the ephemeral Prefect API that :mod:`flows.runner` starts (uvicorn
``--factory flows.prefect_server:create_app``, in the child process only): Prefect's own
``prefect.server.api.server:create_app`` with one change for its SQLite database.

Prefect (3.8, and still 3.9.1) opens its SQLite write transactions ``DEFERRED``: a transaction that reads and then
writes (creating the task run that tracks a sub-flow does) fails at once with ``database is
locked`` when another connection wrote in between — the server's own event and log recorders do
so all the time while a flow runs. The server answers 503 and the client tries again after a
fixed 2 s back-off (PrefectHQ/prefect#18934, open). Measured here: five to six of the demo's
eleven sub-flow starts lost 2.0–2.5 s each that way. Begun ``IMMEDIATE`` (what Prefect itself
does for its ``with_for_update`` transactions and migrations), a transaction takes the write
lock up front and a concurrent writer waits for it in SQLite's busy handler (milliseconds)
instead of failing. Only explicit transactions change; plain reads stay as they are.
PostgreSQL (a production Prefect server) is untouched.
"""

from __future__ import annotations

from contextlib import asynccontextmanager

from prefect.server.database.configurations import AioSqliteConfiguration

_begin_transaction = AioSqliteConfiguration.begin_transaction


@asynccontextmanager
async def _begin_immediate(self, session, with_for_update: bool = False):
    async with _begin_transaction(self, session, with_for_update=True) as transaction:
        yield transaction


AioSqliteConfiguration.begin_transaction = _begin_immediate

from prefect.server.api.server import create_app  # noqa: E402  (after the change above)

__all__ = ["create_app"]
