"""Notifications dispatcher throughput: N e-mails to a local SMTP sink and N webhook deliveries to a
local HTTP receiver, through the service's own recording and ``dispatch_due``.

Prints, per channel: how fast the deliveries were recorded (the consumer's half: rendering, inbox
rows, delivery rows), how fast ``dispatch_due`` sent them (claim → send outside the transaction
→ record outcomes, incl. a ``notifications.notification.sent`` outbox row per e-mail), the
connections the sink/receiver saw (one SMTP connection per dispatcher batch is the goal), and
peak memory (``resource.getrusage`` max RSS; with ``--tracemalloc`` also the Python heap peak of
the dispatch phase, which slows the run).

A benchmark, not a test: it asserts nothing about time; it exits non-zero only if messages are
missing (then the figures would mean nothing). Everything lives in a temporary directory that
is removed at the end (SQLite, the embedded mode).

    .venv/bin/python bench/notifications_bench.py [--count 100000] [--batch 500] [--tracemalloc]
        [--via-worker]  # the e-mails sent by the worker's job runner, as `kinerja worker` sends them
"""

from __future__ import annotations

import argparse
import http.server
import logging
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from bench.record import record  # noqa: E402
from services.common.bus import make_event  # noqa: E402
from services.common.config import Config  # noqa: E402
from services.notifications.app import create_app  # noqa: E402
from services.notifications.dispatch import dispatch_due  # noqa: E402
from services.notifications.models import Delivery, Person, WebhookSubscription  # noqa: E402
from services.notifications.recording import queue_webhooks  # noqa: E402
from services.notifications.reminders import request_reminders  # noqa: E402

AGENCY = "BENCH"
CHUNK = 5000  # recipients / events recorded per transaction


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _serve_smtp(port, messages, sessions, ready, stop) -> None:
    """The SMTP sink, in its own process (so it does not share the dispatcher's GIL)."""
    seen: set[int] = set()

    class Handler:
        async def handle_EHLO(self, server, session, envelope, hostname, responses):
            if id(session) not in seen:
                seen.add(id(session))
                with sessions.get_lock():
                    sessions.value += 1
            session.host_name = hostname
            return responses

        async def handle_DATA(self, server, session, envelope):
            with messages.get_lock():
                messages.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


def _serve_http(port, requests, peers, ready, stop) -> None:
    """The webhook receiver (HTTP/1.1 keep-alive), in its own process."""
    seen: set = set()
    lock = threading.Lock()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with lock:
                if self.client_address not in seen:
                    seen.add(self.client_address)
                    peers.value += 1
                requests.value += 1
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), H)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ready.set()
    stop.wait()
    server.shutdown()


class Servers:
    def __init__(self):
        ctx = multiprocessing.get_context("fork")
        self.smtp_port, self.http_port = free_port(), free_port()
        self.messages, self.sessions = ctx.Value("l", 0), ctx.Value("l", 0)
        self.requests, self.peers = ctx.Value("l", 0), ctx.Value("l", 0)
        self.stop = ctx.Event()
        ready = [ctx.Event(), ctx.Event()]
        self.procs = [
            ctx.Process(
                target=_serve_smtp,
                args=(self.smtp_port, self.messages, self.sessions, ready[0], self.stop),
                daemon=True,
            ),
            ctx.Process(
                target=_serve_http, args=(self.http_port, self.requests, self.peers, ready[1], self.stop), daemon=True
            ),
        ]
        for proc in self.procs:
            proc.start()
        for event in ready:
            if not event.wait(20):
                raise RuntimeError("a local server did not start")

    def close(self) -> None:
        self.stop.set()
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.terminate()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def seed_people(app, count: int) -> list[str]:
    platform = app.extensions["kinerja"]
    now = datetime.now(timezone.utc)
    nips = [f"{199001012015000000 + i}" for i in range(count)]
    rows = [
        {
            "nip": n,
            "agency_code": AGENCY,
            "name": f"Pegawai {i}",
            "email": f"pegawai{i}@bench.go.id",
            "phone": None,
            "position": "Analis",
            "unit_code": "U1",
            "unit_name": "Unit Satu",
            "superior_nip": None,
            "language": "id" if i % 3 else "en",
            "active": True,
            "updated_at": now,
        }
        for i, n in enumerate(nips)
    ]
    with platform.session_factory() as s:
        for i in range(0, len(rows), 10000):
            s.execute(insert(Person), rows[i : i + 10000])
        s.commit()
    return nips


