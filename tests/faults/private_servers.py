"""A PostgreSQL cluster and a RabbitMQ node of the fault suite's own: its own ports and data folders
under a temporary folder, so stopping, killing and restarting them never touches the machine's shared
servers (5432, 5672) that the other tests use at the same time.

Both run as their packages' system users (``postgres``, ``rabbitmq``) through ``runuser``: initdb refuses
root, and the RabbitMQ command line tools authenticate with the ``rabbitmq`` user's Erlang cookie. A
node is chosen by ``RABBITMQ_NODENAME`` in the environment of ``rabbitmqctl`` (``make up`` runs it too,
to create its vhost: it gets the same variable)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path


def _reachable(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_port(port: int, up: bool, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _reachable(port) != up:
        if time.monotonic() > deadline:
            raise AssertionError(f"port {port} not {'open' if up else 'closed'} within {timeout:.0f} s")
        time.sleep(0.1)


def usable() -> str | None:
    """Why the private servers cannot run here (None when they can)."""
    if os.geteuid() != 0 or not shutil.which("runuser"):
        return "the private servers need root (runuser -u postgres / rabbitmq)"
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        return "PostgreSQL's server programs are not installed (/usr/lib/postgresql/*/bin)"
    if not Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists():
        return "RabbitMQ is not installed (/usr/lib/rabbitmq/bin/rabbitmq-server)"
    return None


def _own(path: Path, user: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    shutil.chown(path, user, user)


class PrivatePostgres:
    def __init__(self, base: Path, port: int):
        self.dir, self.port = base, port
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[-1]).parent
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _ctl(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), *args],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def start(self) -> None:
        _own(self.dir, "postgres")
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "initdb"), "-D", str(self.dir / "data")]
            + ["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self._start()

    def _start(self) -> None:
        # with its log in a file (-l): else the server keeps the caller's stdout pipe open for good
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._ctl("-l", str(self.dir / "postgres.log"), "-w", "-o", options, "start")

    def restart(self, down: float = 0.0) -> None:
        """A fast shutdown (the server ends every session: the services' pooled connections break), ``down``
        seconds without a server, and a start."""
        self._ctl("-m", "fast", "-w", "stop")
        time.sleep(down)
        self._start()

    def stop(self) -> None:
        pidfile = self.dir / "data" / "postmaster.pid"
        if not pidfile.exists():
            return
        try:
            self._ctl("-m", "immediate", "-w", "stop")
        except (subprocess.SubprocessError, OSError):
            with contextlib.suppress(OSError, ValueError, IndexError):  # our postmaster, by its own pid file
                os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)


class PrivateRabbit:
    def __init__(self, base: Path, port: int, name: str):
        self.dir, self.port, self.node = base, port, f"{name}@localhost"
        self.url = f"amqp://guest:guest@127.0.0.1:{port}/"

    @property
    def env(self) -> dict:
        """What ``rabbitmqctl`` needs to talk to this node rather than the shared one."""
        return {"RABBITMQ_NODENAME": self.node}

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            ["rabbitmqctl", "-q", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            raise AssertionError(f"rabbitmqctl {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> None:
        _own(self.dir, "rabbitmq")
        for sub in ("mnesia", "log"):
            _own(self.dir / sub, "rabbitmq")
        files = {
            "rabbitmq.conf": f"listeners.tcp.local = 127.0.0.1:{self.port}\n",
            "enabled_plugins": "[].\n",  # no management listener (15672 is the shared node's)
            "rabbitmq-env.conf": "",  # not /etc/rabbitmq/rabbitmq-env.conf (it names the shared node)
        }
        for name, text in files.items():
            (self.dir / name).write_text(text)
            shutil.chown(self.dir / name, "rabbitmq", "rabbitmq")
        env = {
            **os.environ,
            **self.env,
            "HOME": "/var/lib/rabbitmq",  # the rabbitmq user's Erlang cookie, which rabbitmqctl uses too
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.port + 1),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(self.dir / "rabbitmq-env.conf"),
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }
        subprocess.run(
            ["runuser", "-u", "rabbitmq", "--", "/usr/lib/rabbitmq/bin/rabbitmq-server", "-detached"],
            env=env,
            cwd="/var/lib/rabbitmq",
            check=True,
            capture_output=True,
            timeout=60,
        )
        wait_port(self.port, True, 90)

    def stop_app(self) -> None:
        """The broker stops (its port closes); the Erlang node stays, so it comes back in a second."""
        self.ctl("stop_app")
        wait_port(self.port, False, 30)

    def start_app(self) -> None:
        self.ctl("start_app")
        wait_port(self.port, True, 60)

    def stop(self) -> None:
        try:
            self.ctl("stop", timeout=60)
        except (AssertionError, subprocess.TimeoutExpired):
            # not running, or not answering: end the Erlang VM that holds our data folder (and only it)
            mnesia = str(self.dir / "mnesia").encode()
            for proc in Path("/proc").glob("[0-9]*"):
                with contextlib.suppress(OSError):
                    if mnesia in (proc / "cmdline").read_bytes():
                        os.kill(int(proc.name), signal.SIGKILL)
