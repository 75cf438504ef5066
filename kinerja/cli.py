"""``kinerja``: the command line and the embedded all-in-one runner."""

from __future__ import annotations

import logging
import os
import sys
import threading
from pathlib import Path

import click

os.environ.setdefault("DO_NOT_TRACK", "1")
# Prometheus' multiprocess mode belongs to gunicorn's workers (kinerja/gunicorn_conf.py); a command
# line process (a worker, a one-shot) keeps its counters in memory even where the image sets it.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)


class _Main(click.Group):
    """A configuration that cannot run stops the command with its message (which names the
    variable to set), never a traceback."""

    def invoke(self, ctx):
        from services.common.config import ConfigError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=_Main)
def main():
    """Kinerja — manajemen kinerja ASN / ASN performance management."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--expose",
    is_flag=True,
    help="Listen on an address other machines reach, knowing its development login signs anyone in as anyone.",
)
def serve(host, port, expose):
    """Start every service in one process on embedded defaults (SQLite, memory bus). It is for one
    machine: its portal's development login lets whoever reaches it sign in as anyone, so an
    address other than loopback needs --expose."""
    import ipaddress

    from werkzeug.serving import run_simple

    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not expose:
        raise click.UsageError(
            f"--host {host} lets other machines reach the embedded runner, whose development login signs "
            "anyone in as anyone (HR and admin included). Use 127.0.0.1, or add --expose on a network you "
            "trust; for an agency, run the production wiring (make up, deploy/)."
        )

    from services.common.observability import configure_logging

    from .embedded import Embedded

    configure_logging()
    if not loopback:
        click.echo(f"WARNING: reachable from other machines at {host}:{port} with the development login", err=True)
    emb = Embedded()
    emb.start_worker()
    click.echo(
        f"Kinerja embedded: http://{host}:{port}/  (docs: "
        + ", ".join(f"http://{host}:{port}/{s}/docs" for s in emb.apps)
        + ")",
        err=True,
    )
    try:
        run_simple(host, port, emb.wsgi, threaded=True, use_reloader=False)
    finally:
        emb.close()


@main.group()
def db():
    """Database tasks."""


@db.command("upgrade")
@click.option("--service", "services", multiple=True, help="Only these services, or 'portal' (default: all).")
@click.option(
    "--grant-to",
    "app_role",
    default=None,
    envvar="DATABASE_APP_ROLE",
    help="PostgreSQL role the services connect as: may read and write, but not change or delete the "
    "append-only tables (audit log, signed documents). Run as the tables' owner.",
)
@click.option(
    "--app-password",
    default=None,
    envvar="DATABASE_APP_PASSWORD",
    help="Create the --grant-to role (LOGIN) with this password, or set it if the role exists: the owner "
    "needs CREATEROLE. Give it in the environment (DATABASE_APP_PASSWORD), not on the command line.",
)
def db_upgrade(services, app_role, app_password):
    """Create each service's database if missing (PostgreSQL) and apply its Alembic migrations; then
    the portal's session store (``kinerja_portal``). With ``--grant-to ROLE`` (``DATABASE_APP_ROLE``),
    grant that role what the services need and revoke UPDATE, DELETE and TRUNCATE on the append-only
    tables; with ``DATABASE_APP_PASSWORD`` too, create that role first (or set its password), so a
    deployment's manifests need nothing run by hand on the database server."""
    from services.common.config import Config, service_database_url
    from services.common.db import grant_app_role, upgrade
    from services.portal.sessions import upgrade as upgrade_sessions

    from . import registry

    if app_password and not app_role:
        raise click.UsageError("DATABASE_APP_PASSWORD (--app-password) needs the role: --grant-to / DATABASE_APP_ROLE")
    servers: set = set()  # the role is the server's, not a database's: once per server
    for name in services or registry.SERVICES:
        if name == "portal":
            continue
        cfg = Config.from_env(name)
        upgrade(registry.migrations_dir(name), cfg.database_url)
        click.echo(f"{name}: migrated ({_safe_url(cfg.database_url)})")
        _grant(cfg.database_url, app_role, app_password, servers, name, grant_app_role)
    if not services or "portal" in services:
        url = service_database_url("portal")
        upgrade_sessions(url)
        click.echo(f"portal: sessions ready ({_safe_url(url)})")
        _grant(url, app_role, app_password, servers, "portal", grant_app_role)