def record_emails(app, nips: list[str]) -> float:
    """The consumer's half for e-mail: a reminder batch per chunk (render, inbox row, deliveries)."""
    platform = app.extensions["kinerja"]
    started = time.perf_counter()
    with app.app_context():
        for i in range(0, len(nips), CHUNK):
            with platform.session_factory() as s:
                request_reminders(
                    s,
                    None,
                    {
                        "batch_key": f"bench-{i}",
                        "template": "reminder.skp_submission",
                        "recipients": [{"nip": n} for n in nips[i : i + CHUNK]],
                        "deadline": "2026-01-31T23:59:00+07:00",
                    },
                    agency=AGENCY,
                )
                s.commit()
    return time.perf_counter() - started


def record_webhooks(app, count: int, url: str) -> float:
    platform = app.extensions["kinerja"]
    now = datetime.now(timezone.utc)
    with platform.session_factory() as s:
        s.add(
            WebhookSubscription(
                agency_code=AGENCY,
                owner_sub="bench",
                owner_nip=None,
                url=url,
                event_types=["plans.#"],
                secret="whsec_" + "QUJD" * 8,
                active=True,
                consecutive_failures=0,
                created_at=now,
                updated_at=now,
            )
        )
        s.commit()
    started = time.perf_counter()
    with app.app_context():
        for i in range(0, count, CHUNK):
            with platform.session_factory() as s:
                for j in range(i, min(i + CHUNK, count)):
                    envelope = make_event(
                        "plans.realisation.recorded",
                        "/plans",
                        str(j),
                        {
                            "realisation_id": j,
                            "plan_id": j % 500,
                            "cycle_id": 1,
                            "employee_nip": "x",
                            "agency_code": AGENCY,
                            "iki_id": "iki-1",
                            "period_seq": 1,
                            "value": 12.0,
                            "text": None,
                            "evidence_count": 1,
                            "source": "employee",
                        },
                        time=now,
                    )
                    queue_webhooks(s, envelope, AGENCY)
                s.commit()
    return time.perf_counter() - started


def dispatch(app, channel: str, batch: int, trace: bool) -> tuple[float, dict, float | None]:
    platform = app.extensions["kinerja"]
    totals: dict[str, int] = {}
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with app.app_context():
        while True:
            with platform.session_factory() as s:
                got = dispatch_due(s, datetime.now(timezone.utc), limit=batch, channels_=(channel,))
            if not got:
                break
            for k, v in got.items():
                totals[k] = totals.get(k, 0) + v
    elapsed = time.perf_counter() - started
    peak = None
    if trace:
        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return elapsed, totals, peak


