"""``kinerja portal``: the operator's commands for the web portal's sessions (no HR token needed:
they act on the portal's database, ``PORTAL_DATABASE_URL`` — else ``DATABASE_URL``'s server with
the database ``kinerja_portal`` — else, embedded, ``var/portal.db``)."""

from __future__ import annotations

import click


def _database_url() -> str:
    from services.common.config import service_database_url

    return service_database_url("portal")


@click.group()
def portal():
    """The web portal."""


@portal.group()
def sessions():
    """Signed-in sessions, kept on the server."""


@sessions.command("revoke")
@click.option("--user", "subjects", multiple=True, help="Subject (token 'sub') of the person; repeatable.")
@click.option("--nip", "nips", multiple=True, help="NIP of the person; repeatable.")
def revoke(subjects, nips):
    """End every portal session of a person: run it after a password or role change (their next
    request gets the login page). Their API token already issued stays valid until it expires."""
    from services.portal.sessions import revoke as revoke_sessions

    if not subjects and not nips:
        raise click.UsageError("name the person: --user <sub> or --nip <NIP>")
    url = _database_url()
    for subject in subjects:
        click.echo(f"{subject}: {revoke_sessions(url, subject=subject)} session(s) ended")
    for nip in nips:
        click.echo(f"NIP {nip}: {revoke_sessions(url, nip=nip)} session(s) ended")


@sessions.command("upgrade")
def upgrade():
    """Create the portal's database (PostgreSQL, if missing) and its session table; safe to repeat."""
    from sqlalchemy.engine import make_url

    from services.portal.sessions import upgrade as upgrade_sessions

    url = _database_url()
    upgrade_sessions(url)
    click.echo(f"portal: sessions table ready ({make_url(url).render_as_string(hide_password=True)})")