def _grant(url: str, role: str | None, password: str | None, servers: set, name: str, grant_app_role) -> None:
    if not role:
        return
    from sqlalchemy.engine import make_url

    from services.common.db import ensure_login_role

    u = make_url(url)
    server = (u.host, u.port, u.username)
    if password and server not in servers:
        try:
            created = ensure_login_role(url, role, password)
        except ValueError as exc:
            raise click.ClickException(f"{name}: {exc}")
        servers.add(server)
        click.echo(f"{name}: database role {role} {'created' if created else 'password set'} on {u.host or 'local'}")
    try:
        append_only = grant_app_role(url, role)
    except ValueError as exc:
        raise click.ClickException(f"{name}: {exc}")
    kept = f"; append-only for it: {', '.join(append_only)}" if append_only else ""
    click.echo(f"{name}: {role} may read and write{kept}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.command()
@click.option(
    "--role",
    "roles",
    multiple=True,
    type=click.Choice(["employee", "supervisor", "hr", "agency", "admin"]),
    help="A person's role (repeat for several); not with --client.",
)
@click.option("--client", "client_id", default=None, help="A machine client's id: role agency, sub = the id.")
@click.option(
    "--scope", default=None, help='The machine client\'s scopes, space-separated ("results:read directory:read").'
)
@click.option("--agency", default=None, help="Agency code (claim 'agency').")
@click.option("--nip", default=None, help="NIP of the person (claim 'nip').")
@click.option("--sub", default=None, help="Subject; defaults to the NIP.")
@click.option("--ttl", default=8 * 3600, show_default=True, type=int, help="Lifetime in seconds.")
def token(roles, client_id, scope, agency, nip, sub, ttl):
    """Print a development token: HS256 in embedded mode; in production only with the development
    identity provider of `make up` (DEV_IDP_DIR, DEV_IDP_ISSUER), RS256 from its key. A person's
    with --role; a machine client's of an agency with --client ID --agency CODE --scope "…" (issue 16:
    what it may call is what its scopes open)."""
    from services.common.auth import issue_token
    from services.common.config import Config, ConfigError

    from .registry import SCOPES

    scopes = (scope or "").split()
    if client_id:
        if set(roles) - {"agency"} or nip or sub:
            raise click.UsageError("--client is a machine client (role agency, no NIP): leave out --role, --nip, --sub")
        if not agency:
            raise click.UsageError("--client needs --agency: a machine client belongs to an agency")
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise click.BadParameter(
                f"unknown {' '.join(unknown)}; choose from {', '.join(SCOPES)}", param_hint="--scope"
            )
        roles, sub = ("agency",), client_id
    elif not roles:
        raise click.UsageError("give --role (a person's token) or --client (a machine client's)")
    elif scopes:
        raise click.UsageError("--scope goes with --client: a person's roles decide, scopes are machine clients'")
    try:
        cfg = Config.from_env("plans")
    except ConfigError as exc:
        raise click.ClickException(str(exc))
    if not 0 < ttl <= cfg.jwt_max_ttl:
        raise click.BadParameter(f"must be 1 to {cfg.jwt_max_ttl} seconds (JWT_MAX_TTL): the services refuse longer")
    scope = " ".join(scopes) or None
    if cfg.embedded:
        click.echo(
            issue_token(
                cfg.jwt_secret, roles=list(roles), agency=agency, nip=nip, sub=sub, scope=scope, ttl_seconds=ttl
            )
        )
        return
    if not os.environ.get("DEV_IDP_DIR"):
        raise click.ClickException(
            "tokens come from the agency's identity provider in production mode "
            "(or set DEV_IDP_DIR and DEV_IDP_ISSUER to the development provider of `make up`)"
        )
    from .devidp import IdpSettings, IdpStore

    try:
        idp = IdpSettings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc))
    click.echo(
        IdpStore(idp.directory).access_token(
            issuer=idp.issuer,
            audience=cfg.jwt_audience,
            sub=sub or nip or f"{'-'.join(roles)}-cli",
            roles=list(roles),
            agency=agency,
            nip=nip,
            client_id=client_id,
            scope=scope,
            ttl=ttl,
        )
    )


