"""Watching the audit chain (:mod:`services.common.audit`): anchors of its head outside the
database, the periodic verification of every worker and the check behind each ``/audit`` page.

An anchor is the head (last id and hash) signed with HMAC-SHA256 under a key the database does
not hold, one JSON line in ``<AUDIT_ANCHOR_DIR>/<service>.anchors.jsonl`` (and in the log): once
anchored, deleting the last rows or recomputing every hash after an edit no longer verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from prometheus_client import Gauge
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from .audit import ChainReport, _canonical, check, intact
from .config import load_settings, local_secret, setting

log = logging.getLogger("kinerja.audit")
#: rows one ``/audit`` request verifies at most after its trusted head (~0.2 s; the rest is the worker's)
WINDOW = 5000


def _interval(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"must be 0 (off) or more seconds, not {value}")
    return value


@dataclass
class AuditSettings:
    verify_interval: int = setting("AUDIT_VERIFY_INTERVAL", 3600, _interval)  # 0: no periodic verification
    anchor_key: str | None = setting("AUDIT_ANCHOR_KEY", None)
    anchor_dir: str | None = setting("AUDIT_ANCHOR_DIR", None)


def database_identity(url: str) -> str:
    """Which database an anchor was taken on (never credentials): the SQLite file, or the
    PostgreSQL database's name (a move to another host keeps its anchors)."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return "sqlite:" + (str(Path(u.database).resolve()) if u.database not in (None, "", ":memory:") else ":memory:")
    return f"{u.get_backend_name()}:{u.database}"


class AnchorBook:
    """The signed heads of one service's chain on one database: a JSON line each in
    ``<directory>/<service>.anchors.jsonl``. The key is ``AUDIT_ANCHOR_KEY``, or (embedded) one
    generated once into ``<directory>/anchor.key``, beside the databases and never inside them."""

    SIGNED = ("v", "service", "db", "at", "id", "hash", "rows")

    def __init__(self, directory: Path, service: str, db: str, key: bytes | None = None):
        self.directory, self.service, self.db = Path(directory), service, db
        self.path = self.directory / f"{service}.anchors.jsonl"
        self.key_file = None if key else self.directory / "anchor.key"
        self._key = key
        self._read: tuple | None = None  # (the file's mtime, size and key, its anchors)

    def key(self, create: bool = False) -> bytes | None:
        if self._key is None and self.key_file is not None:
            if create:
                self._key = local_secret(self.key_file, lambda: secrets.token_hex(32)).encode()
            elif self.key_file.exists():
                self._key = self.key_file.read_text().strip().encode() or None
        return self._key

    def sign(self, key: bytes, anchor: dict) -> str:
        payload = _canonical({k: anchor.get(k) for k in self.SIGNED})
        return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()

    def read(self) -> list[dict]:
        """This database's anchors, each with ``line`` and ``valid`` (its signature checks); read
        again only when the file changed (every ``/audit`` page asks)."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return []
        key = self.key()
        stamp = (stat.st_mtime_ns, stat.st_size, key)
        if self._read is not None and self._read[0] == stamp:
            return self._read[1]
        anchors = []
        content = self.path.read_text(encoding="utf-8", errors="replace")
        lines = content.split("\n")
        for n, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                anchor = json.loads(line)
                if not isinstance(anchor, dict):
                    raise ValueError(line)
            except ValueError:
                if n == len(lines):  # a last line cut short (a crash while appending) is no anchor
                    continue
                anchor = {"db": self.db}
            if anchor.get("db") != self.db:
                continue  # another database's anchors (a test's, an older deployment's)
            sig = anchor.get("sig")
            anchor["line"] = n
            anchor["valid"] = bool(key and isinstance(sig, str) and hmac.compare_digest(sig, self.sign(key, anchor)))
            anchors.append(anchor)
        self._read = (stamp, anchors)
        return anchors

    def append(self, head_id: int, head_hash: str, rows: int) -> dict:
        anchor = {
            "v": 1,
            "service": self.service,
            "db": self.db,
            "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "id": head_id,
            "hash": head_hash,
            "rows": rows,
        }
        anchor["sig"] = self.sign(self.key(create=True), anchor)
        self.directory.mkdir(parents=True, exist_ok=True)
        _drop_cut_short_line(self.path)
        with open(self.path, "a", encoding="utf-8") as f:  # one short line per append (O_APPEND)
            f.write(_canonical(anchor) + "\n")
            f.flush()
            os.fsync(f.fileno())
        log.info("audit anchor %s", _canonical(anchor), extra={"service": self.service})
        return anchor


def _drop_cut_short_line(path: Path) -> None:
    """Remove a last line left without its newline by a crash while appending (it is no anchor)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    if data and not data.endswith(b"\n"):
        os.truncate(path, data.rfind(b"\n") + 1)


def anchor_book(config, settings: AuditSettings) -> AnchorBook | None:
    """The service's anchors, or None (production without ``AUDIT_ANCHOR_KEY``: anchoring is off)."""
    directory = Path(settings.anchor_dir) if settings.anchor_dir else Path(config.var_dir) / "audit"
    db = database_identity(config.database_url)
    if settings.anchor_key:
        return AnchorBook(directory, config.service, db, key=settings.anchor_key.encode())
    return AnchorBook(directory, config.service, db) if config.embedded else None


