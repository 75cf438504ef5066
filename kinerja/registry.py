"""The services of the product and how to build each one (the front door may import services;
services never import each other)."""

from __future__ import annotations

import importlib
from pathlib import Path

from services.common.audit_watch import verification_job

SERVICES = ("plans", "reviews", "surveys", "notifications")

# the scopes a machine client of an agency may hold (issue 16): each API operation declares those
# that open it (``@accepts`` in services/common/scopes.py); README "Tokens and scopes" lists them
SCOPES = {
    "directory:read": "the agency's units, employees and acting officials (Plt/Plh)",
    "plans:read": "cycles, SKP plans with their versions and realisations",
    "results:read": "cycles, the results feed, organisation results, the calibration aggregate, distribution rules",
    "surveys:read": "survey campaigns, their QR codes and the satisfaction index (IKM)",
    "surveys:responses:write": "record survey responses (kiosks): one, a batch, a CSV import; read the campaign",
    "webhooks:manage": "the client's own webhook subscriptions and their deliveries",
}


def app_module(service: str):
    return importlib.import_module(f"services.{service}.app")


def events_module(service: str):
    return importlib.import_module(f"services.{service}.events")


def migrations_dir(service: str) -> Path:
    return Path(app_module(service).MIGRATIONS)


def background_jobs(service: str, platform) -> list:
    """Periodic jobs of a service's worker: the platform's own (the audit chain's verification, for
    every service) and those the service asks for (e.g. notifications' dispatcher)."""
    factory = getattr(app_module(service), "background_jobs", None)
    return verification_job(platform) + (list(factory(platform)) if factory else [])


def portal_app(env: dict | None = None, wsgi=None, clock=None):
    """The web portal (it owns no data): embedded, it calls the services through ``wsgi``."""
    from services.portal.app import create_app
    from services.portal.settings import PortalSettings

    return create_app(PortalSettings.from_env(env), wsgi=wsgi, clock=clock)
