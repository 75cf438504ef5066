"""RFC 9457 problem+json for every error the API returns.

Raise :class:`Problem` from anywhere in a request; HTTP exceptions, webargs/marshmallow
validation errors and registered domain errors are turned into the same shape:

    {"type": "https://kinerja.go.id/problems/<code>", "title": ..., "status": 422,
     "detail": ..., "instance": "/plans/api/v1/...", "code": "validation",
     "request_id": ..., "errors": [{"field": "rhk[0].iki[1].aspect", "pointer": "#/rhk/0/iki/1/aspect",
                                    "code": "iki.aspect", "detail": "..."}]}
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, Response, current_app, g, request
from marshmallow import INCLUDE, Schema, fields
from werkzeug.exceptions import HTTPException

from .context import get_request_id

log = logging.getLogger("kinerja.errors")
PROBLEM_TYPE_BASE = "https://kinerja.go.id/problems/"
PROBLEM_JSON = "application/problem+json"


@dataclass
class FieldError:
    field: str
    code: str
    params: dict = field(default_factory=dict)
    message: str | None = None  # already-rendered text (e.g. from marshmallow) when no catalogue key applies


class Problem(Exception):
    """An error a client can act on. ``code`` is a catalogue key for the detail text."""

    def __init__(
        self,
        status: int,
        code: str,
        /,
        *,
        errors: list[FieldError] | None = None,
        headers: dict | None = None,
        **params: Any,
    ):
        super().__init__(code)
        self.status = status
        self.code = code
        self.errors = errors or []
        self.headers = headers or {}
        self.params = params


class FieldErrorSchema(Schema):
    """One field's error in a problem: the field's path, its JSON pointer, the catalogue code, the text."""

    field = fields.String(required=True, metadata={"example": "rhk[0].iki[1].aspect"})
    pointer = fields.String(required=True, metadata={"example": "#/rhk/0/iki/1/aspect"})
    code = fields.String(required=True, metadata={"example": "iki.aspect"})
    detail = fields.String(required=True)
    params = fields.Dict(keys=fields.String())


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error is answered (``application/problem+json``); a problem
    may carry more members (the parameters of its ``detail``, e.g. ``etag``, ``retry_after``)."""

    class Meta:
        unknown = INCLUDE  # documented as open (additionalProperties), as RFC 9457 extension members are

    type = fields.String(required=True, metadata={"example": "https://kinerja.go.id/problems/validation"})
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    instance = fields.String(required=True)
    code = fields.String(required=True, metadata={"example": "validation"})
    request_id = fields.String(required=True)
    errors = fields.List(fields.Nested(FieldErrorSchema))


def document_problems(api) -> None:
    """The OpenAPI of a flask-smorest ``api`` says what the server sends: every error response (the
    shared ones each operation refers to) is ``application/problem+json`` with the Problem schema."""
    spec = api.spec
    if "Problem" not in spec.components.schemas:
        spec.components.schema("Problem", schema=ProblemSchema)
    content = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    spec.components.schemas.pop("Error", None)  # flask-smorest's JSON error, never sent
    for responses in (spec.components.responses_lazy, spec.components.responses):
        for response in responses.values():
            if "content" in response:
                response["content"] = dict(content)


def field_problem(field_name: str, code: str, status: int = 422, **params) -> Problem:
    return Problem(status, "validation", errors=[FieldError(field_name, code, params)])


def _pointer(path: str) -> str:
    parts = re.findall(r"[^.\[\]]+", path)
    return "#/" + "/".join(parts)


# marshmallow's English messages → catalogue keys, so field errors read in Bahasa Indonesia too
_MARSHMALLOW = {
    "Missing data for required field.": "field.required",
    "Unknown field.": "field.unknown",
    "Field may not be null.": "field.required",
    "Not a valid string.": "field.type",
    "Not a valid integer.": "field.type",
    "Not a valid number.": "field.type",
    "Not a valid boolean.": "field.type",
    "Not a valid date.": "field.type",
    "Not a valid datetime.": "field.type",
    "Not a valid list.": "field.type",
    "Not a valid mapping type.": "field.type",
    "Invalid input type.": "field.type",
    "Not a valid email address.": "field.invalid",
}


def flatten_messages(messages: Any, prefix: str = "") -> list[FieldError]:
    """marshmallow's nested ``{"field": ["msg"], "list": {0: {...}}}`` → flat field errors."""
    out: list[FieldError] = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            if key == "_schema":
                path = prefix
            elif isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_messages(value, path))
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            for m in messages:
                out.append(FieldError(prefix or "body", _MARSHMALLOW.get(m, "field.invalid"), message=m))
        else:
            for i, m in enumerate(messages):
                out.extend(flatten_messages(m, f"{prefix}[{i}]"))
    elif isinstance(messages, str):
        out.append(FieldError(prefix or "body", _MARSHMALLOW.get(messages, "field.invalid"), message=messages))
    return out


