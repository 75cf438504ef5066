"""ETag/If-Match and cursor pagination."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from flask import request
from marshmallow import Schema, fields, validate
from sqlalchemy import Select
from sqlalchemy.orm import Session

from .client import ApiClient, ApiError, cursor_pages
from .errors import FieldError, Problem


class UtcDateTime(fields.DateTime):
    """Instants as RFC 3339 with their offset: stored in UTC, and SQLite hands them back naive, so
    a naive value is said to be UTC on the way out (a string passes as it is)."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):
            return value
        if isinstance(value, datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)


class ImportRowError(Schema):
    """One refused row of a CSV import: its number, the column, the error code and its text."""

    row = fields.Integer()
    field = fields.String()
    code = fields.String()
    detail = fields.String()


def import_rejected(errors: list[dict], **params) -> Problem:
    """422 ``import.rejected`` for a CSV import refused as a whole: every refused row's field error
    (``rows[<row>].<field>``), and ``params`` (e.g. ``rows=`` the number of rows read)."""
    return Problem(
        422,
        "import.rejected",
        errors=[
            FieldError(f"rows[{e['row']}].{e['field']}", e["code"], e.get("params") or {}, e.get("message"))
            for e in errors
        ],
        **params,
    )


def etag_of(version: int) -> str:
    return f'"{version}"'


def with_etag(obj):
    """Mark a versioned resource so the response flask-smorest builds carries its ``ETag``."""
    from flask import g

    g.etag_version = obj.version
    return obj


def add_etag(response):
    """``after_request`` hook installed by ``create_service_app``: sets the ETag marked by ``with_etag``."""
    from flask import g

    version = g.pop("etag_version", None)
    if version is not None and response.status_code < 300:
        response.headers["ETag"] = etag_of(version)
    return response


def require_if_match(current_version: int) -> None:
    """428 without If-Match, 412 when it names another version (``*`` accepts any)."""
    header = request.headers.get("If-Match")
    current = etag_of(current_version)
    if not header:
        raise Problem(428, "etag.required", etag=current)
    given = [t.strip().removeprefix("W/") for t in header.split(",")]
    if "*" in given or current in given:
        return
    raise Problem(412, "etag.stale", given=header, etag=current, headers={"ETag": current})


def encode_cursor(key: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
    except Exception:
        raise Problem(422, "validation", errors=[FieldError("cursor", "pagination.cursor")])


class PageArgs(Schema):
    cursor = fields.String(load_default=None)
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


def page_schema(item_schema) -> type[Schema]:
    name = item_schema.__name__ if isinstance(item_schema, type) else type(item_schema).__name__
    return Schema.from_dict(
        {"items": fields.List(fields.Nested(item_schema)), "next_cursor": fields.String(allow_none=True)},
        name=f"{name.removesuffix('Schema')}Page",
    )


def paginate(session: Session, stmt: Select, key_column, cursor: str | None, limit: int) -> dict:
    """Keyset pagination on a unique, ascending ``key_column``."""
    if cursor:
        key = decode_cursor(cursor)
        try:
            expected = key_column.type.python_type
        except NotImplementedError:
            expected = object
        # a well-formed cursor of another type (a list, a string for an integer key) is still invalid
        if key is None or isinstance(key, bool) or not isinstance(key, expected):
            raise Problem(422, "validation", errors=[FieldError("cursor", "pagination.cursor")])
        stmt = stmt.where(key_column > key)
    rows = session.scalars(stmt.order_by(key_column).limit(limit + 1)).all()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(getattr(rows[-1], key_column.key))
    return {"items": rows, "next_cursor": next_cursor}


def remote_fetcher(base_url: str, authorization: str, unreachable_code: str, timeout: float = 30.0):
    """``fetch(path) -> json`` against another service's API with the caller's ``Authorization``
    (how a service rebuilds a read model from its owner), through the one client
    (:class:`~services.common.client.ApiClient`). Unreachable, timing out, answering an error or
    non-JSON: 503 with ``unreachable_code``."""
    client = ApiClient(base_url, timeout=timeout, user_agent="kinerja-readmodel")

    def fetch(path: str):
        try:
            return client.request("GET", path, headers={"Authorization": authorization}).json()
        except (ApiError, ValueError) as exc:
            raise Problem(503, unreachable_code, reason=str(exc)[:200])

    return fetch


def walk_pages(fetch, path: str, limit: int = 200):
    """Every item of a cursor-paginated list, page by page (the one pagination helper,
    :func:`~services.common.client.cursor_pages`, over ``fetch(path) -> json``)."""
    sep = "&" if "?" in path else "?"
    return cursor_pages(lambda cursor: fetch(f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")))
