"""Events end to end: outbox insert → relay → RabbitMQ → consumer effect committed, beside its floor.

Measures, in one run, on a private PostgreSQL database and a private RabbitMQ vhost:

  floor    pika on the same broker: persistent 1 KB messages to a durable queue, published with
           pipelined publisher confirms (``SelectConnection``, a window of unconfirmed messages in
           flight) and consumed by a ``BlockingConnection`` consumer acking each message (prefetch
           500). Publish alone, consume alone, and both at once (end to end).
  kinerja  the real ``Relay`` and ``Consumer`` run by a ``BusWorker`` in a child process (the shape
           of ``kinerja worker``), fed by a load generator that commits one outbox row per
           transaction with its ``NOTIFY`` (the row ``add_to_outbox`` writes, made beforehand and
           sent by plain psycopg in one round trip, so that the generator's CPU is not taken from
           what is measured; ``--inserters`` processes of ``--threads`` threads, their CPU
           printed) at offered loads of 1,000/s and 2,000/s; the handler commits
           an effect row with the inbox row. ``--handler-writes commit`` (the default): the
           handler holds its row in the session and the batch's rows are written by one
           statement before the batch commits, as the notifications handler writes its messages
           (services/notifications/pending.py); ``each``: one INSERT per event as it is handled.
           Sustained rate (events / first insert → last effect) and p50/p99 latency from insert
           to effect (the clock at the batch's write, its commit next; with ``each``, at the
           handler). Then the maximum: ``--max-events`` rows committed while no
           worker runs (a backlog, as after an outage), drained by a fresh worker: events /
           (worker start → last effect).
  idle     ``kinerja worker --service plans`` (``--idle-service``) idling against the private database and vhost: its
           CPU over ~20 s after start-up, from /proc.

Every effect is counted by event id: a missing or duplicated event, an unreachable server or a
failed nack/confirm makes the run exit non-zero with the reason. Everything created (database,
vhost, queues) is removed at the end. A benchmark, not a test: nothing asserts about time.

    .venv/bin/python bench/events_e2e.py [--floor-messages 20000] [--seconds 6] [--max-events 6000]
"""

from __future__ import annotations

import argparse
import collections
import json
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pika  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy import Column, Float, Integer, MetaData, String, Table, event, func, select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.record import record  # noqa: E402
from services.common import bus  # noqa: E402
from services.common.bus.wakeup import CHANNEL  # noqa: E402
from services.common.db import drop_database, ensure_database, make_engine, make_session_factory  # noqa: E402
from services.common.tables import define_platform_tables  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_HOST = os.environ.get("BENCH_RABBITMQ_HOST", "127.0.0.1")
AMQP_USER = os.environ.get("BENCH_RABBITMQ_USER", "guest")
AMQP_PASSWORD = os.environ.get("BENCH_RABBITMQ_PASSWORD", "guest")
RABBITMQCTL = os.environ.get("BENCH_RABBITMQCTL", "rabbitmqctl")
ROOT = Path(__file__).resolve().parents[1]
SERVICE = "bench"
TYPE = "bench.thing.happened"
HELD = "bench.held"  # Session.info: the effect rows a batch's handlers hold for its commit (--handler-writes commit)
BODY_BYTES = 1024
CTL_TIMEOUT = 30


class Broken(Exception):
    """The run is broken: its figures would mean nothing."""


# --------------------------------------------------------------------------- private vhost


