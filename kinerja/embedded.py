"""The embedded all-in-one runner: every service in one process, mounted at ``/<service>``,
with the in-process bus (kombu memory://) relayed and consumed by one background worker.

memory:// keeps nothing when the process dies, so the relays here mark an outbox row sent only once
every consumer bound to its type has recorded it in its inbox (``Relay.confirm_by``): a process
killed between publishing and consuming publishes the row again when it starts, and the inboxes
skip what was already applied — no event lost, none applied twice."""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Callable

from flask import Flask

from services.common.bus import BusWorker
from services.common.config import Config

from . import registry

log = logging.getLogger("kinerja.embedded")


class Dispatcher:
    """Routes ``/<service>/…`` to that service's WSGI app without stripping the prefix, so
    paths are the same as behind the production gateway."""

    def __init__(self, apps: dict[str, Flask], portal: Flask | None = None):
        self.apps = apps
        self.portal = portal  # the web portal answers every path that is not a service's

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        first = path.lstrip("/").split("/", 1)[0]
        app = self.apps.get(first)
        if app is not None:
            return app(environ, start_response)
        if self.portal is not None and path != "/healthz":
            return self.portal(environ, start_response)
        if path in ("/", "/healthz"):
            body = json.dumps(
                {
                    "status": "ok",
                    "services": {name: f"/{name}/" for name in self.apps},
                    "docs": {name: f"/{name}/docs" for name in self.apps},
                }
            ).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        body = json.dumps(
            {
                "type": "about:blank",
                "title": "Tidak ditemukan",
                "status": 404,
                "detail": f"Alamat {path} tidak ada; layanan: {', '.join(self.apps)}",
            }
        ).encode()
        start_response(
            "404 NOT FOUND", [("Content-Type", "application/problem+json"), ("Content-Length", str(len(body)))]
        )
        return [body]


class JobRunner(threading.Thread):
    """Runs each periodic job at its own interval (``job.interval`` seconds) until stopped. A job
    with a ``batch`` that handled a whole batch (returned at least ``job.batch``) runs again at
    once: a backlog (a stage opening's e-mails to a province) drains at the job's own speed,
    not a batch per interval."""

    def __init__(self, jobs: list):
        super().__init__(name="kinerja-jobs", daemon=True)
        self.jobs = jobs
        self._stop_event = threading.Event()

    def run(self) -> None:
        due = {id(job): 0.0 for job in self.jobs}
        while not self._stop_event.is_set():
            now = time.monotonic()
            for job in self.jobs:
                if now >= due[id(job)]:
                    handled = job()  # jobs log their own errors and never raise
                    full = getattr(job, "batch", None) and (handled or 0) >= job.batch
                    due[id(job)] = now if full else now + float(getattr(job, "interval", 5.0))
            # asleep until the next job is due (an idle worker wakes only for its jobs)
            self._stop_event.wait(max(0.01, min(due.values(), default=now + 5.0) - time.monotonic()))

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=10)


class Embedded:
    def __init__(
        self,
        env: dict | None = None,
        clock: Callable[[], datetime] | None = None,
        services: tuple[str, ...] = registry.SERVICES,
        topology=None,
        portal: bool = True,
        **overrides,
    ):
        self.apps: dict[str, Flask] = {}
        for name in services:
            config = Config.from_env(name, env=env, **overrides)
            self.apps[name] = registry.app_module(name).create_app(config, clock=clock)
        self.wsgi = Dispatcher(self.apps)
        if portal:  # it calls the services in-process, through the same dispatcher
            self.wsgi.portal = registry.portal_app(env=env, wsgi=self.wsgi, clock=clock)
        bus = {"topology": topology} if topology is not None else {}  # tests isolate the memory bus
        self.relays = [app.extensions["kinerja"].relay(**bus) for app in self.apps.values()]
        self.consumers = []
        for name, app in self.apps.items():
            handlers = registry.events_module(name).CONSUMES
            if handlers:
                self.consumers.append(app.extensions["kinerja"].consumer(handlers, **bus))
        for consumer in self.consumers:  # declare queues and bindings before anything is published
            consumer.drain(timeout=0.01)
        for relay in self.relays:  # memory:// only: sent = recorded by its consumers (no-op on RabbitMQ)
            relay.confirm_by(self.consumers)
        self.jobs = [
            job for name, app in self.apps.items() for job in registry.background_jobs(name, app.extensions["kinerja"])
        ]
        self.worker: BusWorker | None = None
        self.job_runner: JobRunner | None = None

    def platform(self, service: str):
        return self.apps[service].extensions["kinerja"]

    def pump(self, rounds: int = 50, jobs: bool = True) -> int:
        """Relay and consume until quiet, then run the periodic jobs once (synchronously, for the
        demo and tests)."""
        total = 0
        for _ in range(rounds):
            moved = sum(r.run_once() for r in self.relays)
            moved += sum(c.drain(timeout=0) for c in self.consumers)  # in-process: what the relays just sent
            total += moved
            if not moved:
                break
        if jobs:
            for job in self.jobs:
                job()
        return total

    def start_worker(self) -> None:
        self.worker = BusWorker(self.relays, self.consumers, drain_timeout=0)  # memory bus: see BusWorker
        self.worker.start()
        self.job_runner = JobRunner(self.jobs)
        self.job_runner.start()

    def close(self) -> None:
        if self.job_runner:
            self.job_runner.stop()
        if self.worker:
            self.worker.stop()
        for r in self.relays:
            r.close()
        for c in self.consumers:
            c.close()
        for app in self.apps.values():
            app.extensions["kinerja"].engine.dispose()