def problem_response(
    status: int,
    code: str,
    *,
    errors: list[FieldError] | None = None,
    headers: dict | None = None,
    params: dict | None = None,
) -> Response:
    platform = current_app.extensions["kinerja"]
    lang = getattr(g, "lang", "id")
    cat = platform.catalogue
    params = dict(params or {})
    params.setdefault("request_id", get_request_id())
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace(".", "-"),
        "title": cat.t(f"problem.{status}", lang),
        "status": status,
        "detail": cat.t(code, lang, **params) if cat.has(code) else cat.t(f"problem.{status}", lang),
        "instance": request.path,
        "code": code,
        "request_id": get_request_id(),
    }
    for k, v in params.items():
        if k not in body and k != "request_id" and isinstance(v, (str, int, float, bool, type(None), list, dict)):
            body[k] = v
    if errors:
        items = []
        for e in errors:
            if cat.has(e.code):
                detail = cat.t(e.code, lang, **e.params)
            else:
                detail = e.message or cat.t("field.invalid", lang)
            if lang == "en" and e.message and e.code.startswith("field."):
                detail = e.message
            item = {"field": e.field, "pointer": _pointer(e.field), "code": e.code, "detail": detail}
            if e.params:
                item["params"] = {k: v for k, v in e.params.items() if isinstance(v, (str, int, float, bool, list))}
            items.append(item)
        body["errors"] = items
    resp = Response(json.dumps(body, ensure_ascii=False, default=str), status=status, mimetype=PROBLEM_JSON)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    resp.headers["Content-Language"] = lang
    return resp


_HTTP_CODES = {
    400: "http.bad_json",
    401: "auth.missing",
    403: "auth.forbidden",
    404: "http.not_found",
    405: "http.method",
    413: "http.too_large",
    415: "http.media_type",
    428: "etag.required",
}


def register_error_handlers(app: Flask, domain_errors: dict[type, int] | None = None) -> None:
    """``domain_errors`` maps a service's exception classes (with ``code``, ``field``,
    ``params`` attributes) to HTTP statuses; field-bearing ones become field errors. Called after
    the flask-smorest Api: its OpenAPI documents the errors as they are sent (:func:`document_problems`)."""
    domain_errors = domain_errors or {}
    for entry in app.extensions.get("flask-smorest", {}).get("apis", {}).values():
        document_problems(entry["ext_obj"])

    @app.errorhandler(Problem)
    def _problem(exc: Problem):
        return problem_response(exc.status, exc.code, errors=exc.errors, headers=exc.headers, params=exc.params)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        status = exc.code or 500
        messages = data.get("messages") or data.get("errors")
        if status in (400, 422) and messages:
            # webargs: {"json": {...}} / {"query": {...}} / {"files": {...}}
            errors: list[FieldError] = []
            if isinstance(messages, dict):
                for location, msgs in messages.items():
                    if location == "json" and isinstance(msgs, list) and msgs == ["Invalid JSON body."]:
                        return problem_response(400, "http.bad_json")
                    errors.extend(flatten_messages(msgs))
            else:
                errors.extend(flatten_messages(messages))
            return problem_response(422, "validation", errors=errors)
        code = _HTTP_CODES.get(status, f"problem.{status}")
        params = {"path": request.path, "method": request.method}
        if status == 413:
            params["limit"] = current_app.config.get("MAX_CONTENT_LENGTH")
        headers = dict(data.get("headers") or {})
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        return problem_response(status, code, params=params, headers=headers)

    for exc_class, status in domain_errors.items():

        def _make(status=status):
            def _domain(exc):
                params = {k: v for k, v in getattr(exc, "params", {}).items()}
                field_name = getattr(exc, "field", None)
                if field_name:
                    return problem_response(
                        status,
                        "validation" if status == 422 else exc.code,
                        errors=[FieldError(field_name, exc.code, params)],
                        params=params,
                    )
                return problem_response(status, exc.code, params=params)

            return _domain

        app.register_error_handler(exc_class, _make())

    from sqlalchemy.exc import DataError, IntegrityError
    from sqlalchemy.orm.exc import StaleDataError

    @app.errorhandler(StaleDataError)
    def _stale(exc):
        return problem_response(412, "etag.conflict")

    @app.errorhandler(IntegrityError)
    def _integrity(exc):
        # a unique key taken by a concurrent request between the check and the insert
        log.warning("integrity conflict: %s", getattr(exc, "orig", exc))
        return problem_response(409, "problem.409")

    @app.errorhandler(DataError)
    def _bad_data(exc):
        # values the database refuses (a NUL character in text, a number out of range): the
        # client's data, not a server fault
        log.warning("database refused the data: %s", getattr(exc, "orig", exc))
        return problem_response(422, "validation", errors=[FieldError("body", "field.invalid")])

    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    @app.errorhandler(PoolTimeout)
    def _database_unavailable(exc):
        # the database is restarting or unreachable: the transaction was rolled back, nothing is half
        # done, and the client may try again (a 500 would say the server is broken)
        log.warning("database unavailable: %s", (str(getattr(exc, "orig", exc)).splitlines() or [""])[0][:300])
        return problem_response(503, "database.unavailable", headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:  # a connection the server closed
            return _database_unavailable(exc)
        if isinstance(exc, HTTPException):
            return _http(exc)
        log.exception("unhandled error")
        return problem_response(500, "http.internal")
