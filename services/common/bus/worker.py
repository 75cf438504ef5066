"""The background thread that runs a service's relays and consumers."""

from __future__ import annotations

import logging
import threading
import time as _time

from .consumer import Consumer
from .relay import Relay
from .topology import _describe, _is_memory
from .wakeup import InProcessSignal

log = logging.getLogger("services.common.bus")

# --------------------------------------------------------------------------- worker


class BusWorker(threading.Thread):
    """Runs a service's relays and consumers (``kinerja worker``; the embedded mode).

    On RabbitMQ each relay and each consumer gets a thread of its own, and none of them polls:
    a relay publishes while there is a full batch, then sleeps until a transaction that wrote the
    outbox commits (``Relay.wait``: LISTEN/NOTIFY, or the in-process signal on SQLite), looking
    anyway every ``poll`` seconds; a consumer blocks on its socket (``drain_timeout`` at most,
    between which it only checks whether to stop). An idle worker costs next to nothing.

    On the in-process bus (``memory://``, the embedded mode) every message comes from the relays
    of this same loop, so one thread runs everything in turn: relays, then consumers with
    ``drain_timeout`` 0 (a quiet round costs a look, not the memory transport's polling), and
    when nothing moved it sleeps until an outbox commit in the process — or ``interval`` while
    rows are in flight to consumers that have not recorded them yet."""

    def __init__(
        self,
        relays: list[Relay],
        consumers: list[Consumer],
        interval: float = 0.05,
        drain_timeout: float | None = None,
        poll: float = 5.0,
    ):
        super().__init__(name="kinerja-bus", daemon=True)
        self.relays = list(relays)
        self.consumers = list(consumers)
        self.interval = interval
        self.in_process = any(_is_memory(c.broker_url) for c in (*self.relays, *self.consumers))
        self.drain_timeout = drain_timeout if drain_timeout is not None else (0.0 if self.in_process else 0.5)
        self.poll = poll
        self._stopping = threading.Event()
        self._signal = InProcessSignal()
        self._threads: list[threading.Thread] = []
        # per component: (next attempt at, current backoff) after a failure
        self._backoff: dict[int, tuple[float, float]] = {}

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stopping.set()
        self._signal.set()
        for relay in self.relays:
            relay.wake()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout)

    def _due(self, component) -> bool:
        entry = self._backoff.get(id(component))
        return entry is None or _time.monotonic() >= entry[0]

    def _after(self, component, failed: bool) -> float:
        """Record a round's outcome; return how long to wait before the next attempt."""
        if not failed:
            self._backoff.pop(id(component), None)
            return 0.0
        # at most 5 s: a broker or database back from an outage is used again within seconds (at 30 s,
        # events written during a 30 s RabbitMQ outage reached their consumers 30 s after it returned)
        delay = min(self._backoff.get(id(component), (0.0, 0.25))[1] * 2, 5.0)
        self._backoff[id(component)] = (_time.monotonic() + delay, delay)
        return delay

    def run(self) -> None:
        try:
            if self.in_process:
                self._run_in_process()
            else:
                self._run_threads()
        finally:
            for component in (*self.relays, *self.consumers):
                try:
                    component.close()
                except Exception:  # pragma: no cover
                    log.debug("bus worker: close failed", exc_info=True)
            self._signal.close()

    # -- RabbitMQ: a thread per relay and per consumer

    def _run_threads(self) -> None:
        # consumers first: their queues and bindings are declared before any relay publishes, so
        # an event written as the worker starts is never unroutable
        for consumer in self.consumers:
            self._consume_round(consumer)
        for target, component in [
            *((self._consumer_loop, c) for c in self.consumers),
            *((self._relay_loop, r) for r in self.relays),
        ]:
            thread = threading.Thread(
                target=target, args=(component,), name=f"kinerja-bus-{type(component).__name__.lower()}", daemon=True
            )
            thread.start()
            self._threads.append(thread)
        self._stopping.wait()
        for thread in self._threads:
            thread.join(max(self.poll, self.drain_timeout) + 5)

    def _consume_round(self, consumer) -> float:
        try:
            consumer.drain(timeout=self.drain_timeout, max_messages=consumer.prefetch)
            return self._after(consumer, False)
        except Exception as exc:
            log.warning("bus worker: consumer %s failed: %s", consumer.service, _describe(exc))
            return self._after(consumer, True)

    def _consumer_loop(self, consumer) -> None:
        while not self._stopping.is_set():
            delay = self._consume_round(consumer)
            if delay:
                self._stopping.wait(delay)

    def _relay_loop(self, relay) -> None:
        while not self._stopping.is_set():
            try:
                moved = relay.run_once()
                delay = self._after(relay, relay.last_error is not None)
            except Exception:
                log.exception("bus worker: relay round failed")
                moved, delay = 0, self._after(relay, True)
            if self._stopping.is_set():
                break
            if delay:
                self._stopping.wait(delay)
            elif moved < relay.batch_size:  # the outbox is drained: sleep until the next commit
                relay.wait(self.poll)

    # -- the in-process bus: one loop

    def _run_in_process(self) -> None:
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
            if busy:
                continue
            waiting = self._backoff or any(r.in_flight for r in self.relays)
            self._signal.wait(self.interval if waiting else self.poll)
