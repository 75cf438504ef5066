"""CPU per request of the api benchmark's mix, in process (issue 17, "api"): Kinerja's plans and reviews
apps beside the bare floor of ``bench/api_load.py`` (``bench/api_floor_app.py``), one thread, the same
requests, in the same run.

1. Builds the plans and reviews apps in the production configuration (``KINERJA_MODE=production``:
   PostgreSQL, RS256 tokens verified against a JWKS served by a local thread from a development identity
   provider's key, ``PROXY_HOPS=1``, JSON access lines (to /dev/null), Prometheus in multiprocess mode)
   against private PostgreSQL databases ``<prefix><hex>_plans``/``_reviews`` it creates and migrates.
2. Seeds a small agency through the APIs as ``bench/api_load.py`` does (``kinerja.demo_planning``):
   HR imports the sample agency's directory, opens the year's quarterly cycle; everyone drafts a cascaded
   SKP, submits it, the superior writes the expectations and approves it; HR moves the cycle to
   monitoring, and the reviews consumer opens one evaluation per approved SKP from the events (an
   in-process memory bus: nothing reaches RabbitMQ).
3. Sends the six kinds of request of ``bench/api_load.lua`` (the same paths, bodies and headers, the
   gateway's ``X-Forwarded-*``/``X-Request-ID`` included) through the Flask test client with real JWTs,
   ``--iterations`` of each kind per round, Kinerja's block then the floor's block of the same requests,
   ``--rounds`` times; every answer must be 2xx (else exit 1, naming the kind and the answer).
4. Prints, per kind, CPU ms per request (``time.process_time``, the median over the rounds) and
   statements per request for Kinerja and the floor, their ratio, and the mix's weighted figures.
   ``--profile FILE`` adds one cProfile'd round of Kinerja's requests (pstats file, and the top functions
   printed); ``--show-sql`` prints the statements of one request of each kind, Kinerja's and the floor's.
5. Drops its databases and temporary files, whatever happens.

    .venv/bin/python bench/api_cpu.py [--employees 60] [--iterations 200] [--rounds 3]
        [--mix 30,20,10,10,10,20] [--db-prefix kinerja_bench_cpu_] [--profile var/bench/api_cpu.prof] [--show-sql]

Needs the local PostgreSQL (``BENCH_POSTGRES_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``; the script changes the database name)."""

from __future__ import annotations

import argparse
import contextlib
import http.server
import json
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.api_load import DEFAULT_MIX, KINDS, BenchError, P, PagedApi, R, seed_through  # noqa: E402  (the same mix and paths as the load test)
from bench.api_load import parse_mix as _parse_mix  # noqa: E402
from bench.record import record  # noqa: E402

AGENCY_SEED = 2026


def say(text: str = "") -> None:
    print(text, flush=True)


def parse_mix(text: str) -> dict[str, int]:
    try:
        return _parse_mix(text)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None


# ---------------------------------------------------------------------- the identity provider's keys


def serve_jwks(jwks: dict) -> tuple[http.server.ThreadingHTTPServer, str]:
    """``GET /jwks.json`` on a loopback port (what ``JWT_JWKS_URL`` names), in a daemon thread."""
    body = json.dumps(jwks).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            self.send_response(200 if self.path == "/jwks.json" else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True, name="jwks").start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


# ---------------------------------------------------------------------- Kinerja in process


