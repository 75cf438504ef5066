"""Composition root of the reviews service: its settings, the events it publishes, and the blueprint of each
capability module (BLUEPRINTS)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask

from services.common.app import create_service_app
from services.common.config import Config, load_settings

from . import (
    calibration,
    document,
    document_verify,
    domain,
    evaluations,
    events,
    followup,
    models,
    objections,
    orgresults,
    peer_proposals,
    peers,
    readmodel,
    results,
    siasn_export,
    siasn_file,
    signoff,
)
from .settings import Settings

SERVICE = "reviews"
HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"
#: one blueprint per capability module
BLUEPRINTS = [
    evaluations.blp,
    peers.blp,
    peer_proposals.blp,
    signoff.blp,
    document.blp,
    document_verify.blp,
    objections.blp,
    orgresults.blp,
    calibration.blp,
    followup.blp,
    readmodel.blp,
    siasn_export.blp,
    siasn_file.blp,
    results.blp,
]


#: the HTTP status of each rule-book error
DOMAIN_ERRORS = {domain.ObjectionWindowClosed: 409, domain.InvalidTransition: 409, domain.DomainError: 422}


def create_app(
    config: Config | None = None, *, clock: Callable[[], datetime] | None = None, migrate: bool | None = None
) -> Flask:
    config = config or Config.from_env(SERVICE)
    settings = load_settings(Settings, overrides=config.extra)
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
    )
    return app
