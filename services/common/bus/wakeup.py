"""Waking a relay when an outbox row is committed, instead of polling the outbox.

On PostgreSQL the transaction that writes an outbox row also sends ``NOTIFY kinerja_outbox``
(PostgreSQL delivers it at commit, once per transaction, and never for a rollback); a relay
waits on ``LISTEN kinerja_outbox`` on a connection of its own. Each service has its own database,
so the channel needs no service name; a wake-up for nothing costs one empty query.

On SQLite (the embedded mode) there is no NOTIFY: the commit of a session that wrote an outbox
row sets an in-process signal that every relay of the process waits on.

Either way a relay still looks at the outbox every ``poll`` seconds as a safety net (a
notification lost with a dropped connection, an outbox row written by hand)."""

from __future__ import annotations

import logging
import threading
import weakref

from sqlalchemy import event, text
from sqlalchemy.orm import Session

log = logging.getLogger("services.common.bus")

CHANNEL = "kinerja_outbox"
_NOTIFY = text(f"NOTIFY {CHANNEL}")
_WROTE = "kinerja.outbox_written"  # session.info: the transaction that wrote an outbox row

_signals: "weakref.WeakSet[threading.Event]" = weakref.WeakSet()
_signals_lock = threading.Lock()


def outbox_written(session: Session) -> None:
    """Called by ``add_to_outbox`` in the writing transaction: at its commit, ``NOTIFY`` on
    PostgreSQL (sent once, as the last statement of the transaction, so a savepoint rolled back
    in between cannot take it away) and the in-process signal once committed."""
    session.info[_WROTE] = True


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    # also fired when a savepoint is released: only the outermost commit notifies
    if session.info.get(_WROTE) and not session.in_nested_transaction():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(_NOTIFY)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction() or not session.info.pop(_WROTE, None):
        return
    with _signals_lock:
        signals = list(_signals)
    for signal in signals:
        signal.set()


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended (a rollback: nothing to say)
        session.info.pop(_WROTE, None)


class InProcessSignal:
    """Set when any session of this process commits an outbox row (and by :meth:`set`)."""

    def __init__(self):
        self._event = threading.Event()
        with _signals_lock:
            _signals.add(self._event)

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        woken = self._event.wait(timeout)
        self._event.clear()
        return woken

    def close(self) -> None:
        with _signals_lock:
            _signals.discard(self._event)


class OutboxWaiter:
    """What a relay waits on between rounds: ``LISTEN`` on PostgreSQL, the in-process signal
    otherwise. :meth:`wake` ends a wait from another thread (a worker stopping)."""

    def __init__(self, engine):
        self.engine = engine
        self.signal = InProcessSignal()
        self._listener = None  # the psycopg connection that LISTENs
        self._postgres = engine.dialect.name == "postgresql"

    def _listen(self) -> bool:
        """LISTEN on a connection of our own; True when it was just opened (a commit before that
        sent no notification we will see: the caller looks at the outbox once more)."""
        if self._listener is not None:
            return False
        fairy = self.engine.raw_connection()
        conn = fairy.driver_connection
        fairy.detach()  # ours for good: not returned to the pool, not counted in it
        conn.rollback()
        conn.autocommit = True
        conn.execute(f"LISTEN {CHANNEL}")
        self._listener = conn
        return True

    def wait(self, timeout: float) -> bool:
        """Wait until an outbox row is committed or ``timeout`` passes; True when woken."""
        if not self._postgres or self.signal.is_set():
            return self.signal.wait(timeout)
        try:
            if self._listen():
                return True
            woken = any(True for _ in self._listener.notifies(timeout=timeout, stop_after=1))
        except Exception as exc:  # the database went away: listen again next time, poll meanwhile
            log.warning("relay: LISTEN %s failed, polling: %s", CHANNEL, exc)
            self._close_listener()
            return self.signal.wait(timeout)
        if woken:  # those queued behind it say the same: the next round reads every unsent row
            try:
                for _ in self._listener.notifies(timeout=0):
                    pass
            except Exception:  # pragma: no cover - noticed by the next wait
                log.debug("relay: draining notifications failed", exc_info=True)
        return woken or self.signal.wait(0)

    def wake(self) -> None:
        self.signal.set()
        if self._postgres and self._listener is not None:
            try:
                with self.engine.connect() as conn:
                    conn.execute(_NOTIFY)
                    conn.commit()
            except Exception:  # pragma: no cover - the wait ends at its timeout anyway
                log.debug("relay: NOTIFY to wake failed", exc_info=True)

    def _close_listener(self) -> None:
        conn, self._listener = self._listener, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pragma: no cover
                log.debug("relay: closing the LISTEN connection failed", exc_info=True)

    def close(self) -> None:
        self._close_listener()
        self.signal.close()