def ctl(*args: str) -> None:
    try:
        done = subprocess.run([RABBITMQCTL, *args], capture_output=True, text=True, timeout=CTL_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Broken(f"rabbitmqctl {' '.join(args)}: {exc}") from exc
    if done.returncode != 0:
        raise Broken(f"rabbitmqctl {' '.join(args)} failed: {(done.stderr or done.stdout).strip()[:300]}")


def amqp_url(vhost: str) -> str:
    return f"amqp://{AMQP_USER}:{AMQP_PASSWORD}@{AMQP_HOST}:5672/{quote(vhost, safe='')}"


def pika_params(vhost: str) -> pika.ConnectionParameters:
    return pika.ConnectionParameters(
        host=AMQP_HOST,
        virtual_host=vhost,
        credentials=pika.PlainCredentials(AMQP_USER, AMQP_PASSWORD),
        heartbeat=0,
        blocked_connection_timeout=60,
    )


# --------------------------------------------------------------------------- floor (pika)


def pika_publish(params, queue: str, n: int, body: bytes, window: int, timeout: float = 120.0) -> float:
    """Publish ``n`` persistent messages with pipelined confirms (at most ``window`` unconfirmed);
    return the seconds from the first publish to the last confirm."""
    props = pika.BasicProperties(delivery_mode=2, content_type="application/octet-stream")
    state = {"sent": 0, "confirmed": 0, "error": None, "t0": 0.0, "t1": 0.0}
    outstanding: collections.deque = collections.deque()
    singles: set = set()
    holder = {}

    def pump():
        ch = holder["ch"]
        while state["sent"] < n and state["sent"] - state["confirmed"] < window:
            ch.basic_publish("", queue, body, props)
            state["sent"] += 1
            outstanding.append(state["sent"])

    def finish(error=None):
        state["error"] = state["error"] or error
        state["t1"] = time.perf_counter()
        holder["conn"].close()

    def on_confirm(frame):
        method = frame.method
        if isinstance(method, pika.spec.Basic.Nack):
            finish(f"pika: broker nacked delivery {method.delivery_tag}")
            return
        if method.multiple:
            while outstanding and outstanding[0] <= method.delivery_tag:
                outstanding.popleft()
                state["confirmed"] += 1
        else:
            singles.add(method.delivery_tag)
        while outstanding and outstanding[0] in singles:
            singles.discard(outstanding.popleft())
            state["confirmed"] += 1
        if state["confirmed"] >= n:
            finish()
        else:
            pump()

    def on_channel(ch):
        holder["ch"] = ch

        def started(_frame):
            state["t0"] = time.perf_counter()
            pump()

        ch.confirm_delivery(on_confirm, callback=started)

    def on_open(conn):
        conn.channel(on_open_callback=on_channel)

    def on_open_error(_conn, exc):
        state["error"] = f"pika: cannot connect: {exc}"
        conn.ioloop.stop()

    def on_closed(_conn, _reason):
        conn.ioloop.stop()

    conn = pika.SelectConnection(
        params, on_open_callback=on_open, on_open_error_callback=on_open_error, on_close_callback=on_closed
    )
    holder["conn"] = conn
    conn.ioloop.call_later(timeout, lambda: finish(f"pika: publish timed out with {state['confirmed']}/{n} confirmed"))
    conn.ioloop.start()
    if state["error"]:
        raise Broken(state["error"])
    return state["t1"] - state["t0"]


def pika_consume(params, queue: str, n: int, prefetch: int, ready: threading.Event | None = None) -> float:
    """Consume and ack ``n`` messages, one ack each; return the seconds from the first delivery
    (or from ``ready`` being set) to the last ack."""
    conn = pika.BlockingConnection(params)
    try:
        ch = conn.channel()
        ch.basic_qos(prefetch_count=prefetch)
        state = {"count": 0, "t0": None}

        def on_message(channel, method, _props, _body):
            if state["t0"] is None:
                state["t0"] = time.perf_counter()
            channel.basic_ack(method.delivery_tag)
            state["count"] += 1
            if state["count"] >= n:
                channel.stop_consuming()

        ch.basic_consume(queue, on_message, auto_ack=False)
        if ready is not None:
            ready.set()
        deadline = time.monotonic() + 120
        while state["count"] < n:
            conn.process_data_events(time_limit=1)
            if time.monotonic() > deadline:
                raise Broken(f"pika: consumed {state['count']}/{n} messages in 120 s")
        return time.perf_counter() - state["t0"]
    finally:
        conn.close()


def bench_floor(vhost: str, n: int, window: int, prefetch: int) -> dict:
    params = pika_params(vhost)
    body = os.urandom(BODY_BYTES // 2).hex().encode()
    queue = "floor"
    conn = pika.BlockingConnection(params)
    try:
        conn.channel().queue_declare(queue, durable=True)
    finally:
        conn.close()
    pika_publish(params, queue, 500, body, window)  # warm-up
    pika_consume(params, queue, 500, prefetch)
    publish = pika_publish(params, queue, n, body, window)
    consume = pika_consume(params, queue, n, prefetch)
    # both at once: the consumer in a thread with its own connection, the publisher here
    ready = threading.Event()
    out: dict = {}

    def consumer():
        try:
            out["seconds"] = pika_consume(params, queue, n, prefetch, ready)
        except Exception as exc:  # noqa: BLE001 - reported as a broken run below
            out["error"] = exc
            ready.set()

    thread = threading.Thread(target=consumer)
    thread.start()
    ready.wait(30)
    started = time.perf_counter()
    pika_publish(params, queue, n, body, window)
    thread.join(150)
    if "error" in out or thread.is_alive():
        raise Broken(f"pika end to end: {out.get('error', 'consumer did not finish')}")
    e2e = time.perf_counter() - started
    return {"publish": n / publish, "consume": n / consume, "e2e": n / e2e}


# --------------------------------------------------------------------------- kinerja side


def define_tables():
    metadata = MetaData()
    tables = define_platform_tables(metadata)
    effects = Table(
        "bench_effects",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("event_id", String(64), nullable=False),  # no unique constraint: duplicates must show
        Column("inserted_at", Float, nullable=False),
        Column("handled_at", Float, nullable=False),
    )
    return metadata, tables, effects


def payload(seq: int) -> dict:
    """About 1 KB of envelope once wrapped."""
    return {"seq": seq, "inserted_at": time.time(), "text": "Laporan capaian kinerja triwulan. " * 24}


def worker_main(
    db_url: str, broker: str, prefix: str, stop, started=None, consumers: int = 1, writes: str = "commit"
) -> None:
    """The child process: a BusWorker with the real Relay and ``consumers`` Consumers of one queue, as
    ``kinerja worker`` runs one (several: as that many replicas would, bench/README.md); ``writes``:
    when the handler's effect row is written (``--handler-writes``)."""
    metadata, tables, effects = define_tables()
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    topology = bus.Topology.isolated(prefix)

    def effect(envelope) -> dict:
        return {"event_id": envelope["id"], "inserted_at": envelope["data"]["inserted_at"], "handled_at": time.time()}

    if writes == "each":

        def handle(session, envelope):
            session.execute(effects.insert(), effect(envelope))

    else:  # "commit": the rows held by the session, written by one statement before its commit

        def handle(session, envelope):
            session.info.setdefault(HELD, []).append(effect(envelope))

        @event.listens_for(factory, "before_commit")
        def write_held(session):
            rows = session.info.pop(HELD, None)
            if rows:
                now = time.time()  # the latency runs to the batch's write, its commit next
                for row in rows:
                    row["handled_at"] = now
                session.execute(effects.insert(), rows)

        @event.listens_for(factory, "after_rollback")
        def forget_held(session):
            session.info.pop(HELD, None)

    relay = bus.Relay(factory, tables, broker, topology=topology)
    worker = bus.BusWorker(
        [relay],
        [bus.Consumer(SERVICE, factory, tables, broker, {TYPE: handle}, topology=topology) for _ in range(consumers)],
    )
    if started is not None:
        started.value = time.time()
    worker.start()
    stop.wait()
    worker.stop()
    engine.dispose()


#: One round trip per event: the transaction that writes the outbox row and sends the relay's
#: wake-up, as ``add_to_outbox`` and its commit do (``NOTIFY`` last, delivered at the commit).
_INSERT_TX = (
    "BEGIN; INSERT INTO outbox (event_id, type, envelope, created_at, attempts) "
    f"VALUES (%s, %s, %s, %s, 0); NOTIFY {CHANNEL}; COMMIT"
)


def _insert_share(db_url: str, k: int, stride: int, n: int, rate: float | None, started: float, threads: int):
    """One inserting process: events k, k+stride, … of ``n``, from ``threads`` threads, each paced
    against the common start (wall clock: the processes share it). Returns the ids and the CPU
    seconds the process spent.

    The load generator is not what is measured, and on two cores its CPU is taken from the relay,
    the consumer and PostgreSQL: the envelopes are made and validated before the clock starts, and
    each is written by plain psycopg in one round trip (the same row, the same ``NOTIFY``, one
    transaction per event) instead of through a SQLAlchemy session — which cost 0.58 ms of CPU per
    event (0.14 ms now) and held the offered 1,000/s to 690–950 rows/s (bench/README.md)."""
    conninfo = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    mine = {}  # thread → its (sequence, envelope) pairs, made before the clock starts
    for t in range(threads):
        sequence = range(k + t * stride, n, stride * threads)
        # make_event validates each envelope, as add_to_outbox would
        mine[t] = [(i, bus.make_event(TYPE, f"/{SERVICE}", str(i), payload(i))) for i in sequence]
    ids: list[str] = []
    errors: list[BaseException] = []
    cpu0 = time.process_time()

    def run(t: int) -> None:
        try:
            with psycopg.connect(conninfo, autocommit=True, cursor_factory=psycopg.ClientCursor) as conn:
                cursor = conn.cursor()
                for i, env in mine[t]:
                    if rate:
                        delay = started + i / rate - time.time()
                        if delay > 0:
                            time.sleep(delay)
                    env["data"]["inserted_at"] = time.time()
                    cursor.execute(_INSERT_TX, (env["id"], env["type"], json.dumps(env), bus.utcnow()))
                    ids.append(env["id"])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    if errors:
        raise Broken(f"kinerja: inserting outbox rows failed: {errors[0]!r}")
    return ids, time.process_time() - cpu0


def offer(
    pool, db_url: str, n: int, rate: float | None, processes: int, threads: int
) -> tuple[list[str], float, float]:
    """Insert ``n`` events, one per transaction (as a request does), from ``processes`` ×
    ``threads`` writers together paced at ``rate``/s (None: as fast as they go). Returns the ids,
    the seconds the inserts took and the CPU seconds the inserting processes spent."""
    started = time.time() + 1.0  # every process starts from the same instant, its envelopes made
    shares = pool.starmap(_insert_share, [(db_url, k, processes, n, rate, started, threads) for k in range(processes)])
    elapsed = time.time() - started
    return [i for ids, _cpu in shares for i in ids], elapsed, sum(cpu for _ids, cpu in shares)


def wait_effects(engine, effects, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last, still = -1, time.monotonic()
    while True:
        with engine.connect() as c:
            got = c.execute(select(func.count()).select_from(effects)).scalar_one()
        if got >= n:
            return
        if got != last:
            last, still = got, time.monotonic()
        if time.monotonic() > deadline or time.monotonic() - still > 30:
            raise Broken(f"kinerja: {got}/{n} effects committed, no progress for 30 s or over {timeout:.0f} s")
        time.sleep(0.1)


def check_and_measure(engine, effects, ids: list[str], label: str, since: float | None = None) -> dict:
    time.sleep(1.0)  # let any duplicate land
    with engine.connect() as c:
        rows = c.execute(select(effects.c.event_id, effects.c.inserted_at, effects.c.handled_at)).all()
        c.execute(effects.delete())
        c.commit()
    counts = collections.Counter(r.event_id for r in rows)
    dup = [e for e, k in counts.items() if k > 1]
    missing = set(ids) - set(counts)
    extra = set(counts) - set(ids)
    if dup or missing or extra:
        raise Broken(f"kinerja {label}: {len(missing)} missing, {len(dup)} duplicated, {len(extra)} unknown effects")
    lat = sorted(r.handled_at - r.inserted_at for r in rows)
    span = max(r.handled_at for r in rows) - (since or min(r.inserted_at for r in rows))
    return {
        "rate": len(rows) / span,
        "p50": lat[len(lat) // 2],
        "p99": lat[min(len(lat) - 1, int(len(lat) * 0.99))],
        "events": len(rows),
        "seconds": span,
    }


def backlog(db_url: str, n: int) -> list[str]:
    """``n`` outbox rows committed 500 per transaction (what an outage or a bulk import leaves)."""
    _metadata, tables, _effects = define_tables()
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    ids = []
    for first in range(0, n, 500):
        with factory.begin() as session:
            for i in range(first, min(n, first + 500)):
                env = bus.make_event(TYPE, f"/{SERVICE}", str(i), payload(i))
                bus.add_to_outbox(session, tables, env, bus.utcnow())
                ids.append(env["id"])
    engine.dispose()
    return ids


def bench_kinerja(
    db_url: str,
    vhost: str,
    loads: list[tuple[str, float, int]],
    backlog_events: int,
    inserters: int,
    threads: int = 2,
    consumers: int = 1,
    writes: str = "commit",
) -> list[dict]:
    metadata, tables, effects = define_tables()
    engine = make_engine(db_url)
    metadata.create_all(engine)
    prefix = f"bench{uuid.uuid4().hex[:8]}."
    ctx = multiprocessing.get_context("spawn")

    def start_worker():
        stop, started = ctx.Event(), ctx.Value("d", 0.0)
        child = ctx.Process(
            target=worker_main, args=(db_url, amqp_url(vhost), prefix, stop, started, consumers, writes), daemon=True
        )
        child.start()
        return child, stop, started

    def stop_worker(child, stop) -> None:
        stop.set()
        child.join(15)
        if child.is_alive():
            child.kill()

    child, stop, _ = start_worker()
    pool = ctx.Pool(inserters)
    results = []
    try:
        # warm-up: connections, declarations, statement caches
        ids, _, _ = offer(pool, db_url, 200, None, inserters, threads)
        wait_effects(engine, effects, len(ids), 60)
        check_and_measure(engine, effects, ids, "warm-up")
        for label, rate, n in loads:
            ids, insert_seconds, insert_cpu = offer(pool, db_url, n, rate, inserters, threads)
            wait_effects(engine, effects, n, 600)
            if not child.is_alive():
                raise Broken("kinerja: the worker process died")
            r = check_and_measure(engine, effects, ids, label)
            r.update(label=label, offered=rate, inserted_rate=n / insert_seconds, inserters_cpu=insert_cpu)
            results.append(r)
            print(
                f"  {label}: {n} events inserted at {r['inserted_rate']:.0f}/s, {r['rate']:.0f} effects/s, "
                f"p50 {r['p50'] * 1000:.0f} ms, p99 {r['p99'] * 1000:.0f} ms; the inserters used "
                f"{insert_cpu:.1f} CPU-s",
                flush=True,
            )
        pool.terminate()
        # the maximum: a backlog committed while no worker runs, drained by a fresh one; the rate
        # is events / (worker start → last effect), the bus's own speed, not the inserters'
        stop_worker(child, stop)
        ids = backlog(db_url, backlog_events)
        child, stop, started = start_worker()
        wait_effects(engine, effects, backlog_events, 600)
        r = check_and_measure(engine, effects, ids, "max", since=started.value)
        r.update(label="max", offered=None, inserted_rate=None)
        results.append(r)
        print(f"  max: a backlog of {backlog_events} events drained at {r['rate']:.0f} effects/s", flush=True)
    finally:
        pool.terminate()
        stop_worker(child, stop)
        engine.dispose()
    return results


# --------------------------------------------------------------------------- idle worker


def proc_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def bench_idle_worker(db_base_url: str, vhost: str, seconds: float, service: str = "plans") -> float:
    """CPU % of one core of ``kinerja worker --service <service>`` idling (start-up excluded)."""
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-idle-") as var:
        env = {
            **os.environ,
            f"{service.upper()}_DATABASE_URL": db_base_url,
            "BROKER_URL": amqp_url(vhost),
            "KINERJA_VAR": var,
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),  # this checkout's code, even from another checkout's venv
        }
        env.pop("KINERJA_MODE", None)  # embedded: migrates the private database at start
        proc = subprocess.Popen(
            [str(ROOT / ".venv/bin/kinerja"), "worker", "--service", service],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            time.sleep(8)  # start-up: imports, migrations, first declarations
            if proc.poll() is not None:
                raise Broken(f"kinerja worker exited at start: {proc.stderr.read()[-500:]}")
            cpu0, t0 = proc_cpu_seconds(proc.pid), time.monotonic()
            time.sleep(seconds)
            if proc.poll() is not None:
                raise Broken(f"kinerja worker exited: {proc.stderr.read()[-500:]}")
            return 100 * (proc_cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--floor-messages", type=int, default=20000, help="pika messages per floor stage")
    ap.add_argument("--window", type=int, default=1000, help="pika: unconfirmed messages in flight")
    ap.add_argument("--prefetch", type=int, default=500, help="pika consumer prefetch")
    ap.add_argument("--seconds", type=float, default=6.0, help="duration of each paced load")
    ap.add_argument("--max-events", type=int, default=20000, help="events of the backlog (maximum) stage")
    ap.add_argument("--inserters", type=int, default=4, help="processes inserting outbox rows")
    ap.add_argument("--threads", type=int, default=2, help="threads per inserting process")
    ap.add_argument(
        "--consumers",
        type=int,
        default=1,
        help="consumers of the queue in the worker (as replicas of `kinerja worker` would be; production runs one: "
        "several deadlock on shared rows, bench/README.md)",
    )
    ap.add_argument(
        "--handler-writes",
        default="commit",
        choices=["commit", "each"],
        help="the handler's effect row: each: one INSERT per event as it is handled; commit: held by the session "
        "and written for the whole batch by one statement before its commit",
    )
    ap.add_argument("--idle-service", default="plans", choices=["plans", "reviews", "surveys", "notifications"])
    ap.add_argument("--idle-seconds", type=float, default=20.0, help="idle worker measurement (0: skip)")
    args = ap.parse_args(argv)

    tag = f"helper15_{uuid.uuid4().hex[:8]}"
    vhost = f"kinerja_bench_{tag}"
    db_url = make_url(PG_URL).set(database=f"kinerja_bench_{tag}").render_as_string(hide_password=False)
    idle_db = make_url(PG_URL).set(database=f"kinerja_bench_{tag}_idle").render_as_string(hide_password=False)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"events_e2e {started}, {os.cpu_count()} CPUs, vhost {vhost}, database {make_url(db_url).database}")
    loads = [
        ("1000/s", 1000.0, int(1000 * args.seconds)),
        ("2000/s", 2000.0, int(2000 * args.seconds)),
    ]
    created_vhost = False
    try:
        ctl("add_vhost", vhost)
        created_vhost = True
        ctl("set_permissions", "-p", vhost, AMQP_USER, ".*", ".*", ".*")
        ensure_database(db_url)
        ensure_database(idle_db)
        print(
            f"floor: pika, {args.floor_messages} persistent {BODY_BYTES} B messages, window {args.window}, "
            f"prefetch {args.prefetch}",
            flush=True,
        )
        floor = bench_floor(vhost, args.floor_messages, args.window, args.prefetch)
        print(
            f"  publish {floor['publish']:.0f}/s, consume {floor['consume']:.0f}/s, end to end {floor['e2e']:.0f}/s",
            flush=True,
        )
        print(
            f"kinerja: outbox → relay → RabbitMQ → consumer effect ({args.consumers} consumers, "
            f"the handler writes at: {args.handler_writes})",
            flush=True,
        )
        results = bench_kinerja(
            db_url, vhost, loads, args.max_events, args.inserters, args.threads, args.consumers, args.handler_writes
        )
        idle = None
        if args.idle_seconds > 0:
            print(f"idle `kinerja worker --service {args.idle_service}` for {args.idle_seconds:.0f} s", flush=True)
            idle = bench_idle_worker(idle_db, vhost, args.idle_seconds, args.idle_service)
    except Broken as exc:
        print(f"BROKEN RUN: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a server unreachable and the like
        print(f"BROKEN RUN: {type(exc).__name__}: {exc!r}", file=sys.stderr)
        return 1
    finally:
        for url in (db_url, idle_db):
            try:
                drop_database(url)
            except Exception as exc:  # noqa: BLE001
                print(f"cleanup: cannot drop {make_url(url).database}: {exc}", file=sys.stderr)
        if created_vhost:
            try:
                ctl("delete_vhost", vhost)  # its queues and exchanges go with it
            except Broken as exc:
                print(f"cleanup: {exc}", file=sys.stderr)

    rows = [
        ("events.floor.publish", floor["publish"], "msg/s", None),
        ("events.floor.consume", floor["consume"], "msg/s", None),
        ("events.floor.e2e", floor["e2e"], "msg/s", None),
    ]
    for r in results:
        name = f"events.kinerja.{r['label'].replace('/s', 'ps')}"
        rows.append((f"{name}.rate", r["rate"], "events/s", floor["e2e"]))
        if r["label"] != "max":  # a backlog's latency is its queueing time, not the bus's
            rows.append((f"{name}.p50", r["p50"] * 1000, "ms", None))
            rows.append((f"{name}.p99", r["p99"] * 1000, "ms", None))
    if idle is not None:
        rows.append(("events.worker.idle_cpu", idle, "% of a core", None))
    print()
    print(f"{'figure':<34} {'value':>10} {'unit':<12} {'floor':>8} {'ratio':>6}")
    print(f"{'-' * 34} {'-' * 10} {'-' * 12} {'-' * 8} {'-' * 6}")
    for name, value, unit, fl in rows:
        ratio = value / fl if fl else None
        shown_floor = "" if fl is None else f"{fl:.0f}"
        shown_ratio = "" if ratio is None else f"{ratio:.3f}"
        print(f"{name:<34} {value:>10.1f} {unit:<12} {shown_floor:>8} {shown_ratio:>6}")
        record(name, round(value, 3), unit, floor=fl, ratio=ratio, run=started, options=vars(args))
    for r in results:
        if r["inserted_rate"]:
            inserted = f"inserts reached {r['inserted_rate']:.0f}/s"
            print(f"  {r['label']}: {inserted}, {r['events']} events in {r['seconds']:.1f} s")
    print(json.dumps({"floor": floor, "kinerja": results, "idle_cpu": idle}, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
