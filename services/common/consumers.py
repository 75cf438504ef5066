"""Consumers are entrypoints too: a message becomes a call of the same use case an HTTP request
would make. One way to register them in every service's ``events.py``: the routing key beside a
direct reference to its handler, ``CONSUMES = {"plans.unit.upserted": on(service.rm_unit, timed=True)}``."""

from __future__ import annotations

from collections.abc import Callable

from .bus import Reject
from .readmodel import event_time


def on(use_case: Callable, *, envelope: bool = False, timed: bool = False) -> Callable:
    """The consumer handler ``(session, envelope)`` for ``use_case``.

    It is called with the event's ``data`` (or, with ``envelope=True``, the whole CloudEvent) and,
    with ``timed=True``, ``as_of=`` the event's time (read models: an older update changes
    nothing). A payload that is not what the catalogue says (a missing key, a wrong type) is
    rejected to the dead-letter queue at once: retrying it cannot help."""

    def handle(session, message: dict):
        try:
            args = (message,) if envelope else (message["data"],)
            kwargs = {"as_of": event_time(message)} if timed else {}
            return use_case(session, *args, **kwargs)
        except (KeyError, TypeError, AttributeError) as exc:
            raise Reject(f"malformed {message.get('type')} payload: {exc!r}") from exc

    handle.__name__ = f"on_{use_case.__name__}"
    return handle
