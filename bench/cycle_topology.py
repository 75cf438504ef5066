"""The private production topology of the cycle benchmark (``bench/cycle_bench.py``): started with
the project's own launcher (``kinerja up``) under a name, a folder and ports of its own, watched
(resident memory of every process from /proc, outbox rows, queue depths, delivered notifications)
and removed again (``kinerja down``, its databases, its role, its RabbitMQ vhost, its folder)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
SERVICES = ("plans", "reviews", "surveys", "notifications")


class BenchError(RuntimeError):
    """The run is broken: its figures would mean nothing."""


class Topology:
    def __init__(self, name: str, up_dir: Path, port_base: int, port: int, agency: str, extra_env: dict):
        self.name, self.up_dir, self.port_base, self.port, self.agency = name, up_dir.resolve(), port_base, port, agency
        self.env = {
            "UP_NAME": name,
            "KINERJA_UP_DIR": str(self.up_dir),
            "UP_PORT_BASE": str(port_base),
            "UP_PORT": str(port),
            "UP_AGENCY": agency,
            # the services, flows and launcher of this checkout: the editable install maps them to
            # the checkout that made the .venv, so a worktree sharing it ran that one's code
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
            **extra_env,
        }
        self.gateway = f"http://127.0.0.1:{port}"
        self.prefect_api = f"http://127.0.0.1:{port_base + 42}/api"
        self.issuer = f"http://127.0.0.1:{port_base + 90}"
        self._store = None

    # ------------------------------------------------------------------ up / down / drop

    def _run(self, argv: list[str], timeout: float) -> subprocess.CompletedProcess:
        env = {**os.environ, **self.env}
        for key in ("PREFECT_API_URL", "PREFECT_HOME", "KINERJA_TOKEN", "DATABASE_URL", "BROKER_URL"):
            env.pop(key, None)  # the launcher sets its own
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout, cwd=ROOT)

    def up(self) -> float:
        started = time.monotonic()
        done = self._run([str(BIN / "kinerja"), "up"], timeout=900)
        (self.up_dir / "bench-up.log").parent.mkdir(parents=True, exist_ok=True)
        (self.up_dir / "bench-up.log").write_text(done.stdout + done.stderr)
        if done.returncode != 0:
            raise BenchError(f"kinerja up failed (exit {done.returncode}): {(done.stderr or done.stdout)[-2000:]}")
        return time.monotonic() - started

    def down(self) -> str:
        if not (self.up_dir / "run").exists():
            return "nothing to stop"
        done = self._run([str(BIN / "kinerja"), "down"], timeout=300)
        return (done.stdout + done.stderr).strip()

    def drop(self, keep_dir: bool = False) -> list[str]:
        """The databases with the topology's prefix, its role, its vhost (and its folder)."""
        import psycopg

        dropped = []
        with psycopg.connect("host=127.0.0.1 user=postgres dbname=postgres", autocommit=True) as conn:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT datname FROM pg_database WHERE datname LIKE %s", (self.name.replace("_", r"\_") + r"\_%",)
                )
            ]
            for db in names:
                conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
                dropped.append(db)
            role = f"{self.name.lower()}_app"
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(f'DROP ROLE "{role}"')
                dropped.append(f"role {role}")
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        listed = subprocess.run([ctl, "-q", "list_vhosts"], capture_output=True, text=True, timeout=60)
        if self.name in listed.stdout.split():
            subprocess.run([ctl, "-q", "delete_vhost", self.name], capture_output=True, timeout=120, check=True)
            dropped.append(f"vhost {self.name}")
        if not keep_dir and self.up_dir.exists():
            shutil.rmtree(self.up_dir, ignore_errors=True)
        return dropped

    # ------------------------------------------------------------------ identity

    def token(self, roles, nip: str | None = None, sub: str | None = None, ttl: int = 8 * 3600) -> str:
        """An RS256 access token from the topology's development provider (its key, signed here)."""
        if self._store is None:
            import jwt

            from kinerja.devidp_store import IdpStore

            store = IdpStore(self.up_dir / "idp")
            key, kid = store.private_key(), store.public_jwk()["kid"]
            # IdpStore.sign reads and parses the PEM key for every token (~60 ms of CPU): once is enough here
            store.sign = lambda claims: jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})
            self._store = store
        return self._store.access_token(
            issuer=self.issuer,
            audience="kinerja",
            sub=sub or nip or "bench-hr",
            roles=list(roles),
            agency=self.agency,
            nip=nip,
            ttl=ttl,
        )

    # ------------------------------------------------------------------ processes

    def roots(self) -> dict[str, int]:
        """The processes ``kinerja up`` started (its pid files, checked as it checks them)."""
        from kinerja import up_processes

        prior = os.environ.get("KINERJA_UP_DIR")
        os.environ["KINERJA_UP_DIR"] = str(self.up_dir)
        try:
            out = {}
            for path in sorted((self.up_dir / "run").glob("*.pid")):
                pid = up_processes.running(path.stem)
                if pid:
                    out[path.stem] = pid
            return out
        finally:
            if prior is None:
                os.environ.pop("KINERJA_UP_DIR", None)
            else:
                os.environ["KINERJA_UP_DIR"] = prior

    # ------------------------------------------------------------------ databases and broker

    def sql(self, service: str, query: str) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 user=postgres dbname={self.name}_{service}") as conn:
            return conn.execute(query).fetchall()

    def outbox(self) -> dict[str, dict]:
        return {
            svc: dict(
                zip(
                    ("total", "pending"),
                    self.sql(svc, "SELECT count(*), count(*) FILTER (WHERE sent_at IS NULL) FROM outbox")[0],
                )
            )
            for svc in SERVICES
        }

    def dead_letters(self) -> dict[str, int]:
        return {svc: self.sql(svc, "SELECT count(*) FROM dead_letters")[0][0] for svc in SERVICES}

    def notifications(self) -> dict:
        inbox = self.sql("notifications", "SELECT count(*) FROM notifications")[0][0]
        rows = self.sql("notifications", "SELECT channel, status, count(*) FROM deliveries GROUP BY 1, 2")
        deliveries: dict[str, dict[str, int]] = defaultdict(dict)
        for channel, status, n in rows:
            deliveries[str(channel)][str(status)] = n
        return {"inbox": inbox, "deliveries": dict(deliveries)}

    def queue_depths(self) -> dict[str, int]:
        """Messages ready or unacknowledged in the topology's queues (rabbitmqctl)."""
        ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
        done = subprocess.run(
            [ctl, "-q", "list_queues", "-p", self.name, "name", "messages"], capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            raise BenchError(f"rabbitmqctl list_queues failed: {done.stderr[-300:]}")
        out = {}
        for line in done.stdout.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                out[parts[0]] = int(parts[1])
        return out

    def settle(self, timeout: float = 600.0) -> float:
        """Wait until every outbox row is sent and every queue (but the dead-letter ones) is empty,
        twice in a row; returns the seconds waited. A queue that never drains breaks the run."""
        started = time.monotonic()
        quiet = 0
        last = None
        self.busy_until: dict[str, float] = {}  # outbox or queue → seconds into the wait it was last seen busy
        while time.monotonic() - started < timeout:
            box = self.outbox()
            queues = {q: n for q, n in self.queue_depths().items() if not q.endswith(".dlq")}
            seen = time.monotonic() - started
            for name, n in [*((f"{svc} outbox", b["pending"]) for svc, b in box.items()), *queues.items()]:
                if n:
                    self.busy_until[name] = seen
            pending = sum(b["pending"] for b in box.values()) + sum(queues.values())
            state = (pending, sum(b["total"] for b in box.values()))
            quiet = quiet + 1 if pending == 0 and state == last else (1 if pending == 0 else 0)
            last = state
            if quiet >= 2:
                return time.monotonic() - started
            time.sleep(1.0)
        raise BenchError(f"the events did not settle within {timeout:.0f} s: outbox {box}, queues {queues}")


class RssSampler:
    """Resident memory of every process of the topology (and their children: gunicorn workers, the
    flow-run processes of the Prefect worker), read from /proc every ``every`` seconds."""

    def __init__(self, topology: Topology, every: float = 2.0):
        self.topology, self.every = topology, every
        self.samples: dict[tuple[str, int], list[tuple[float, int]]] = defaultdict(list)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self.t0 = time.monotonic()

    def start(self) -> RssSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.sample()
            except Exception:  # a process that exits between two reads; the next sample goes on
                pass
            self._stop.wait(self.every)

    def sample(self) -> None:
        now = time.monotonic() - self.t0
        table = _process_table()
        children: dict[int, list[int]] = defaultdict(list)
        for pid, (ppid, _) in table.items():
            children[ppid].append(pid)
        for name, root in self.topology.roots().items():
            todo = [(root, name)]
            while todo:
                pid, label = todo.pop()
                rss = _rss(pid)
                if rss:
                    self.samples[(label, pid)].append((now, rss))
                kid_label = {"prefect-worker": "prefect-worker/flow-run"}.get(name, f"{name}/worker")
                if label.endswith("/flow-run"):
                    kid_label = label  # a flow run's own children count as the flow run
                todo.extend((child, kid_label) for child in children.get(pid, []))

    def by_label(self) -> dict[str, list[list[tuple[float, int]]]]:
        out: dict[str, list] = defaultdict(list)
        for (label, _), series in self.samples.items():
            out[label].append(series)
        return out


def _process_table() -> dict[int, tuple[int, str]]:
    out = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                out[int(entry.name)] = (int(fields[1]), fields[0])
            except (OSError, IndexError, ValueError):
                continue
    return out


def _rss(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}
