"""The composition root shared by every service: ``create_service_app`` wires configuration,
database, bus, clock, auth, errors, idempotency, metrics and the OpenAPI docs."""

from __future__ import annotations

import contextlib
import logging
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping
from zoneinfo import ZoneInfo

from flask import Flask, g, request
from flask_smorest import Api
from sqlalchemy.orm import Session
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from . import audit as audit_log
from . import idempotency, observability, public_limit, scopes
from .auth import TokenVerifier
from .config import Config
from .context import get_traceparent
from .db import make_engine, make_session_factory, transaction, upgrade
from .errors import FieldError, Problem, register_error_handlers
from .http import check_json_body, check_text
from .i18n import Catalogue, negotiate
from .tables import PlatformTables

log = logging.getLogger("kinerja.app")
JSON_TYPES = ("application/json", "application/merge-patch+json", "application/cloudevents+json")
BODY_TYPES = JSON_TYPES + ("multipart/form-data", "text/csv", "application/x-www-form-urlencoded")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` path parts beyond a database integer are no route (404), not an overflow (500)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


class Platform:
    """What a service's code reaches through ``current_app.extensions["kinerja"]``."""

    def __init__(
        self, config: Config, tables: PlatformTables, catalogue: Catalogue, clock: Callable[[], datetime] | None = None
    ):
        self.config = config
        self.service = config.service
        self.tables = tables
        self.catalogue = catalogue
        self.clock = clock or utcnow
        self.timezone = ZoneInfo(config.timezone)
        self.engine = make_engine(config.database_url)
        self.session_factory = make_session_factory(self.engine)
        self.verifier = TokenVerifier(config)
        self.metrics: observability.Metrics | None = None
        self.event_types: dict = {}  # type → EventSpec of what the service publishes
        self._event_schemas: dict = {}  # payload schema class → its instance (emit)
        self.settings = None  # the service's own typed settings (services/<service>/settings.py), if any
        # requests without a login per client address and minute, on the platform's clock (public_limit.py)
        self.public_limit = public_limit.PublicLimit(config.public_rate_per_minute, lambda: self.clock())

    def local_date(self, when: datetime) -> date:
        """The agency's calendar date of an instant (a naive time is taken as UTC, as stored)."""
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return when.astimezone(self.timezone).date()

    def today(self) -> date:
        """Today in the agency's time zone (``KINERJA_TIMEZONE``, WIB by default): deadlines, the
        objection window and daily logs are local dates, never UTC ones (UTC+7 is a day ahead at 17:00)."""
        return self.local_date(self.clock())

    @contextlib.contextmanager
    def uow(self) -> Iterator[Session]:
        with transaction(self.session_factory) as session:
            yield session

    def emit(self, session: Session, type_: str, subject: str, data: dict, event_id: str | None = None) -> dict:
        """Record an event in the outbox, in the caller's transaction (the relay publishes it). A type
        the service publishes (``create_service_app(publishes=…)``) is serialised through its schema."""
        from .bus import add_to_outbox, make_event

        spec = self.event_types.get(type_)
        if spec is not None:
            data = self._event_schema(spec).dump(data)
        envelope = make_event(
            type_,
            f"/{self.service}",
            str(subject),
            data,
            traceparent=get_traceparent(),
            time=self.clock(),
            event_id=event_id,
        )
        add_to_outbox(session, self.tables, envelope, self.clock())
        return envelope

    def emit_many(self, session: Session, events: list[tuple[str, str, dict]]) -> list[dict]:
        """:meth:`emit` for many ``(type, subject, data)`` at once: the outbox rows in one
        executemany, in the given order (a directory import of thousands of rows)."""
        from .bus import add_many_to_outbox, make_event

        at, traceparent = self.clock(), get_traceparent()
        envelopes = []
        for type_, subject, data in events:
            spec = self.event_types.get(type_)
            if spec is not None:
                data = self._event_schema(spec).dump(data)
            envelopes.append(
                make_event(type_, f"/{self.service}", str(subject), data, traceparent=traceparent, time=at)
            )
        add_many_to_outbox(session, self.tables, envelopes, at)
        return envelopes

    def _event_schema(self, spec):
        """The type's payload schema, one instance per process (making one per event took a deep
        copy of its fields each time); dumping does not change it, so threads share it."""
        schema = self._event_schemas.get(spec.schema)
        if schema is None:
            schema = self._event_schemas[spec.schema] = spec.schema()
        return schema

    def audit(self, session: Session, **kwargs) -> None:
        audit_log.record(session, self.tables, now=self.clock(), **kwargs)

    def audit_many(self, session: Session, entries: list[dict]) -> None:
        """:meth:`audit` for many rows, chained in the given order (:func:`audit.record_many`)."""
        audit_log.record_many(session, self.tables, entries, now=self.clock())

    def relay(self, **kwargs):
        from .bus import Relay

        return Relay(
            self.session_factory,
            self.tables,
            self.config.broker_url,
            confirm_timeout=self.config.confirm_timeout,
            clock=self.clock,
            **kwargs,
        )

    def consumer(self, handlers: Mapping[str, Callable], **kwargs):
        """A consumer whose handlers run inside the service's app context, so they call the same
        service functions (clock, outbox, audit, catalogue) as the HTTP views."""
        from .bus import Consumer

        def in_app(handler):
            def run(session, envelope):
                with self.app.app_context():
                    return handler(session, envelope)

            return run

        wrapped = {key: in_app(h) for key, h in handlers.items()}
        return Consumer(
            self.service,
            self.session_factory,
            self.tables,
            self.config.broker_url,
            wrapped,
            max_attempts=self.config.max_delivery_attempts,
            clock=self.clock,
            **kwargs,
        )

    def broker_check(self) -> str:
        if self.config.broker_url.startswith("memory"):
            return "ok"
        from kombu import Connection

        try:
            with Connection(self.config.broker_url, connect_timeout=2) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - reported by /readyz
            return f"error: {type(exc).__name__}"


def create_service_app(
    config: Config,
    package: Path,
    models,
    events,
    blueprints: Iterable,
    *,
    domain_errors: dict[type, int] | None = None,
    clock: Callable[[], datetime] | None = None,
    public_paths: Iterable[str] = (),
    migrate: bool | None = None,
    settings=None,
) -> Flask:
    """A service's Flask app from its parts: ``package`` its folder (``migrations/``, ``messages/``),
    ``models`` its mappings module (``platform_tables``), ``events`` its events module (``PUBLISHES``:
    payloads are serialised through their schemas), ``blueprints`` one per capability (the audit
    trail's is added), ``domain_errors`` the HTTP status of each rule-book error, ``settings`` the service's own typed
    settings (``usecase.settings()``)."""
    tables: PlatformTables = models.platform_tables
    publishes = events.PUBLISHES
    blueprints = [*blueprints, audit_log.make_blueprint(config.service)]
    catalogue_dir = package / "messages" if (package / "messages").is_dir() else None
    migrations_dir = package / "migrations"
    service = config.service
    prefix = f"/{service}"
    app = Flask(f"kinerja.{service}")
    app.url_map.converters["int"] = BoundedIntConverter
    catalogue = Catalogue(*([catalogue_dir] if catalogue_dir else []))
    platform = Platform(config, tables, catalogue, clock)
    platform.app = app
    platform.event_types = {spec.type: spec for spec in publishes}
    platform.settings = settings
    app.extensions["kinerja"] = platform
    app.config.update(
        MAX_CONTENT_LENGTH=max(config.max_upload_bytes, config.max_content_length) + 64 * 1024,
        TESTING=config.testing,
        API_TITLE=f"Kinerja — {config.service}",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=prefix,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_REDOC_PATH="docs",
        OPENAPI_REDOC_URL="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js",
        API_SPEC_OPTIONS={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
            "security": [{"bearer": []}],
            "info": {"description": f"Kinerja {service} service. Errors are RFC 9457 application/problem+json."},
        },
    )
    app.json.ensure_ascii = False
    if not config.embedded and not config.testing:  # gunicorn: JSON logs (access lines) from the factory
        observability.configure_logging(config.log_level)
    if config.proxy_hops:  # behind the gateway: its X-Forwarded-* give the client, scheme, host and port
        from werkzeug.middleware.proxy_fix import ProxyFix

        h = config.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=h, x_proto=h, x_host=h, x_port=h)
    if migrate if migrate is not None else config.embedded:
        upgrade(migrations_dir, config.database_url)

    platform.metrics = observability.install(app, service, prefix)
    public = tuple(public_paths)
    api_prefix = f"{prefix}/api/"

    @app.before_request
    def _language_and_auth():
        g.lang = negotiate(request.headers.get("Accept-Language"), request.args.get("lang"))
        header = request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            g.principal = platform.verifier.verify(header[7:].strip())
            if request.path.startswith(api_prefix) and not request.path.startswith(public):
                scopes.check(app, g.principal)  # a machine client: one of the operation's scopes
        elif request.path.startswith(api_prefix) and not request.path.startswith(public):
            raise Problem(401, "auth.missing", headers={"WWW-Authenticate": "Bearer"})
        else:  # no login, on a path that needs none: counted per client address (public_limit.py)
            refused = public_limit.check(platform.public_limit)
            if refused is not None:
                return refused
        check_text(request.args.items(multi=True))
        if request.method in ("POST", "PUT", "PATCH"):
            _body_limits()
            _body_content()

    def _body_limits():
        """JSON, CSV and form bodies: at most ``max_content_length`` bytes, whether the client says
        so (Content-Length) or streams them (Transfer-Encoding: chunked, read here up to the limit
        and no further); multipart uploads keep werkzeug's larger MAX_CONTENT_LENGTH."""
        length, mimetype = request.content_length, request.mimetype or ""
        streamed = length is None and "chunked" in request.headers.get("Transfer-Encoding", "").lower()
        if streamed and mimetype != "multipart/form-data":
            request.max_content_length = config.max_content_length + 1  # werkzeug stops reading there
            try:
                body = request.get_data(cache=True)
            except RequestEntityTooLarge:
                body = None
            if body is None or len(body) > config.max_content_length:
                raise Problem(413, "http.too_large", limit=config.max_content_length)
            streamed = bool(body)
        if (length or 0) > 0 or streamed:
            if mimetype not in BODY_TYPES:
                raise Problem(415, "http.media_type", expected="application/json")
            if mimetype in JSON_TYPES and (length or 0) > config.max_content_length:
                raise Problem(413, "http.too_large", limit=config.max_content_length)

    def _body_content():
        """What no service can store is refused here, once for every service (``check_json_body``)."""
        mimetype = request.mimetype or ""
        if mimetype in JSON_TYPES:
            raw = request.get_data(cache=True)
            if raw:
                check_json_body(raw)
        elif mimetype == "application/x-www-form-urlencoded":
            request.get_data(cache=True)  # kept: the form is parsed from it and idempotency hashes it
            check_text(request.form.items(multi=True))
        elif mimetype == "text/csv" and b"\x00" in request.get_data(cache=True):
            raise Problem(422, "validation", errors=[FieldError("body", "field.nul")])

    idempotency.install(app)

    api = Api(app)
    for blp in blueprints:
        api.register_blueprint(blp)
    register_error_handlers(app, domain_errors)  # after Api: replaces flask-smorest's JSON errors
    token_url = config.oauth_token_url or (f"{config.jwt_issuer}/token" if config.jwt_issuer else None)
    scopes.document(api, app, api_prefix, token_url)  # the OAuth 2.0 scheme of machine clients, their scopes
    _serve_asyncapi(app, prefix, service, publishes)
    from .http import add_etag

    app.after_request(add_etag)
    app.extensions["kinerja_api"] = api
    return app


def _serve_asyncapi(app: Flask, prefix: str, service: str, publishes) -> None:
    """``GET /<service>/asyncapi.json``: the AsyncAPI 3.0 document of the events the service
    publishes, beside its OpenAPI (public, as that is)."""
    from . import asyncapi

    doc = asyncapi.document(
        list(publishes),
        title=f"Kinerja — {service} events",
        description=f"The events the {service} service publishes: CloudEvents 1.0 on RabbitMQ (and as webhooks).",
    )

    @app.get(f"{prefix}/asyncapi.json", endpoint="asyncapi")
    def asyncapi_json():
        return doc
