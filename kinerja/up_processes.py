"""The processes ``make up`` starts and ``make down`` stops: pid files that name one process for good
(pid, start time, argv, checked against /proc), starting a process in a session of its own, waiting
until it answers, one-shot commands, and the process groups a process and its descendants own."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from .up_config import Proc, UpError, up_dir


def pidfile(name: str) -> Path:
    return up_dir() / "run" / f"{name}.pid"


def cmdline(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return None


def started_at(pid: int) -> str | None:
    """The process's start time (clock ticks since boot, /proc/<pid>/stat field 22): with the pid,
    it names one process for good — a reused pid has another."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _runs(cmd: str | None, argv: list[str]) -> bool:
    """Whether the command line ``cmd`` is the program ``argv`` (after its exec)."""
    return bool(cmd) and bool(argv) and Path(argv[0]).name in cmd and " ".join(argv[1:]) in cmd


def running(name: str) -> int | None:
    """The pid of ``name`` if the process we started is still that process."""
    path = pidfile(name)
    if not path.exists():
        return None
    try:
        info = json.loads(path.read_text())
        pid = int(info["pid"])
    except (ValueError, KeyError, OSError):
        return None
    if info.get("started") and started_at(pid) != info["started"]:
        return None  # gone, or the pid now belongs to another process
    if not _runs(cmdline(pid), info.get("argv") or []):
        return None
    return pid


def ours(name: str) -> bool:
    return running(name) is not None


def start(proc: Proc, base: Path, env: dict) -> bool:
    """Start ``proc`` unless it runs already; returns True when it was started now."""
    if running(proc.name):
        return False
    (base / "logs").mkdir(parents=True, exist_ok=True)
    (base / "run").mkdir(parents=True, exist_ok=True)
    for key in ("PROMETHEUS_MULTIPROC_DIR",):
        if key in proc.env:
            Path(proc.env[key]).mkdir(parents=True, exist_ok=True)
    log = open(base / "logs" / f"{proc.name}.log", "ab")
    child = subprocess.Popen(
        proc.argv,
        env={**os.environ, **env, **proc.env},
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=str(base),
        start_new_session=True,
    )
    log.close()
    started = None
    for _ in range(100):  # until the child has become the program (exec done)
        if _runs(cmdline(child.pid), proc.argv):
            started = started_at(child.pid)
            break
        if child.poll() is not None:
            break
        time.sleep(0.02)
    pidfile(proc.name).write_text(json.dumps({"pid": child.pid, "started": started, "argv": proc.argv}))
    return True


def wait_ready(proc: Proc, base: Path, timeout: float = 90.0) -> None:
    if not proc.ready:
        return
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not running(proc.name):
            break
        try:
            r = httpx.get(proc.ready, timeout=3)
            if r.status_code == 200:
                return
            last = f"HTTP {r.status_code}: {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.3)
    tail = _tail(base / "logs" / f"{proc.name}.log")
    state = "is not ready" if running(proc.name) else "exited"
    raise UpError(
        f"{proc.name} {state} ({proc.ready}: {last or 'no answer'}); the end of its log "
        f"({base / 'logs' / (proc.name + '.log')}):\n{tail}"
    )


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def run_once(argv: list[str], env: dict, what: str, base: Path) -> str:
    """Run a one-shot command to its end; its output, or an :class:`UpError` with its error."""
    done = subprocess.run(argv, env={**os.environ, **env}, capture_output=True, text=True, cwd=str(base))
    if done.returncode != 0:
        raise UpError(
            f"{what} failed ({' '.join(argv[:4])} …, exit {done.returncode}):\n{(done.stderr or done.stdout)[-3000:]}"
        )
    return done.stdout


# ---------------------------------------------------------------------- process groups


def _processes() -> dict[int, tuple[int, int]]:
    """Every live process: pid → (parent pid, process group)."""
    out = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z":
            out[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return out


def groups_under(pid: int) -> set[int]:
    """The process groups of ``pid`` and all its descendants (a Prefect process worker starts each
    flow run in a session of its own, which the worker's group does not include)."""
    table = _processes()
    children: dict[int, list[int]] = {}
    for child, (parent, _) in table.items():
        children.setdefault(parent, []).append(child)
    groups, todo = {pid}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            groups.add(table[child][1])
            todo.append(child)
    return groups


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still alive (zombies do not count)."""
    return any(group == pgid for _, group in _processes().values())


def signal_groups(groups: set[int], sig: int) -> None:
    """Send ``sig`` to every group of ``groups`` (one gone already is fine)."""
    for group in groups:
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            pass


def stop(names: list[str], timeout: float = 20.0) -> list[str]:
    """Stop the processes of ``names`` that still run as we started them, with every process group
    under them: SIGTERM, then SIGKILL for what has not stopped after ``timeout`` seconds. Returns
    the names stopped, in the order they stopped (``<name> (killed)`` for the killed)."""
    stopped = []
    groups: dict[str, set[int]] = {}
    for name in names:
        pid = running(name)
        if pid:
            groups[name] = groups_under(pid)
            signal_groups(groups[name], signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while groups and time.monotonic() < deadline:
        for name, owned in list(groups.items()):
            if not any(group_alive(g) for g in owned):
                stopped.append(name)
                groups.pop(name)
        time.sleep(0.2)
    for name, owned in groups.items():  # did not stop in time
        signal_groups(owned, signal.SIGKILL)
        stopped.append(f"{name} (killed)")
    return stopped