@main.command()
@click.option("--service", required=True, type=click.Choice(["plans", "reviews", "surveys", "notifications"]))
def worker(service):
    """Run one service's outbox relay and event consumer (production: one per service)."""
    from services.common.bus import BusWorker
    from services.common.observability import configure_logging

    from . import registry

    configure_logging()
    app = registry.app_module(service).create_app()
    platform = app.extensions["kinerja"]
    handlers = registry.events_module(service).CONSUMES
    consumers = [platform.consumer(handlers)] if handlers else []
    w = BusWorker([platform.relay()], consumers)
    w.start()
    from .embedded import JobRunner

    jobs = JobRunner(registry.background_jobs(service, platform))
    jobs.start()
    stop = threading.Event()
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        jobs.stop()
        w.stop()


@main.group()
def events():
    """The event catalogue."""


@events.command("catalogue")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Write to this file.")
def events_catalogue(output):
    """Render the event catalogue (types, producers, consumers, payload schemas) as Markdown."""
    from services.common.catalogue import render_markdown

    from . import registry

    specs = [spec for name in registry.SERVICES for spec in registry.events_module(name).PUBLISHES]
    _write_or_print(render_markdown(specs), output)


def _write_or_print(text: str, output: Path | None) -> None:
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}")
    else:
        sys.stdout.write(text)


@events.command("asyncapi")
@click.option("--output", type=click.Path(path_type=Path), default=None, help="Write to this file.")
def events_asyncapi(output):
    """The AsyncAPI 3.0 document of every service's events (JSON)."""
    _write_or_print(asyncapi_text(), output)


def asyncapi_text() -> str:
    import json

    from services.common.asyncapi import document

    from . import registry

    specs = [spec for name in registry.SERVICES for spec in registry.events_module(name).PUBLISHES]
    doc = document(
        specs,
        title="Kinerja events",
        description="Every event of every Kinerja service (the same schemas as docs/events.md): CloudEvents 1.0 "
        "structured JSON on RabbitMQ, and the bodies of webhook deliveries.",
    )
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


@main.command()
@click.option("--out", type=click.Path(path_type=Path), default=Path("var/demo"), show_default=True)
@click.option("--seed", default=2026, show_default=True, type=int)
def demo(out, seed):
    """Run the demo on embedded defaults and write var/demo/summary.json."""
    from . import demo as demo_mod

    logging.getLogger().setLevel(logging.WARNING)
    try:
        demo_mod.run(out, seed=seed)
    except demo_mod.DemoError as exc:
        raise click.ClickException(str(exc))


from .audit_cmd import audit  # noqa: E402  (kinerja audit verify)
from .hr import hr  # noqa: E402  (the HR commands, through the HTTP APIs)
from .ops import admin, down, flows_group, idp, up  # noqa: E402  (operators: first agency, dev IdP, make up)
from .portal_cmd import portal  # noqa: E402  (operators: the portal's sessions)

main.add_command(hr)
main.add_command(audit)
main.add_command(portal)
for _command in (admin, flows_group, idp, up, down):
    main.add_command(_command)


if __name__ == "__main__":  # pragma: no cover
    main()
