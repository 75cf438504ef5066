"""ETag/If-Match and cursor pagination."""

from __future__ import annotations

import base64
import functools
import json
import math
import re
from datetime import datetime, timezone
from typing import Any

from flask import request
from marshmallow import Schema, fields, missing, validate
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


class ObjectSchema(Schema):
    """A response schema that dumps objects (ORM rows; not mappings) field by field without
    marshmallow's lookup chain for every value (``Field.serialize`` → ``get_value`` →
    ``utils.get_value``): the same output — each field's own ``_serialize`` still makes the value —
    at about half the cost (dumping a page of 50 rows was a third of a list request's CPU). A mapping
    or a schema with its own ``get_attribute`` takes marshmallow's path, and so does each field that
    finds its value its own way (its own ``get_value``/``serialize``, no attribute read, a
    ``dump_default``, a dotted ``attribute``); pre/post-dump hooks run as ever."""

    def _serialize(self, obj, *, many: bool = False):
        if many and obj is not None:
            return [self._serialize(item) for item in obj]
        plan = self._object_plan
        if plan is None or hasattr(obj, "__getitem__"):  # marshmallow reads obj[key] first: its path
            return super()._serialize(obj, many=False)
        out = self.dict_class()
        for key, name, attribute, field in plan:
            if attribute is None:  # a field that reads its value its own way: marshmallow's path for it
                value = field.serialize(name, obj, accessor=self.get_attribute)
            else:
                value = getattr(obj, attribute, missing)
                if value is not missing:
                    value = field._serialize(value, name, obj)
            if value is not missing:
                out[key] = value
        return out

    @functools.cached_property
    def _object_plan(self) -> tuple | None:
        if type(self).get_attribute is not Schema.get_attribute:
            return None
        plan = []
        for name, field in self.dump_fields.items():
            attribute = name if field.attribute is None else field.attribute
            own_way = (
                not field._CHECK_ATTRIBUTE
                or field.dump_default is not missing
                or "." in attribute
                or type(field).get_value is not fields.Field.get_value
                or type(field).serialize is not fields.Field.serialize
            )
            plan.append(
                (name if field.data_key is None else field.data_key, name, None if own_way else attribute, field)
            )
        return tuple(plan)


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


LIST_CAP = 1000  # the most items an endpoint that answers a plain list (not pages) sends at once


def capped(session: Session, stmt: Select, what: str, cap: int | None = None) -> list:
    """The rows of ``stmt`` for an endpoint answering a plain list, bounded by its nature (one plan's
    versions, realisations or feedback; one evaluation's documents): at most ``cap``, and beyond it a
    422 ``list.too_long`` naming ``what`` — never an answer of unbounded size."""
    cap = LIST_CAP if cap is None else cap
    rows = list(session.scalars(stmt.limit(cap + 1)))
    if len(rows) > cap:
        raise Problem(422, "list.too_long", what=what, limit=cap)
    return rows


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


# ------------------------------------------------------------------ what a JSON body may hold

MAX_JSON_DEPTH = 32  # the deepest body the APIs take (an SKP: rhk[].iki[].… ) is far shallower
_INT_LIMIT = 2**63  # a whole number beyond a 64-bit integer fits no column
_SURROGATE = re.compile("[\ud800-\udfff]")
_MAX_REPORTED = 20


class _OutOfRange:
    """A number json.loads read that no field can take (too many digits, NaN, ±Infinity)."""


def _bounded_int(text: str):
    if len(text) > 20:  # parsed no further: Python refuses ints beyond 4,300 digits with a ValueError (a 500)
        return _OutOfRange()
    value = int(text)
    return value if -_INT_LIMIT <= value < _INT_LIMIT else _OutOfRange()


def _string_error(text: str) -> str | None:
    if "\x00" in text:
        return "field.nul"  # PostgreSQL stores no NUL character
    if _SURROGATE.search(text):
        return "field.surrogate"  # half of a UTF-16 pair: no UTF-8 encoding, no column takes it
    return None


def _value_error(value) -> str | None:
    if isinstance(value, str):
        return _string_error(value)
    if isinstance(value, _OutOfRange) or (isinstance(value, float) and not math.isfinite(value)):
        return "field.number_range"
    return None


