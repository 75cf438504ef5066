"""How an HR command reaches the APIs: the client from ``--url``/``--token`` and the API's refusals
as the command's own error message."""

from __future__ import annotations

from functools import wraps

import click

from .http import ApiError, Client


class HrError(click.ClickException):
    def show(self, file=None):
        click.echo(f"Galat (error): {self.format_message()}", err=True)


def api_errors(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ApiError as exc:
            raise HrError(exc.message) from None

    return wrapper


def client_of(ctx) -> Client:
    obj = ctx.find_object(dict) or {}
    if not obj.get("token"):
        raise HrError(
            "token diperlukan: --token atau KINERJA_TOKEN (a token is required; e.g. "
            "`kinerja token --role hr --agency KODE`)"
        )
    client = Client(obj["url"], obj["token"])
    ctx.call_on_close(client.close)
    return client
