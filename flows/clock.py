"""The flows' injectable clock (DESIGN.md §4: a whole year runs in seconds for demos and tests,
in real time in production).

A flow takes ``clock: str = "real" | "simulated"`` (a flow parameter must be plain data) and
asks :func:`get_clock` for the object:

- :class:`RealClock` — ``now()`` is the UTC wall clock; ``wait_until(t)`` never sleeps: it says
  whether ``t`` has come. When it has not, the flow reports what it waits for and ends; the next
  scheduled run (``deploy/prefect.yaml``) continues from where the cycle stands.
- :class:`SimulatedClock` — wraps the callable registered in this process with
  :func:`set_clock` (``obj()`` returns the time, ``obj.set(datetime)`` moves it: the same object
  the embedded services were built with, so the services and the flow share one time).
  ``wait_until(t)`` moves the time forward to ``t`` and returns ``True``: waiting for a deadline
  *is* moving the clock there. Time never moves backwards.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

__all__ = [
    "Clock",
    "ClockError",
    "RealClock",
    "SettableClock",
    "SimulatedClock",
    "get_clock",
    "registered",
    "set_clock",
]


class ClockError(RuntimeError):
    """The flow asked for a clock this process cannot give (e.g. ``simulated`` with none registered)."""


class Clock(Protocol):
    name: str

    def now(self) -> datetime: ...

    def wait_until(self, when: datetime) -> bool: ...


def _aware(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError(f"naive datetime {when!r}: the flows only handle aware datetimes")
    return when.astimezone(timezone.utc)


class RealClock:
    """Wall-clock time; waiting for the future is the scheduler's job, not a sleeping process."""

    name = "real"

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def wait_until(self, when: datetime) -> bool:
        return self.now() >= _aware(when)


class SettableClock:
    """A settable time source to register with :func:`set_clock` and hand to the embedded services
    (``Embedded(clock=...)``): calling it returns the time, ``set`` moves it."""

    def __init__(self, start: datetime):
        self._now = _aware(start)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = _aware(when)

    def advance(self, **delta) -> None:
        with self._lock:
            self._now = self._now + timedelta(**delta)


class SimulatedClock:
    """The registered time source, moved forward by waiting."""

    name = "simulated"

    def __init__(self, source: Callable[[], datetime]):
        if not callable(source) or not callable(getattr(source, "set", None)):
            raise ClockError("a simulated clock needs a callable with a set(datetime) method")
        self.source = source

    def now(self) -> datetime:
        return _aware(self.source())

    def wait_until(self, when: datetime) -> bool:
        when = _aware(when)
        if when > self.now():
            self.source.set(when)
        return True


_registered: Callable[[], datetime] | None = None


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Register (or, with ``None``, forget) this process's simulated time source."""
    global _registered
    if source is not None and not (callable(source) and callable(getattr(source, "set", None))):
        raise ClockError("set_clock needs a callable returning the time with a set(datetime) method")
    _registered = source


def registered() -> Callable[[], datetime] | None:
    return _registered


def get_clock(kind: str) -> RealClock | SimulatedClock:
    """The clock named by a flow's ``clock`` parameter."""
    if kind == "real":
        return RealClock()
    if kind == "simulated":
        if _registered is None:
            raise ClockError(
                "clock='simulated' needs a time source registered in this process with "
                "flows.clock.set_clock(...) (the demo and the tests do this); "
                "scheduled deployments use clock='real'"
            )
        return SimulatedClock(_registered)
    raise ClockError(f"unknown clock {kind!r}: use 'real' or 'simulated'")
