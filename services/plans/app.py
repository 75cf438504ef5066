"""Composition root of the plans service."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask

from services.common.app import create_service_app
from services.common.config import Config

from . import (
    cycles,
    dailylogs,
    directory,
    directory_import,
    domain,
    employees,
    events,
    evidence,
    feedback,
    grants,
    models,
    progress,
    skp,
    skp_approval,
    skp_cascade,
    skp_print,
)

SERVICE = "plans"
HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"

#: one blueprint per capability module
BLUEPRINTS = [
    directory.blp,
    employees.blp,
    directory_import.blp,
    cycles.blp,
    skp.blp,
    skp_cascade.blp,
    skp_approval.blp,
    skp_print.blp,
    progress.blp,
    evidence.blp,
    dailylogs.blp,
    feedback.blp,
    grants.blp,
]


#: the HTTP status of each rule-book error
DOMAIN_ERRORS = {
    domain.InvalidNip: 422,
    domain.StageConflict: 409,
    domain.InvalidTransition: 409,
    domain.DomainError: 422,
}


def create_app(
    config: Config | None = None, *, clock: Callable[[], datetime] | None = None, migrate: bool | None = None
) -> Flask:
    config = config or Config.from_env(SERVICE)
    app = create_service_app(
        config, HERE, models, events, BLUEPRINTS, clock=clock, migrate=migrate, domain_errors=DOMAIN_ERRORS
    )
    return app
