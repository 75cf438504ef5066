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
- :func:`ephemeral_api` opens that API once for a block of several flow runs (the demo);
  ``background=True`` returns at once while the server starts in a thread, and the first
  :func:`run_flow` in the block waits for it (the demo's first minute is the people's work, so the
  server's start costs nothing).
"""

from __future__ import annotations

import contextlib
import inspect
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

__all__ = ["ephemeral_api", "in_flow_run", "invoke", "log", "run_flow", "run_plain", "wait_for_api"]

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


class _ApiProcess:
    """Prefect's API server (``prefect.server.api.server:create_app`` under uvicorn, through
    :mod:`flows.prefect_server`) in a child process, as Prefect's own ephemeral mode runs it, but
    quiet (its output goes to ``log_path``), with its SQLite write transactions begun IMMEDIATE,
    and without importing ``prefect.server`` here: that import alone costs this process seconds
    of CPU, and only the child needs it."""

    def __init__(self, log_path: Path):
        self.port = _free_port()
        self.api_url = f"http://127.0.0.1:{self.port}/api"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def _spawn(self) -> subprocess.Popen:
        import prefect.settings as ps

        out = open(self.log_path, "ab")
        try:
            server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_EPHEMERAL": "1", "PREFECT__SERVER_FINAL": "1"}
            return subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "--app-dir",
                    str(Path(__file__).resolve().parent.parent),
                    "--factory",
                    "flows.prefect_server:create_app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--log-level",
                    "error",
                    "--lifespan",
                    "on",
                ],
                env={
                    **os.environ,
                    **server_env,
                    **ps.get_current_settings().to_environment_variables(exclude_unset=True),
                },
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        finally:
            out.close()  # the child keeps its own descriptor

    def start(self, timeout: float, background: bool = False) -> None:
        self.process = self._spawn()
        if background:
            self._thread = threading.Thread(target=self._await, args=(timeout,), name="prefect-api-start", daemon=True)
            self._thread.start()
        else:
            self._await(timeout)
            self.wait()

    def _await(self, timeout: float) -> None:
        import httpx

        stop = time.monotonic() + timeout
        try:
            with httpx.Client(timeout=2) as client:
                while True:
                    if self.process.poll() is not None:
                        raise RuntimeError(f"it exited with code {self.process.returncode} (see {self.log_path})")
                    try:
                        if client.get(f"{self.api_url}/health").status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    if time.monotonic() >= stop:
                        raise RuntimeError(f"no answer after {timeout} s (see {self.log_path})")
                    time.sleep(0.1)
        except BaseException as exc:  # handed to whoever waits
            self.error = exc

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            raise RuntimeError(f"the ephemeral Prefect API did not start: {self.error}") from self.error

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


_current: _ApiProcess | None = None


def wait_for_api() -> None:
    """Wait for an ephemeral API started with ``background=True`` (a no-op otherwise)."""
    if _current is not None:
        _current.wait()


@contextlib.contextmanager
def ephemeral_api(
    startup_timeout: int = 60, log_path: Path | None = None, *, background: bool = False
) -> Iterator[str]:
    """A temporary Prefect API (SQLite under ``PREFECT_HOME``) for the duration of the block; yields
    its URL. Its output goes to ``log_path`` instead of the terminal. With ``background`` the block
    starts while the server is still starting; :func:`run_flow` (or :func:`wait_for_api`) waits for it."""
    global _current
    import prefect.settings as ps

    home = Path(os.environ.get("PREFECT_HOME") or ps.PREFECT_HOME.value()).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    server = _ApiProcess(log_path or home / "ephemeral-server.log")
    prior, _current = _current, server
    try:
        server.start(startup_timeout, background=background)
        with ps.temporary_settings(
            updates={ps.PREFECT_API_URL: server.api_url, ps.PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
        ):
            try:
                yield server.api_url
            finally:
                if server.error is None and server.process is not None:
                    _drain()
    finally:
        server.stop()
        _current = prior


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
        wait_for_api()
        return flow(**params)
    with ephemeral_api():
        return flow(**params)
