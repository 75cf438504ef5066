"""Composition root of the reviews service."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Callable

from flask import Flask

from services.common.app import create_service_app
from services.common.audit import make_blueprint as audit_blueprint
from services.common.config import Config

from . import domain, events
from .api import BLUEPRINTS
from .models import Base, platform_tables
from .siasn import blueprint as siasn_blueprint  # SIASN export (siasn.py)

SERVICE = "reviews"
HERE = Path(__file__).parent
MIGRATIONS = HERE / "migrations"

# Rule settings (DOMAIN.md: "make it configurable rather than hard-coded"), from the environment.
SETTINGS = {
    "suggest_threshold": ("REVIEWS_SUGGEST_THRESHOLD", float, 0.05),
    "objection_days": ("REVIEWS_OBJECTION_DAYS", int, domain.OBJECTION_DAYS),
    "peer_min_raters": ("REVIEWS_PEER_MIN_RATERS", int, domain.PEER_MIN_RATERS),
    "require_self_assessment": ("REVIEWS_REQUIRE_SELF_ASSESSMENT", lambda v: v.lower() in ("1", "true", "yes"), False),
    "head_takes_org_result": ("REVIEWS_HEAD_TAKES_ORG_RESULT", lambda v: v.lower() in ("1", "true", "yes"), True),
    "plans_url": ("PLANS_URL", str, "http://127.0.0.1:8000"),
}


def create_app(
    config: Config | None = None, *, clock: Callable[[], datetime] | None = None, migrate: bool | None = None
) -> Flask:
    config = config or Config.from_env(SERVICE)
    for key, (env, cast, default) in SETTINGS.items():
        if key not in config.extra:
            raw = os.environ.get(env)
            config.extra[key] = cast(raw) if raw not in (None, "") else default
    app = create_service_app(
        config,
        publishes=events.PUBLISHES,
        title="Kinerja — reviews",
        metadata=Base.metadata,
        tables=platform_tables,
        migrations_dir=MIGRATIONS,
        blueprints=[*BLUEPRINTS, siasn_blueprint, audit_blueprint(SERVICE)],
        catalogue_dir=HERE / "messages",
        clock=clock,
        migrate=migrate,
        domain_errors={domain.ObjectionWindowClosed: 409, domain.InvalidTransition: 409, domain.DomainError: 422},
    )
    return app
