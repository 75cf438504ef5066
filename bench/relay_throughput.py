"""Outbox relay throughput: how fast ``Relay.run_once()`` drains the outbox.

Prints events/s and ms/event for
  (a) the relay on PostgreSQL + RabbitMQ (publisher confirms, each row marked sent),
  (b) the old floor: plain kombu ``Producer.publish`` of the same bodies with publisher
      confirms, one message at a time, no database (how the relay published until issue 17),
  (b2) the floor: pika publishing the same bodies with pipelined confirms (a window of 1,000
      unconfirmed messages), no database — what the broker offers one publisher,
  (c) the relay on SQLite + memory:// (the embedded mode),
and the ratio relay/raw. A benchmark, not a test: it prints figures and asserts nothing
about time. It only fails when the run itself is broken (a service unreachable, messages
missing), since the figures would then mean nothing.

Everything it creates is removed at the end: the database ``kinerja_bench_<hex>``, the
isolated exchanges and queues ``bench<hex>.*`` and the temporary SQLite directory.

    .venv/bin/python bench/relay_throughput.py [--events 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kombu import Connection, Producer  # noqa: E402
from sqlalchemy import MetaData  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.record import record  # noqa: E402
from services.common import bus  # noqa: E402
from services.common.db import (  # noqa: E402
    drop_database,
    ensure_database,
    make_engine,
    make_session_factory,
    transaction,
)
from services.common.tables import define_platform_tables  # noqa: E402

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("BENCH_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//")
SERVICE = "bench"
WARMUP = 50
CONFIRM_TIMEOUT = 5.0

ACTIVITIES = (
    "Menyusun laporan bulanan capaian kinerja unit dan menyampaikannya kepada atasan langsung",
    "Memverifikasi dokumen permohonan izin usaha yang masuk melalui layanan OSS daerah",
    "Melaksanakan rapat koordinasi lintas bidang tentang penurunan angka stunting kecamatan",
    "Memperbarui data aset tetap pada aplikasi SIMDA dan merekonsiliasi dengan bidang keuangan",
)


# --------------------------------------------------------------------------- events


def make_envelopes(n: int, seed: int = 0) -> list[dict]:
    """``n`` validated CloudEvents envelopes of about 1 KB each, a mix of the plans events."""
    out = []
    for i in range(seed, seed + n):
        nip = f"19{70 + i % 25:02d}{1 + i % 12:02d}{1 + i % 28:02d}20{i % 20:02d}0{1 + i % 9}1{i % 1000:03d}"
        kind = i % 3
        if kind == 0:
            data = {
                "feedback_id": 10_000 + i,
                "plan_id": 1000 + i % 200,
                "cycle_id": 1,
                "employee_nip": nip,
                "giver_nip": "197103122000031004",
                "rhk_id": str(uuid.UUID(int=i)),
                "value_code": None,
                "period_seq": 1 + i % 4,
                "text": (
                    ACTIVITIES[i % 4] + ". Sudah baik; lengkapi bukti dukung dan cantumkan angka "
                    "capaian per kelurahan agar dapat dibandingkan dengan target triwulan. "
                )
                * 3,
            }
            type_ = "plans.feedback.given"
        elif kind == 1:
            data = {
                "realisation_id": 20_000 + i,
                "plan_id": 1000 + i % 200,
                "cycle_id": 1,
                "employee_nip": nip,
                "iki_id": str(uuid.UUID(int=10**6 + i)),
                "period_seq": 1 + i % 4,
                "value": float(i % 97),
                "text": (
                    ACTIVITIES[(i + 1) % 4] + "; realisasi sesuai rencana aksi triwulan, dengan bukti "
                    "notulen, daftar hadir dan dokumentasi kegiatan terlampir. "
                )
                * 3,
                "evidence_count": i % 4,
                "source": "employee",
            }
            type_ = "plans.realisation.recorded"
        else:
            data = {
                "nip": nip,
                "agency_code": "PKTD",
                "name": f"Pegawai Contoh Nomor {i}, S.Kom., M.Si.",
                "email": f"pegawai{i}@telukdamar.go.id",
                "phone": f"+62812{i:07d}",
                "position": "Analis Kebijakan Ahli Muda pada Bidang Perencanaan, Pengendalian dan Evaluasi "
                "Pembangunan Daerah",
                "grade": "III/c",
                "unit_code": f"BAPPEDA-{i % 5}",
                "unit_name": "Badan Perencanaan Pembangunan, Riset dan Inovasi Daerah Kota Teluk Damar — "
                "Bidang Perencanaan, Pengendalian dan Evaluasi Pembangunan Daerah, Subbagian "
                "Program dan Pelaporan Kinerja",
                "superior_nip": "197103122000031004",
                "language": "id",
                "active": True,
            }
            type_ = "plans.employee.upserted"
        out.append(bus.make_event(type_, "/plans", str(data.get("plan_id", nip)), data))
    return out


# --------------------------------------------------------------------------- helpers


def write_outbox(factory, tables, envelopes: list[dict]) -> float:
    started = time.perf_counter()
    with transaction(factory) as session:
        for env in envelopes:
            bus.add_to_outbox(session, tables, env, bus.utcnow())
    return time.perf_counter() - started


def drain(relay: bus.Relay) -> tuple[float, int, int]:
    """run_once() until nothing is pending; returns (seconds, published, rounds)."""
    published = rounds = 0
    started = time.perf_counter()
    while relay.pending() > 0:
        moved = relay.run_once()
        rounds += 1
        if relay.last_error:
            raise SystemExit(f"relay round failed: {relay.last_error}")
        if not moved:
            raise SystemExit("relay published nothing although rows are pending")
        published += moved
    return time.perf_counter() - started, published, rounds


def message_count(conn: Connection, queue: str) -> int:
    return conn.default_channel.queue_declare(queue=queue, passive=True).message_count


def purge(conn: Connection, queue: str) -> None:
    conn.default_channel.queue_purge(queue=queue)


def delete_topology(conn: Connection, topology: bus.Topology) -> None:
    channel = conn.default_channel
    for name in (topology.queue(SERVICE), topology.dlq(SERVICE), topology.unrouted_queue):
        channel.queue_delete(queue=name)
    for name in (topology.exchange, topology.unrouted_exchange, topology.dlx):
        channel.exchange_delete(exchange=name)


def row(label: str, n: int, seconds: float) -> dict:
    return {"label": label, "events": n, "seconds": seconds, "per_s": n / seconds, "ms": 1000 * seconds / n}


# --------------------------------------------------------------------------- stages


def bench_relay_postgres(envelopes, warmup, topology, batch_size) -> tuple[dict, float]:
    hexid = uuid.uuid4().hex[:10]
    url = make_url(PG_URL).set(database=f"kinerja_bench_{hexid}").render_as_string(hide_password=False)
    ensure_database(url)
    engine = relay = conn = None
    try:
        engine = make_engine(url)
        metadata = MetaData()
        tables = define_platform_tables(metadata)
        metadata.create_all(engine)
        factory = make_session_factory(engine)
        conn = Connection(AMQP_URL, connect_timeout=5)
        bus.declare_topology(conn, topology, SERVICE, bindings=["#"])
        queue = topology.queue(SERVICE)
        relay = bus.Relay(
            factory, tables, AMQP_URL, topology=topology, confirm_timeout=CONFIRM_TIMEOUT, batch_size=batch_size
        )
        write_outbox(factory, tables, warmup)  # connection, declarations, caches
        drain(relay)
        write_seconds = write_outbox(factory, tables, envelopes)
        seconds, published, rounds = drain(relay)
        delivered = message_count(conn, queue) - len(warmup)
        if published != len(envelopes) or delivered != len(envelopes):
            raise SystemExit(f"relay: published {published}, queue holds {delivered}, expected {len(envelopes)}")
        purge(conn, queue)
        result = row(f"(a) relay  PostgreSQL + RabbitMQ ({rounds} rounds of {batch_size})", published, seconds)
        return result, write_seconds
    finally:
        if relay is not None:
            relay.close()
        if conn is not None:
            conn.release()
        if engine is not None:
            engine.dispose()
        drop_database(url)


def bench_raw(bodies, warmup_bodies, topology) -> dict:
    conn = Connection(AMQP_URL, connect_timeout=5, transport_options={"confirm_publish": True})
    try:
        channel = conn.channel()
        producer = Producer(channel, auto_declare=False)

        def publish(items):
            for routing_key, message_id, body in items:
                producer.publish(
                    body,
                    exchange=topology.exchange,
                    routing_key=routing_key,
                    content_type=bus.CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=bus.PERSISTENT,
                    message_id=message_id,
                    headers={bus.ATTEMPTS_HEADER: 1},
                    retry=False,
                    confirm_timeout=CONFIRM_TIMEOUT,
                )

        publish(warmup_bodies)
        started = time.perf_counter()
        publish(bodies)
        seconds = time.perf_counter() - started
        with Connection(AMQP_URL, connect_timeout=5) as check:
            delivered = message_count(check, topology.queue(SERVICE)) - len(warmup_bodies)
            if delivered != len(bodies):
                raise SystemExit(f"raw: queue holds {delivered}, expected {len(bodies)}")
            purge(check, topology.queue(SERVICE))
        return row("(b) raw    kombu publish + confirm, no DB", len(bodies), seconds)
    finally:
        conn.release()


def bench_pika(bodies, warmup_bodies, topology, window: int = 1000) -> dict:
    """The floor: pika, pipelined publisher confirms, the same bodies to the same exchange."""
    import pika
    from pika.spec import Basic

    params = pika.URLParameters(AMQP_URL.replace("5672//", "5672/%2F"))
    conn = pika.SelectConnection(params, on_open_callback=lambda c: c.channel(on_open_callback=on_channel))
    state = {"items": [], "sent": 0, "confirmed": 0, "t0": 0.0, "t1": 0.0, "error": None, "ch": None}
    props = {}

    def on_channel(ch):
        state["ch"] = ch
        ch.confirm_delivery(on_confirm, callback=lambda _f: begin(warmup_bodies))

    def begin(items):
        state.update(items=items, sent=0, confirmed=0, t0=time.perf_counter())
        pump()

    def pump():
        ch, items = state["ch"], state["items"]
        while state["sent"] < len(items) and state["sent"] - state["confirmed"] < window:
            routing_key, message_id, body = items[state["sent"]]
            if message_id not in props:
                props[message_id] = pika.BasicProperties(
                    content_type=bus.CONTENT_TYPE,
                    content_encoding="utf-8",
                    delivery_mode=bus.PERSISTENT,
                    message_id=message_id,
                    headers={bus.ATTEMPTS_HEADER: 1},
                )
            ch.basic_publish(topology.exchange, routing_key, body, props[message_id])
            state["sent"] += 1

    base = {"tag": 0}

    def on_confirm(frame):
        method = frame.method
        if not isinstance(method, Basic.Ack):
            state["error"] = f"pika: nack {method.delivery_tag}"
            conn.ioloop.stop()
            return
        # tags count over the whole channel; the warm-up went first
        done = method.delivery_tag - base["tag"] if method.multiple else state["confirmed"] + 1
        state["confirmed"] = max(state["confirmed"], done)
        if state["confirmed"] >= len(state["items"]):
            base["tag"] += len(state["items"])
            if state["items"] is warmup_bodies:
                begin(bodies)
            else:
                state["t1"] = time.perf_counter()
                conn.ioloop.stop()
        else:
            pump()

    conn.ioloop.call_later(120, conn.ioloop.stop)
    conn.ioloop.start()
    conn.close()
    if state["error"] or not state["t1"]:
        raise SystemExit(state["error"] or "pika floor: timed out")
    with Connection(AMQP_URL, connect_timeout=5) as check:
        delivered = message_count(check, topology.queue(SERVICE)) - len(warmup_bodies)
        if delivered != len(bodies):
            raise SystemExit(f"pika floor: queue holds {delivered}, expected {len(bodies)}")
        purge(check, topology.queue(SERVICE))
    return row(
        f"(b2) floor pika publish, pipelined confirms (window {window}), no DB", len(bodies), state["t1"] - state["t0"]
    )


def bench_relay_embedded(envelopes, warmup, batch_size) -> dict:
    topology = bus.Topology.isolated(f"bench{uuid.uuid4().hex[:10]}.")
    with tempfile.TemporaryDirectory(prefix="kinerja-bench-") as tmp:
        engine = make_engine(f"sqlite:///{(Path(tmp) / 'outbox.db').as_posix()}")
        conn = relay = None
        try:
            metadata = MetaData()
            tables = define_platform_tables(metadata)
            metadata.create_all(engine)
            factory = make_session_factory(engine)
            conn = Connection("memory://", transport_options={"polling_interval": 0.01})
            bus.declare_topology(conn, topology, SERVICE, bindings=["#"])
            relay = bus.Relay(factory, tables, "memory://", topology=topology, batch_size=batch_size)
            write_outbox(factory, tables, warmup)
            drain(relay)
            write_outbox(factory, tables, envelopes)
            seconds, published, rounds = drain(relay)
            delivered = message_count(conn, topology.queue(SERVICE)) - len(warmup)
            if published != len(envelopes) or delivered != len(envelopes):
                raise SystemExit(
                    f"embedded relay: published {published}, queue holds {delivered}, expected {len(envelopes)}"
                )
            return row(f"(c) relay  SQLite + memory:// ({rounds} rounds of {batch_size})", published, seconds)
        finally:
            if relay is not None:
                relay.close()
            if conn is not None:
                try:
                    delete_topology(conn, topology)
                finally:
                    conn.release()
            engine.dispose()


# --------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=5000, help="outbox rows / messages per stage (default 5000)")
    ap.add_argument("--batch-size", type=int, default=500, help="Relay batch_size (default 500, as in production)")
    args = ap.parse_args(argv)
    n = args.events

    envelopes = make_envelopes(n, seed=WARMUP)
    warmup = make_envelopes(WARMUP, seed=0)
    sizes = [len(bus.encode_envelope(e)) for e in envelopes]
    bodies = [(e["type"], e["id"], bus.encode_envelope(e)) for e in envelopes]
    warmup_bodies = [(e["type"], e["id"], bus.encode_envelope(e)) for e in warmup]
    print(
        f"{n} events, envelope size mean {statistics.mean(sizes):.0f} B (min {min(sizes)}, max {max(sizes)}), "
        f"{WARMUP} warm-up events per stage not counted"
    )
    print(
        f"PostgreSQL {make_url(PG_URL).render_as_string()}, RabbitMQ {make_url(AMQP_URL).render_as_string()}, "
        f"{os.cpu_count()} CPUs"
    )

    topology = bus.Topology.isolated(f"bench{uuid.uuid4().hex[:10]}.")
    results = []
    try:
        relay_row, write_seconds = bench_relay_postgres(envelopes, warmup, topology, args.batch_size)
        results.append(relay_row)
        raw_row = bench_raw(bodies, warmup_bodies, topology)
        results.append(raw_row)
        floor_row = bench_pika(bodies, warmup_bodies, topology)
        results.append(floor_row)
    finally:
        with Connection(AMQP_URL, connect_timeout=5) as conn:
            delete_topology(conn, topology)
    results.append(bench_relay_embedded(envelopes, warmup, args.batch_size))

    width = max(len(r["label"]) for r in results)
    print()
    print(f"{'stage':<{width}}  {'events':>7}  {'seconds':>8}  {'events/s':>9}  {'ms/event':>8}")
    print(f"{'-' * width}  {'-' * 7}  {'-' * 8}  {'-' * 9}  {'-' * 8}")
    for r in results:
        print(f"{r['label']:<{width}}  {r['events']:>7}  {r['seconds']:>8.2f}  {r['per_s']:>9.0f}  {r['ms']:>8.3f}")
    print()
    print(f"relay/floor: {relay_row['per_s'] / floor_row['per_s']:.2f} of pika's pipelined publish")
    print(
        f"relay/raw: {relay_row['per_s'] / raw_row['per_s']:.2f} of the raw throughput "
        f"({relay_row['ms'] / raw_row['ms']:.2f}x the time per event; "
        f"database overhead {relay_row['ms'] - raw_row['ms']:.3f} ms/event)"
    )
    print(
        f"outbox write (add_to_outbox, {n} rows in one PostgreSQL transaction): {write_seconds:.2f} s, "
        f"{n / write_seconds:.0f} rows/s"
    )
    record(
        "relay_throughput.postgres",
        relay_row["per_s"],
        "events/s",
        floor=floor_row["per_s"],
        events=n,
        batch_size=args.batch_size,
        floor_is="pika publish with pipelined confirms (window 1000), no database",
        kombu_per_message=raw_row["per_s"],
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
