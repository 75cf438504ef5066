"""The background thread that runs a service's relays and consumers."""

from __future__ import annotations

import logging
import threading
import time as _time

from .consumer import Consumer
from .relay import Relay
from .topology import _describe

log = logging.getLogger("services.common.bus")

# --------------------------------------------------------------------------- worker


class BusWorker(threading.Thread):
    """Runs relays and consumers in one thread (embedded mode, ``kinerja worker``).

    ``drain_timeout``: how long each consumer waits for a delivery per round. With the in-process
    bus (``memory://``) nothing arrives while it waits — every message comes from the relays of
    this same loop — so the embedded runner passes 0: a quiet round costs a look, not 10 ms of
    polling per consumer (kombu's memory transport polls every millisecond), and the request
    threads sharing the process are not woken from behind."""

    def __init__(
        self, relays: list[Relay], consumers: list[Consumer], interval: float = 0.05, drain_timeout: float = 0.01
    ):
        super().__init__(name="kinerja-bus", daemon=True)
        self.relays = list(relays)
        self.consumers = list(consumers)
        self.interval = interval
        self.drain_timeout = drain_timeout
        self._stopping = threading.Event()
        # per component: (next attempt at, current backoff) after a failure
        self._backoff: dict[int, tuple[float, float]] = {}

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stopping.set()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def _due(self, component) -> bool:
        entry = self._backoff.get(id(component))
        return entry is None or _time.monotonic() >= entry[0]

    def _after(self, component, failed: bool) -> None:
        if not failed:
            self._backoff.pop(id(component), None)
            return
        # at most 5 s: a broker or database back from an outage is used again within seconds (at 30 s,
        # events written during a 30 s RabbitMQ outage reached their consumers 30 s after it returned)
        delay = min(self._backoff.get(id(component), (0.0, 0.25))[1] * 2, 5.0)
        self._backoff[id(component)] = (_time.monotonic() + delay, delay)

    def run(self) -> None:
        try:
            while not self._stopping.is_set():
                busy = 0
                # consumers first: the first round declares their queues and bindings before any
                # relay publishes, so an event written as the worker starts is never unroutable
                for consumer in self.consumers:
                    if self._stopping.is_set():
                        break
                    if not self._due(consumer):
                        continue
                    try:
                        busy += consumer.drain(timeout=self.drain_timeout, max_messages=100)
                        self._after(consumer, False)
                    except Exception as exc:
                        log.warning("bus worker: consumer %s failed: %s", consumer.service, _describe(exc))
                        self._after(consumer, True)
                for relay in self.relays:
                    if not self._due(relay):
                        continue
                    try:
                        busy += relay.run_once()
                        self._after(relay, relay.last_error is not None)
                    except Exception:
                        log.exception("bus worker: relay round failed")
                        self._after(relay, True)
                if not busy:
                    self._stopping.wait(self.interval)
        finally:
            for component in (*self.relays, *self.consumers):
                try:
                    component.close()
                except Exception:  # pragma: no cover
                    log.debug("bus worker: close failed", exc_info=True)