class Kinerja:
    """The plans and reviews apps (production configuration) and, for seeding only, a memory bus."""

    def __init__(self, base: Path, pg_url: str, prefix: str, issuer: str):
        from services.common.config import Config
        from services.plans import app as plans_app
        from services.reviews import app as reviews_app

        self.env = {
            "KINERJA_MODE": "production",
            "KINERJA_VAR": str(base / "var"),
            "DATABASE_URL": pg_url,
            "DATABASE_PREFIX": prefix,
            "BROKER_URL": "amqp://guest:guest@127.0.0.1:5672/unused",  # replaced by memory:// below
            "JWT_JWKS_URL": f"{issuer}/jwks.json",
            "JWT_ISSUER": issuer,
            "JWT_AUDIENCE": "kinerja",
            "PROXY_HOPS": "1",
            "LOG_LEVEL": "INFO",
        }
        self.apps = {}
        for name, module in (("plans", plans_app), ("reviews", reviews_app)):
            config = Config.from_env(name, env=self.env)
            config.broker_url = "memory://"  # the seeding's events stay in this process
            self.apps[name] = module.create_app(config, migrate=True)
        self.clients = {name: app.test_client() for name, app in self.apps.items()}
        self.relays, self.consumers = [], []

    def database_urls(self) -> dict[str, str]:
        return {name: app.extensions["kinerja"].config.database_url for name, app in self.apps.items()}

    def open_bus(self, prefix: str) -> None:
        from services.common.bus.topology import Topology
        from services.reviews import events as reviews_events

        bus = {"topology": Topology.isolated(prefix)}
        self.relays = [app.extensions["kinerja"].relay(**bus) for app in self.apps.values()]
        self.consumers = [self.apps["reviews"].extensions["kinerja"].consumer(reviews_events.CONSUMES, **bus)]
        for consumer in self.consumers:
            consumer.drain(timeout=0.01)
        for relay in self.relays:
            relay.confirm_by(self.consumers)

    def pump(self) -> int:
        total = 0
        for _ in range(10_000):
            moved = sum(r.run_once() for r in self.relays) + sum(c.drain(timeout=0) for c in self.consumers)
            total += moved
            if not moved:
                return total
        raise BenchError("the seeding's events did not settle")

    def close(self) -> None:
        for part in (*self.relays, *self.consumers):
            with contextlib.suppress(Exception):
                part.close()
        for app in self.apps.values():
            app.extensions["kinerja"].engine.dispose()


class InProcessApi(PagedApi):
    """What ``kinerja.demo_planning`` calls (``api.call``/``api.all``), through the apps' test clients."""

    def __init__(self, clients: dict):
        self.clients = clients
        self.calls = 0

    def call(
        self, method, path, token, *, json_body=None, data=None, content_type=None, expect=(200, 201), headers=None
    ):
        client = self.clients[path.split("/", 2)[1]]
        h = {"Authorization": f"Bearer {token}", **(headers or {})}
        resp = client.open(path, method=method, json=json_body, data=data, content_type=content_type, headers=h)
        self.calls += 1
        if resp.status_code not in expect:
            raise BenchError(f"seeding: {method} {path} → {resp.status_code}: {resp.get_data(as_text=True)[:800]}")
        return resp.get_json(silent=True), resp


def seed(kin: Kinerja, store, issuer: str, employees: int) -> dict:
    """The sample agency with approved SKPs and open evaluations, through the APIs (``api_load.seed_through``;
    the events applied by pumping the in-process bus)."""
    from kinerja import sample_agency

    agency = sample_agency.build(seed=AGENCY_SEED, employees_target=employees)

    def token(sub, roles, nip=None):
        return store.access_token(
            issuer=issuer, audience="kinerja", sub=sub, roles=roles, agency=agency.code, nip=nip, ttl=6 * 3600
        )

    def opened(cycle: dict, plans: int, hr: str) -> list[dict]:
        kin.pump()
        evaluations = api.all(f"{R}/evaluations?cycle_id={cycle['id']}&period_seq=1&limit=100", hr)
        if len(evaluations) < plans:
            raise BenchError(f"seeding: {len(evaluations)} evaluations opened for {plans} approved SKPs")
        return evaluations

    api = InProcessApi(kin.clients)
    api.call(
        "POST", f"{P}/agencies", token("admin-bench", ["admin"]), json_body={"code": agency.code, "name": agency.name}
    )
    return seed_through(api, agency, token, workers=1, seed=AGENCY_SEED, opened=opened, approved=kin.pump)


# ---------------------------------------------------------------------- the requests


def requests_of(kind: str, data: dict, n: int, start: int) -> list[tuple]:
    """``n`` requests of one kind as ``bench/api_load.lua`` makes them: (service, method, path, headers, body)."""
    out, emps, sups = [], data["employees"], data["supervisors"]
    for j in range(start, start + n):
        e, s = emps[j % len(emps)], sups[j % len(sups)]
        person = s if kind in ("team_logs", "team_plans", "evaluation_get") else e
        headers = {
            "Authorization": f"Bearer {person['token']}",
            "X-Bench-Nip": person["nip"],
            "X-Forwarded-For": "127.0.0.1",
            "X-Forwarded-Proto": "http",
            "X-Forwarded-Host": "127.0.0.1:18480",
            "X-Request-ID": secrets.token_hex(16),
        }
        body, service = None, "plans"
        if kind == "plan_get":
            method, path = "GET", f"{P}/plans/{e['plan']}"
        elif kind == "log_post":
            method, path = "POST", f"{P}/daily-logs"
            activity = f"Menyusun bahan rapat koordinasi dan notula kegiatan nomor {j}"
            body = {"date": data["date"], "minutes": 15 + (j % 8) * 15, "activity": activity}
            body["iki_id"] = e["iki"][j % len(e["iki"])]
        elif kind == "realisation_post":
            method, path = "POST", f"{P}/plans/{e['plan']}/realisations"
            body = {"iki_id": e["iki"][j % len(e["iki"])], "period_seq": 1, "value": j % 100 + 1}
        elif kind == "team_logs":
            method, path = "GET", f"{P}/daily-logs?team=true&limit=50"
        elif kind == "team_plans":
            method, path = "GET", f"{P}/plans?cycle_id={data['cycle']}&penilai_nip={s['nip']}&limit=50"
        else:
            service, method, path = "reviews", "GET", f"{R}/evaluations/{s['evals'][j % len(s['evals'])]}"
        out.append((service, method, path, headers, body))
    return out


