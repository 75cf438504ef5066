"""Composition root of the surveys service."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask

from services.common.app import create_service_app
from services.common.config import Config

from . import campaigns, directory, domain, events, index, models, public, responses
from .results import RESULTS_PREFIX, results
from .settings import Settings
from .web import PUBLIC_PREFIX as FORM_PREFIX
from .web import web

SERVICE = "surveys"
HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
BLUEPRINTS = [campaigns.blp, responses.blp, index.blp, public.blp, directory.blp]


#: the HTTP status of each rule-book error
DOMAIN_ERRORS = {domain.InvalidTransition: 409, domain.DomainError: 422}


def create_app(
    config: Config | None = None,
    *,
    clock: Callable[[], datetime] | None = None,
    migrate: bool | None = None,
    settings: Settings | None = None,
) -> Flask:
    config = config or Config.from_env(SERVICE)
    settings = settings or Settings.from_env(config)
    config.proxy_hops = settings.proxy_hops  # SURVEYS_PROXY_HOPS, else PROXY_HOPS: the platform applies it
    config.timezone = settings.timezone  # SURVEYS_TIMEZONE, else KINERJA_TIMEZONE: the platform's "today"
    app = create_service_app(
        config,
        HERE,
        models,
        events,
        BLUEPRINTS,
        clock=clock,
        migrate=migrate,
        domain_errors=DOMAIN_ERRORS,
        settings=settings,
        # the public form, the kiosk API, the sample-size calculator and the published results need no bearer token
        public_paths=(FORM_PREFIX, public.PUBLIC_PREFIX, campaigns.SAMPLE_SIZE_PATH, RESULTS_PREFIX),
    )
    app.register_blueprint(web)
    app.register_blueprint(results)
    return app