def dispatch_by_worker(app, count: int, servers, timeout: float) -> tuple[float, dict, None]:
    """The e-mails sent as ``kinerja worker`` sends them: the service's dispatch job run by the
    worker's ``JobRunner`` at the service's batch and interval, until the sink has them all."""
    from kinerja import registry
    from kinerja.embedded import JobRunner

    (job,) = [
        j
        for j in registry.background_jobs("notifications", app.extensions["kinerja"])
        if j.__name__ == "dispatch_notifications"
    ]
    runner = JobRunner([job])
    started = time.perf_counter()
    runner.start()
    try:
        while servers.messages.value < count and time.perf_counter() - started < timeout:
            time.sleep(0.05)
    finally:
        runner.stop()
    return time.perf_counter() - started, {"sent": servers.messages.value}, None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100_000, help="e-mails and webhook deliveries (each)")
    ap.add_argument("--batch", type=int, default=500, help="deliveries per dispatcher batch")
    ap.add_argument("--tracemalloc", action="store_true", help="also measure the Python heap peak (slower)")
    ap.add_argument(
        "--via-worker",
        action="store_true",
        help="send the e-mails with the worker's job runner at the service's own batch and interval "
        "(NOTIFICATIONS_DISPATCH_BATCH/INTERVAL, 200 and 5 s) instead of calling dispatch_due in a loop",
    )
    args = ap.parse_args()
    logging.disable(logging.WARNING)

    tmp = tempfile.mkdtemp(prefix="kinerja-bench-notif-")
    servers = Servers()
    ok = True
    try:
        os.environ.pop("SMTP_URL", None)
        config = Config.from_env("notifications", env={"KINERJA_VAR": tmp})
        config.extra["smtp_url"] = f"smtp://127.0.0.1:{servers.smtp_port}?timeout=10"
        if not args.via_worker:
            config.extra["dispatch_batch"] = args.batch
        app = create_app(config)
        print(
            f"notifications bench: {args.count} e-mails + {args.count} webhook deliveries, "
            f"batch {args.batch}, SQLite in {tmp}; sink and receiver in their own processes"
        )
        print(f"  start RSS {rss_mb():.0f} MB")
        batches = -(-args.count // args.batch)

        nips = seed_people(app, args.count)
        rec = record_emails(app, nips)
        print(
            f"  e-mail   record : {args.count / rec:8.0f} notifications/s ({rec:.1f} s; render id/en, inbox row, "
            f"in-app + e-mail deliveries)"
        )
        if args.via_worker:
            email_batches = -(-args.count // int(app.extensions["kinerja"].settings.dispatch_batch))
            elapsed, totals, peak = dispatch_by_worker(app, args.count, servers, timeout=args.count / 20 + 120)
        else:
            email_batches = batches
            elapsed, totals, peak = dispatch(app, "email", args.batch, args.tracemalloc)
        print(
            f"  e-mail   send{' (worker)' if args.via_worker else ''}: "
            f"{totals.get('sent', 0) / elapsed:8.0f} e-mails/s ({elapsed:.1f} s); "
            f"sink got {servers.messages.value}; SMTP connections {servers.sessions.value} for {email_batches} batches"
            + (f"; heap peak {peak:.0f} MB" if peak is not None else "")
        )
        print(f"  RSS after e-mail {rss_mb():.0f} MB")
        ok &= servers.messages.value == args.count
        email_rate = totals.get("sent", 0) / elapsed

        rec = record_webhooks(app, args.count, f"http://127.0.0.1:{servers.http_port}/hook")
        print(f"  webhook  record : {args.count / rec:8.0f} deliveries/s ({rec:.1f} s)")
        elapsed, totals, peak = dispatch(app, "webhook", args.batch, args.tracemalloc)
        print(
            f"  webhook  send   : {totals.get('sent', 0) / elapsed:8.0f} deliveries/s ({elapsed:.1f} s); "
            f"receiver got {servers.requests.value}; HTTP connections {servers.peers.value} for {batches} batches"
            + (f"; heap peak {peak:.0f} MB" if peak is not None else "")
        )
        print(f"  peak RSS {rss_mb():.0f} MB")
        ok &= servers.requests.value == args.count
        with app.extensions["kinerja"].session_factory() as s:
            left = s.scalar(
                select(func.count()).select_from(Delivery).where(Delivery.status != "sent", Delivery.channel != "inapp")
            )
        print(f"  deliveries not sent: {left}")
        ok &= left == 0
        if ok:  # no floor: SMTP sink and webhook receiver are local stand-ins
            common = {"count": args.count, "batch": args.batch, "peak_rss_mb": rss_mb()}
            record(f"notifications.email_send{'_worker' if args.via_worker else ''}", email_rate, "e-mails/s", **common)
            record("notifications.webhook_send", totals.get("sent", 0) / elapsed, "deliveries/s", **common)
        app.extensions["kinerja"].engine.dispose()
    finally:
        servers.close()
        shutil.rmtree(tmp, ignore_errors=True)
    if not ok:
        print("bench: messages missing — the figures above are not valid", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