def _shown(name: str) -> str:
    """A name as the problem can carry it (a lone surrogate has no UTF-8: shown as ``?``)."""
    return name.encode("utf-8", "replace").decode()


def check_json_body(raw: bytes) -> None:
    """Refuse a JSON body the services cannot take, before any view parses it: malformed (400
    ``http.bad_json``), nested deeper than :data:`MAX_JSON_DEPTH` (400 ``http.json_depth``), or
    holding a number beyond a 64-bit integer or not finite (``field.number_range``), a NUL character
    (``field.nul``) or a lone surrogate (``field.surrogate``) in any string or key (422, field by field)."""
    try:
        body = json.loads(raw, parse_int=_bounded_int, parse_constant=lambda _: _OutOfRange())
    except RecursionError:
        raise Problem(400, "http.json_depth", limit=MAX_JSON_DEPTH) from None
    except ValueError:  # not UTF-8, not JSON
        raise Problem(400, "http.bad_json") from None
    errors: list[FieldError] = []
    code = _value_error(body)
    if code:
        errors.append(FieldError("body", code))
    stack = [(body, "", 1)] if isinstance(body, (dict, list)) else []
    while stack and len(errors) < _MAX_REPORTED:  # containers only: scalars are checked in place
        value, path, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Problem(400, "http.json_depth", limit=MAX_JSON_DEPTH)
        is_dict = isinstance(value, dict)
        for key, item in value.items() if is_dict else enumerate(value):
            if is_dict:
                key_code = _string_error(key)
                if key_code:
                    errors.append(FieldError(path or "body", key_code, {"key": _shown(key)}))
            code = _value_error(item)
            if code or isinstance(item, (dict, list)):
                where = (f"{path}.{_shown(key)}" if path else _shown(key)) if is_dict else f"{path}[{key}]"
                if code:
                    errors.append(FieldError(where, code))
                else:
                    stack.append((item, where, depth + 1))
    if errors:
        raise Problem(422, "validation", errors=sorted(errors, key=lambda e: e.field))


def check_text(values) -> None:
    """Refuse NUL characters and lone surrogates in query parameters and form fields
    (``(name, value)`` pairs): 422 field by field."""
    errors = []
    for name, value in values:
        code = _string_error(name) or (_string_error(value) if isinstance(value, str) else None)
        if code:
            errors.append(FieldError(_shown(name), code))
    if errors:
        raise Problem(422, "validation", errors=errors[:_MAX_REPORTED])


# ------------------------------------------------------------------ rebuilding from another service


def remote_fetcher(base_url: str, authorization: str, unreachable_code: str, timeout: float = 30.0):
    """``fetch(path) -> json`` against another service's API with the caller's ``Authorization``
    (how a service rebuilds a read model from its owner), through the one client
    (:class:`~services.common.client.ApiClient`). Unreachable, timing out, answering an error or
    non-JSON: 503 with ``unreachable_code``."""
    client = ApiClient(base_url, timeout=timeout, user_agent="kinerja-readmodel")

    def fetch(path: str):
        fetch.last_path = path.partition("?")[0]  # named by a 502 when its reply lacks a field (complete_reply)
        try:
            return client.request("GET", path, headers={"Authorization": authorization}).json()
        except (ApiError, ValueError) as exc:
            raise Problem(503, unreachable_code, reason=str(exc)[:200])

    fetch.unreachable_code = unreachable_code  # walk_pages answers a malformed page with it too
    return fetch


def walk_pages(fetch, path: str, limit: int = 200):
    """Every item of a cursor-paginated list, page by page (the one pagination helper,
    :func:`~services.common.client.cursor_pages`, over ``fetch(path) -> json``). A page that is not
    ``{"items": [{...}], "next_cursor": ...}`` (a truncated reply), or a cursor given twice, is the
    503 of ``fetch`` (its ``unreachable_code``), never a 500."""
    sep = "&" if "?" in path else "?"
    pages = cursor_pages(
        lambda cursor: fetch(f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else "")), what=path
    )
    code = getattr(fetch, "unreachable_code", "problem.503")
    try:
        for item in pages:
            if not isinstance(item, dict):
                raise Problem(503, code, reason=f"{path} answered an item that is not an object")
            yield item
    except ApiError as exc:
        raise Problem(503, code, reason=str(exc)[:200]) from None