class Counter:
    """Statements sent to any database (every engine of the process)."""

    def __init__(self):
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        self.n = 0
        self.seen: list[str] | None = None  # the statements' text while a list is set (--show-sql)
        event.listen(Engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *args):
        self.n += 1
        if self.seen is not None:
            self.seen.append(" ".join(statement.split()))


def run_block(clients: dict, requests: list[tuple], counter: Counter, label: str, kind: str) -> tuple[float, float]:
    """CPU ms and statements per request of a block; any answer that is not 2xx stops the run."""
    n0, t0 = counter.n, time.process_time()
    for service, method, path, headers, body in requests:
        resp = clients[service].open(path, method=method, json=body, headers=headers)
        if not 200 <= resp.status_code <= 299:
            raise BenchError(
                f"{label}: {kind} ({method} {path}) answered {resp.status_code}: {resp.get_data()[:600]!r}"
            )
    return (time.process_time() - t0) * 1000 / len(requests), (counter.n - n0) / len(requests)


def weighted(values: dict[str, float], mix: dict[str, int]) -> float:
    return sum(values[k] * w for k, w in mix.items()) / sum(mix.values())


# ---------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--employees", type=int, default=60, help="people in the sample agency (default 60)")
    ap.add_argument("--iterations", type=int, default=200, help="requests of each kind per round (default 200)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (Kinerja then floor, each kind) (default 3)")
    ap.add_argument("--warmup", type=int, default=30, help="untimed requests of each kind first (default 30)")
    ap.add_argument("--mix", default=DEFAULT_MIX, help=f"weights of {', '.join(KINDS)} (default {DEFAULT_MIX})")
    ap.add_argument("--db-prefix", default="kinerja_bench_cpu_", help="database name prefix (a hex id follows)")
    ap.add_argument("--profile", help="write a cProfile of one more round of Kinerja's requests here")
    ap.add_argument("--show-sql", action="store_true", help="print the statements of one request of each kind first")
    args = ap.parse_args(argv)
    mix = parse_mix(args.mix)
    pg_url = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    prefix = f"{args.db_prefix}{secrets.token_hex(3)}_"
    base = Path(tempfile.mkdtemp(prefix="api-cpu-"))
    # as gunicorn has it (kinerja/gunicorn_conf.py): before prometheus_client is first imported
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(base / "metrics")
    (base / "metrics").mkdir()
    from kinerja.devidp_store import IdpStore
    from services.common.observability import configure_logging

    devnull = open(os.devnull, "w")  # noqa: SIM115 - closed at the end
    configure_logging("INFO", stream=devnull)  # the JSON access lines are formatted, then dropped
    kin, server, urls = None, None, {}
    try:
        store = IdpStore(base / "idp")
        server, issuer = serve_jwks({"keys": [store.public_jwk()]})
        t0 = time.monotonic()
        kin = Kinerja(base, pg_url, prefix, issuer)
        urls = kin.database_urls()
        kin.open_bus(f"{prefix}.")
        data = seed(kin, store, issuer, args.employees)
        say(
            f"seeded {prefix}plans/_reviews in {time.monotonic() - t0:.0f} s ({data['calls']} calls): "
            f"{len(data['employees'])} employees, {len(data['supervisors'])} supervisors, cycle {data['cycle']}"
        )
        from sqlalchemy.engine import make_url

        for name, url in urls.items():  # the floor on the same databases, as api_load.py runs it
            url = make_url(url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
            os.environ[f"FLOOR_{name.upper()}_DATABASE_URL"] = url
        from bench.api_floor_app import create_app as floor_app

        floor_client = floor_app().test_client()
        targets = {"kinerja": kin.clients, "floor": {"plans": floor_client, "reviews": floor_client}}
        counter = Counter()
        cursor = 0
        for kind in KINDS:  # warm-up: the first requests build caches and open connections
            reqs = requests_of(kind, data, args.warmup, cursor)
            cursor += args.warmup
            for label, clients in targets.items():
                run_block(clients, reqs, counter, label, kind)
        if args.show_sql:
            for kind in KINDS:
                for label, clients in targets.items():
                    counter.seen = []
                    run_block(clients, requests_of(kind, data, 1, cursor), counter, label, kind)
                    say(f"-- {kind}, {label}: {len(counter.seen)} statements")
                    for text in counter.seen:
                        say(f"   {text[:200]}")
                cursor += 1
            counter.seen = None
        cpu = {label: {k: [] for k in KINDS} for label in targets}
        stmts = {label: {} for label in targets}
        say(f"{args.rounds} rounds × {args.iterations} requests of each kind, Kinerja then floor; load {load()}")
        for _ in range(args.rounds):
            for kind in KINDS:
                reqs = requests_of(kind, data, args.iterations, cursor)
                cursor += args.iterations
                for label, clients in targets.items():
                    ms, st = run_block(clients, reqs, counter, label, kind)
                    cpu[label][kind].append(ms)
                    stmts[label][kind] = st
        med = {label: {k: statistics.median(v) for k, v in per.items()} for label, per in cpu.items()}
        say()
        say(f"{'kind':<18} {'weight':>6} {'Kinerja ms':>10} {'floor ms':>9} {'ratio':>6} {'K stmts':>8} {'f stmts':>8}")
        for kind in KINDS:
            k, f = med["kinerja"][kind], med["floor"][kind]
            say(
                f"{kind:<18} {mix[kind]:>6} {k:>10.2f} {f:>9.2f} {f / k:>6.2f} "
                f"{stmts['kinerja'][kind]:>8.1f} {stmts['floor'][kind]:>8.1f}"
            )
        wk, wf = weighted(med["kinerja"], mix), weighted(med["floor"], mix)
        say(f"{'weighted by mix':<18} {'':>6} {wk:>10.2f} {wf:>9.2f} {wf / wk:>6.2f}")
        say(f"(CPU ms per request: the median over {args.rounds} rounds; ratio floor/Kinerja; load {load()})")
        say("rounds, Kinerja ms: " + json.dumps({k: [round(x, 2) for x in v] for k, v in cpu["kinerja"].items()}))
        record(
            "api_cpu.mix",
            round(wk, 3),
            "CPU ms/request",
            floor=round(wf, 3),
            ratio=round(wf / wk, 3),
            ratio_is="floor / Kinerja (1.0 = as cheap as the floor)",
            per_kind={k: {"kinerja": round(med["kinerja"][k], 3), "floor": round(med["floor"][k], 3)} for k in KINDS},
            mix=mix,
            rounds=args.rounds,
            iterations=args.iterations,
        )
        if args.profile:
            import cProfile
            import pstats

            reqs = [r for kind in KINDS for r in requests_of(kind, data, max(1, args.iterations * mix[kind] // 20), 0)]
            prof = cProfile.Profile(time.process_time)  # CPU, not the waits on PostgreSQL
            prof.enable()
            run_block(kin.clients, reqs, counter, "kinerja (profiled)", "mix")
            prof.disable()
            prof.dump_stats(args.profile)
            say(f"\ncProfile of {len(reqs)} requests of the mix: {args.profile}")
            pstats.Stats(prof).sort_stats("tottime").print_stats(30)
        return 0
    except BenchError as exc:
        say(f"bench/api_cpu.py: the run is broken: {exc}")
        return 1
    finally:
        if kin is not None:
            kin.close()
        if server is not None:
            server.shutdown()
        dropped = drop_databases(pg_url, prefix)
        say(f"dropped {', '.join(dropped) or 'nothing'}")
        shutil.rmtree(base, ignore_errors=True)
        devnull.close()


def drop_databases(pg_url: str, prefix: str) -> list[str]:
    """Every database of this run (``<prefix>…``: the prefix carries the run's own hex id)."""
    from sqlalchemy import create_engine, text

    engine, like = create_engine(pg_url, isolation_level="AUTOCOMMIT"), prefix.replace("_", r"\_") + "%"
    names: list[str] = []
    try:
        with engine.connect() as conn:
            names = list(conn.scalars(text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": like}))
            for name in names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
    return names


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