def latest_valid(anchors: list[dict]) -> tuple[int, str] | None:
    good = [a for a in anchors if a["valid"] and isinstance(a.get("id"), int)]
    return (good[-1]["id"], good[-1]["hash"]) if good else None


# ---------------------------------------------------------------------------- the product's checks


class ChainMonitor:
    """One service's watch over its chain (one per app, :func:`monitor`): the periodic full
    verification (:meth:`run`) and the cheap check behind every ``/audit`` page (:meth:`status`)."""

    def __init__(self, platform):
        self.platform, self.service = platform, platform.service
        self.settings = load_settings(AuditSettings, overrides=platform.config.extra)
        self.book = anchor_book(platform.config, self.settings)
        if self.book is None:
            log.warning(
                "audit anchoring is off: set AUDIT_ANCHOR_KEY (a secret the database does not hold) so that "
                "deleting the last audit rows or recomputing their hashes is detected",
                extra={"service": self.service},
            )
        self.verified: tuple[int, str] | None = None  # the head the last good check saw
        self.last: ChainReport | None = None  # the last full verification
        self.next_run = 0.0  # monotonic time the periodic job is due
        self._lock = threading.Lock()
        registry = platform.metrics.registry if platform.metrics else None
        self.ok_gauge = Gauge(
            "kinerja_audit_chain_ok",
            "1 when the audit chain verifies (rows, links, anchors), 0 when it is broken",
            ["service"],
            registry=registry,
            multiprocess_mode="livemin",
        )
        self.verified_gauge = Gauge(
            "kinerja_audit_chain_verified_timestamp_seconds",
            "When the audit chain was last verified in full",
            ["service"],
            registry=registry,
            multiprocess_mode="livemax",
        )

    def anchors(self) -> list[dict]:
        return self.book.read() if self.book else []

    def run(self) -> ChainReport:
        """Verify the whole chain and every anchor; set the metric; log an ERROR when broken, else
        anchor the head (when it moved since the last anchor)."""
        anchors = self.anchors()
        with self.platform.session_factory() as session:
            report = check(session, self.platform.tables, anchors=anchors, expect=self.verified)
        self.last = report
        self.ok_gauge.labels(self.service).set(1 if report.ok else 0)
        self.verified_gauge.labels(self.service).set(time.time())
        if not report.ok:
            log.error(
                "audit chain broken: service=%s first_bad_id=%s problem=%s: %s",
                self.service,
                report.first_bad_id,
                report.problem,
                report.describe(),
                extra={"service": self.service},
            )
            return report
        head = (report.head_id, report.head_hash) if report.head_id else None
        with self._lock:  # not around the scan: a long verification must not hold up /audit pages
            self.verified = head
        if self.book and head and latest_valid(anchors) != head:
            self.book.append(report.head_id, report.head_hash, report.rows)
        return report

    def status(self, session: Session, page: list) -> ChainReport:
        """Cheap, for each ``/audit`` page: the anchors, the rows since the last trusted head (this
        process's last check or the latest anchor; at most the last :data:`WINDOW`) and each row on
        the page by itself; a broken full verification of this process stays reported."""
        anchors = self.anchors()
        latest = latest_valid(anchors)
        # the latest anchored row suffices here: recomputing the hashes after any earlier edit changes it
        anchors = [a for a in anchors if not a["valid"] or (a.get("id"), a.get("hash")) == latest]
        with self._lock:
            trusted = [p for p in (self.verified, latest) if p]
            start = max(trusted, default=None)
            report = check(
                session, self.platform.tables, start=start, anchors=anchors, expect=self.verified, window=WINDOW
            )
            if report.ok:
                self.verified = (report.head_id, report.head_hash) if report.head_id else None
        for row in page:
            if not intact(row):
                report.fail(row["id"], "hash_mismatch")
        if self.last is not None and not self.last.ok:
            report.fail(self.last.first_bad_id, self.last.problem, self.last.detail)
        if not report.ok:
            self.ok_gauge.labels(self.service).set(0)
        return report


def monitor(platform) -> ChainMonitor:
    """The app's one :class:`ChainMonitor` (made when the audit blueprint is registered)."""
    found = platform.app.extensions.get("kinerja_audit")
    if found is None:
        found = platform.app.extensions["kinerja_audit"] = ChainMonitor(platform)
    return found


def verification_job(platform) -> list:
    """The worker's periodic verification (every ``AUDIT_VERIFY_INTERVAL`` seconds; 0: none). It
    never raises; it returns the number of rows verified (0 when not due)."""
    mon = monitor(platform)
    interval = mon.settings.verify_interval
    if not interval:
        return []

    def verify_audit_chain() -> int:
        now = time.monotonic()
        if now < mon.next_run:  # the embedded runner's pump calls every job each time
            return 0
        mon.next_run = now + interval
        try:
            return mon.run().rows
        except Exception:  # noqa: BLE001 - a background round must never kill the worker
            log.exception("audit chain verification failed", extra={"service": mon.service})
            mon.ok_gauge.labels(mon.service).set(0)
            return 0

    verify_audit_chain.interval = interval
    verify_audit_chain.monitor = mon
    return [verify_audit_chain]
