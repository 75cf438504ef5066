"""Operators' commands: the first agency on a fresh install, the development identity provider,
the Prefect deployments, and ``make up`` / ``make down`` (the production topology on one machine)."""

from __future__ import annotations

import os
import secrets

import click

#: ``--role`` (repeatable) with the roles a token or a development-IdP user may carry
role_option = click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    type=click.Choice(["employee", "supervisor", "hr", "agency", "admin"]),
)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


# ---------------------------------------------------------------------- admin


@click.group()
def admin():
    """Installation tasks (run where the services' configuration is: DATABASE_URL, …)."""


@admin.command("bootstrap")
@click.option("--agency", "code", required=True, help="Agency code, e.g. PKTD (A–Z, 0–9, _ or -).")
@click.option("--name", required=True, help="The agency's name, e.g. 'Pemerintah Kota Teluk Damar'.")
@click.option(
    "--hr-username", default=None, help="Development IdP only: the HR administrator's username (default hr.<agency>)."
)
@click.option("--hr-name", default=None, help="Development IdP only: the HR administrator's display name.")
@click.option(
    "--hr-password",
    default=None,
    envvar="KINERJA_HR_PASSWORD",
    help="Development IdP only: the password (default: a new random one, printed once).",
)
def bootstrap(code, name, hr_username, hr_name, hr_password):
    """Create the first agency and its HR administrator on a fresh install (safe to repeat).

    The agency is written by the plans service's own use case (audited as 'bootstrap'). The HR
    administrator is a person of the agency's identity provider whose tokens carry
    roles ["hr"] and agency <code>; with the development provider of `make up` (DEV_IDP_DIR set)
    this command creates that user too."""
    from marshmallow import ValidationError

    from services.common.auth import Principal
    from services.common.config import Config, ConfigError
    from services.common.errors import Problem
    from services.plans import directory as plans_service
    from services.plans.app import create_app
    from services.plans.directory import AgencyIn

    try:  # the rules POST /agencies applies
        data = AgencyIn().load({"code": code, "name": name})
    except ValidationError as exc:
        raise click.BadParameter("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.messages.items())) from None

    try:
        app = create_app(Config.from_env("plans"), migrate=True)
    except ConfigError as exc:
        raise _fail(exc)
    platform = app.extensions["kinerja"]
    installer = Principal(sub="bootstrap", roles=frozenset({"admin"}))
    with app.app_context():
        try:
            with platform.uow() as s:
                plans_service.create_agency(s, installer, data)
            click.echo(f"agency {code} created: {name}")
        except Problem as exc:
            if exc.code != "plans.agency_exists":
                raise
            click.echo(f"agency {code} exists already")
    platform.engine.dispose()

    if not os.environ.get("DEV_IDP_DIR"):
        click.echo(
            f'HR administrator: in the agency\'s identity provider, give them tokens with roles ["hr"] and '
            f'agency "{code}" (README: Run in production → identity provider).'
        )
        return
    from .devidp import IdpSettings, IdpStore

    try:
        store = IdpStore(IdpSettings.from_env().directory)
    except ConfigError as exc:
        raise _fail(exc)
    username = hr_username or f"hr.{code.lower()}"
    existing = store.users().get(username)
    if existing and not hr_password:
        click.echo(f"HR administrator {username} exists already in the development identity provider")
        return
    password = hr_password or secrets.token_urlsafe(12)
    store.put_user(username, password, name=hr_name or f"Admin SDM {code}", roles=["hr"], agency=code)
    click.echo(f"HR administrator {username} created in the development identity provider")
    if not hr_password:
        click.echo(f"  password: {password}")


# ---------------------------------------------------------------------- development identity provider


@click.group()
def idp():
    """The development OpenID Connect provider of `make up` (DEV_IDP_DIR, DEV_IDP_ISSUER)."""


def _store():
    from services.common.config import ConfigError

    from .devidp import IdpSettings, IdpStore

    try:
        return IdpStore(IdpSettings.from_env().directory)
    except ConfigError as exc:
        raise _fail(exc)


@idp.command("user")
@click.argument("username")
@click.option("--name", required=True)
@role_option
@click.option("--agency", required=True)
@click.option("--nip", default=None)
@click.option("--password", default=None, help="Default: a new random one, printed once.")
def idp_user(username, name, roles, agency, nip, password):
    """Add or replace a person who may sign in (e.g. an employee of the directory, by NIP)."""
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    _store().put_user(username, password, name=name, roles=list(roles), agency=agency, nip=nip)
    click.echo(f"{username}: saved" + (f"; password: {password}" if generated else ""))


@idp.command("serve")
@click.option("--bind", default="127.0.0.1:8090", show_default=True)
def idp_serve(bind):
    """Serve the provider (one process; `make up` runs it under gunicorn)."""
    from werkzeug.serving import run_simple

    from services.common.config import ConfigError

    from .devidp import create_app

    host, _, port = bind.rpartition(":")
    try:
        app = create_app()
    except ConfigError as exc:
        raise _fail(exc)
    run_simple(host or "127.0.0.1", int(port), app, threaded=True)


# ---------------------------------------------------------------------- Prefect deployments


@click.group("flows")
def flows_group():
    """The Prefect deployments of the flows (PREFECT_API_URL: the Prefect server)."""


@flows_group.command("deploy")
@click.option(
    "--base-url",
    envvar="KINERJA_BASE_URL",
    required=True,
    help="The gateway the flows call (KINERJA_BASE_URL), e.g. https://kinerja.example.go.id",
)
@click.option("--work-pool", default="kinerja", show_default=True)
@click.option("--paused", is_flag=True, help="Register the schedules paused.")
def flows_deploy(base_url, work_pool, paused):
    """Create the process work pool if missing and apply every deployment (safe to repeat)."""
    if not os.environ.get("PREFECT_API_URL"):
        raise click.ClickException("set PREFECT_API_URL to the Prefect server's API, e.g. http://prefect:4200/api")
    import flows  # noqa: F401 - quiet, offline Prefect settings
    from flows.deployments import deploy

    for name, deployment_id in deploy(base_url, work_pool=work_pool, paused=paused):
        click.echo(f"{name}: {deployment_id}")


# ---------------------------------------------------------------------- make up / make down


@click.command()
@click.option("--port", default=None, type=int, help="Gateway port (default $UP_PORT or 8080).")
@click.option("--agency", default=None, help="First agency (default $UP_AGENCY or DEMO).")
def up(port, agency):
    """The production topology as local processes on this machine (`make up`)."""
    from . import up as launcher

    try:
        launcher.up(port=port, agency=agency)
    except launcher.UpError as exc:
        raise _fail(exc)


@click.command()
def down():
    """Stop exactly what `make up` started (`make down`)."""
    from . import up as launcher

    launcher.down()
