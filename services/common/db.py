"""SQLAlchemy 2 engine and sessions per service, PostgreSQL database creation, Alembic upgrade."""

from __future__ import annotations

import contextlib
import select
from pathlib import Path
from typing import Iterator

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL with synchronous=NORMAL: no fsync per commit (only at checkpoints); a committed
            # transaction survives a crash of the process, the last ones may not survive a power
            # cut, and the database never corrupts. SQLite is the embedded and test store only
            # (production is PostgreSQL); an fsync per commit was ~1 ms of each request and event.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if u.drivername == "postgresql":
        url = u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, pool_size=5, max_overflow=10)
    event.listen(engine, "checkout", drop_if_closed_by_server)
    return engine


def drop_if_closed_by_server(dbapi_conn, _record, _proxy) -> None:
    """A pooled connection the server has closed (PostgreSQL restarted, the backend terminated) is
    dropped when it is taken from the pool, and the pool hands out a fresh one: what
    ``pool_pre_ping`` does, without its round trip (a ``SELECT 1`` before every request's
    transaction). An idle pooled connection has nothing to read (none of them LISTENs) unless the
    server has sent its goodbye (the "terminating connection" error) or closed the socket, so one
    non-blocking ``select`` on it tells. A connection whose server vanished without closing it
    (a host gone from the network) is found out by the first statement, as with a ping."""
    if dbapi_conn.closed or dbapi_conn.broken:
        raise DisconnectionError("the connection is closed")
    readable, _, _ = select.select([dbapi_conn.fileno()], [], [], 0)
    if readable:
        raise DisconnectionError("the server closed the connection")


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextlib.contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def is_postgres(engine_or_session) -> bool:
    bind = engine_or_session.get_bind() if isinstance(engine_or_session, Session) else engine_or_session
    return bind.dialect.name == "postgresql"


def ensure_database(url: str) -> bool:
    """Create the PostgreSQL database named in ``url`` if it is missing. Returns True if created.
    SQLite files are created on first connect, so nothing to do there."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return False
    admin = u.set(drivername="postgresql+psycopg", database="postgres")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}).scalar()
            if exists:
                return False
            conn.execute(text(f'CREATE DATABASE "{u.database}"'))
            return True
    finally:
        engine.dispose()


def drop_database(url: str) -> None:
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        return
    admin = u.set(drivername="postgresql+psycopg", database="postgres")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)'))
    finally:
        engine.dispose()


def alembic_config(migrations_dir: Path, url: str):
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations_dir))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(migrations_dir: Path, url: str, engine: Engine | None = None) -> None:
    """Apply the service's Alembic migrations to head (creating the PG database first)."""
    from alembic import command

    ensure_database(url)
    cfg = alembic_config(migrations_dir, url)
    if engine is not None:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    else:
        command.upgrade(cfg, "head")


_ROLE_NAME = r"^[a-z_][a-z0-9_]{0,62}$"


def ensure_login_role(url: str, role: str, password: str) -> bool:
    """Create ``role`` (LOGIN, no other attribute) on the server of ``url`` with ``password``, or
    set the password of the existing role — so the deployment's secret stays the one truth and a
    changed secret takes effect on the next ``kinerja db upgrade``. The password is hashed here
    (SCRAM, libpq's ``PQencryptPasswordConn``, as psql's ``\\password``): it never reaches the
    server's statement log. Refuses the connecting role itself and superusers (a superuser ignores
    every REVOKE). The connecting role needs CREATEROLE. Returns True when the role was created."""
    import re

    from sqlalchemy.exc import DBAPIError

    if not re.match(_ROLE_NAME, role):
        raise ValueError(f"a database role name is lower-case letters, digits and _, not {role!r}")
    if not password:
        raise ValueError(f"no password for database role {role!r}")
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        raise ValueError("ensure_login_role: PostgreSQL only (SQLite has no roles)")
    engine = create_engine(u.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            me = conn.execute(text("SELECT current_user")).scalar()
            if role == me:
                raise ValueError(f"the services' role {role!r} is the role migrating (the tables' owner): name another")
            found = conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = :r"), {"r": role}).first()
            if found is not None and found.rolsuper:
                raise ValueError(f"database role {role!r} is a superuser: no REVOKE holds for it; name another")
            pgconn = conn.connection.dbapi_connection.pgconn
            hashed = pgconn.encrypt_password(password.encode(), role.encode(), None).decode()
            # the hash is base64, digits, '$', ':' and '=' only: no quote can occur in it
            verb = "CREATE" if found is None else "ALTER"
            try:
                conn.exec_driver_sql(f"{verb} ROLE {role} LOGIN PASSWORD '{hashed}'")  # no bind parameters
            except DBAPIError as exc:
                raise ValueError(
                    f"cannot {verb.lower()} database role {role!r} as {me!r}: {str(exc.orig).strip()} — give "
                    f"{me!r} CREATEROLE, or create {role!r} yourself and leave DATABASE_APP_PASSWORD unset"
                ) from None
            return found is None
    finally:
        engine.dispose()


def grant_app_role(url: str, role: str) -> list[str]:
    """Let ``role`` (the role the services connect as, not the tables' owner) read and write the
    database of ``url`` — and nothing more on its append-only tables: UPDATE, DELETE and TRUNCATE
    are revoked on every table that carries the append-only triggers (``*_append_only()``: the audit
    log, reviews' signed documents), so changing them needs the owner, not a stolen app password.
    Returns the append-only tables. PostgreSQL only; the role must exist (the operator creates it)."""
    import re

    if not re.match(_ROLE_NAME, role):
        raise ValueError(f"a database role name is lower-case letters, digits and _, not {role!r}")
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        raise ValueError("grant_app_role: PostgreSQL only (SQLite has no roles)")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            found = conn.execute(
                text("SELECT rolsuper, rolname = current_user AS me FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).first()
            if found is None:
                raise ValueError(f"database role {role!r} does not exist: CREATE ROLE {role} LOGIN PASSWORD '…' first")
            if found.rolsuper or found.me:  # a superuser ignores every REVOKE; the owner may grant itself back
                raise ValueError(f"database role {role!r} is a superuser or the tables' owner: name another")
            append_only = sorted(
                conn.execute(
                    text(
                        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                        "JOIN pg_proc p ON p.oid = t.tgfoid "
                        "WHERE NOT t.tgisinternal AND p.proname LIKE '%\\_append\\_only'"
                    )
                ).scalars()
            )
            for statement in (
                f'GRANT CONNECT ON DATABASE "{u.database}" TO {role}',
                f"GRANT USAGE ON SCHEMA public TO {role}",
                f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
                f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
                *(f'REVOKE UPDATE, DELETE, TRUNCATE ON "{t}" FROM {role}' for t in append_only),
            ):
                conn.execute(text(statement))
        return append_only
    finally:
        engine.dispose()


def copy_rows(s: Session, table, rows: list[dict]) -> None:
    """Write ``rows`` (dicts with the same keys, named after ``table``'s columns) into ``table`` with
    PostgreSQL's ``COPY … FROM STDIN`` on the session's connection, in its transaction: for tens of
    thousands of rows about a third of the CPU of an ``executemany`` of INSERTs (every parameter
    marshalled through SQLAlchemy, a statement per row on the server). Columns left out take the database's defaults
    only (SQLAlchemy's Python-side ones do not apply: the recorder's rows name every such column)."""
    from psycopg import sql

    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(sql.Identifier(table.c[c].name) for c in columns)
    )
    raw = s.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[c] for c in columns])
