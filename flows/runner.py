"""Running the flows: for real (a Prefect flow run against ``PREFECT_API_URL`` or a quiet ephemeral
API), or as plain functions (unit tests, no Prefect engine at all).

- :func:`invoke` is how a flow calls its tasks and sub-flows: inside a Prefect flow run they run as
  task runs / sub-flow runs (retries, states, logs); outside one — a flow called with ``.fn()`` —
  they run as their plain functions. So ``evaluation_cycle.fn(...)`` exercises every line of the
  flow against the services without starting Prefect.
- :func:`run_flow` runs a flow for real. Without ``PREFECT_API_URL`` it starts Prefect's
  ephemeral API itself, quietly: the server's own output (including the cancellation tracebacks
  it may print when stopped) goes to ``$PREFECT_HOME/ephemeral-server.log``, the log and event
  workers are drained before the server stops, and flow-run heartbeats (useful only to a
  long-lived server that watches for crashed runs) are off. A successful run prints its log
  lines and no traceback.
"""
from __future__ import annotations

import contextlib
import inspect
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

__all__ = ["ephemeral_api", "in_flow_run", "invoke", "log", "run_flow", "run_plain"]

_fallback = logging.getLogger("kinerja.flows")


def in_flow_run() -> bool:
    from prefect.context import FlowRunContext, TaskRunContext
    return FlowRunContext.get() is not None or TaskRunContext.get() is not None


def invoke(step: Any, *args, **kwargs) -> Any:
    """Call a task or sub-flow: as a Prefect run inside a flow run, as its function otherwise."""
    if in_flow_run():
        return step(*args, **kwargs)
    return getattr(step, "fn", step)(*args, **kwargs)


def log() -> logging.Logger | logging.LoggerAdapter:
    """The Prefect run logger (its lines go to the run's log), or a plain logger outside a run."""
    if in_flow_run():
        from prefect.logging import get_run_logger
        try:
            return get_run_logger()
        except Exception:  # e.g. a context without a logger
            return _fallback
    return _fallback


def run_plain(flow: Any, **params) -> Any:
    """Run a flow's function and its tasks as plain Python (unit tests)."""
    return flow.fn(**params)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def ephemeral_api(startup_timeout: int = 60, log_path: Path | None = None) -> Iterator[str]:
    """A temporary Prefect API (SQLite under ``PREFECT_HOME``) for the duration of the block; yields
    its URL. Its output goes to ``log_path`` instead of the terminal."""
    import prefect
    import prefect.settings as ps
    from prefect.server.api.server import SubprocessASGIServer

    home = Path(os.environ.get("PREFECT_HOME") or ps.PREFECT_HOME.value()).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    log_path = log_path or home / "ephemeral-server.log"

    class QuietServer(SubprocessASGIServer):
        def _run_uvicorn_command(self) -> subprocess.Popen:
            out = open(log_path, "ab")
            try:
                server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
                return subprocess.Popen(
                    [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
                     "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
                     "--port", str(self.port), "--log-level", "error", "--lifespan", "on"],
                    env={**os.environ, **server_env,
                         **ps.get_current_settings().to_environment_variables(exclude_unset=True)},
                    stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            finally:
                out.close()  # the child keeps its own descriptor

    server = QuietServer(port=_free_port())
    prior = SubprocessASGIServer._instances.get(None)
    SubprocessASGIServer._instances[None] = server  # code asking for "the" ephemeral server finds this one
    server.start(timeout=startup_timeout)
    try:
        with ps.temporary_settings(updates={ps.PREFECT_API_URL: server.api_url,
                                            ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            try:
                yield server.api_url
            finally:
                _drain()
    finally:
        server.stop()
        if prior is not None:
            SubprocessASGIServer._instances[None] = prior
        else:
            SubprocessASGIServer._instances.pop(None, None)


def _drain() -> None:
    """Send the buffered run logs and events before the API goes away (else: connection-error
    tracebacks at exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain():
        for fn in (lambda: APILogWorker.instance().drain(), EventsWorker.drain_all):
            try:
                result = fn()
                if inspect.isawaitable(result):
                    await result
            except RuntimeError:  # never started
                pass

    try:
        run_coro_as_sync(drain())
    except Exception:  # draining is best effort; the run's outcome is already decided
        _fallback.debug("draining Prefect workers failed", exc_info=True)


def run_flow(flow: Callable[..., Any], **params) -> Any:
    """Run ``flow`` as a real Prefect flow run: against ``PREFECT_API_URL`` when one is configured
    (a Prefect server, or a test harness), else against a quiet ephemeral API."""
    import prefect.settings as ps
    if ps.PREFECT_API_URL.value():
        return flow(**params)
    with ephemeral_api():
        return flow(**params)
