"""How a person wants to hear: their language, channels (per event type too), quiet hours, the daily
digest and their own Apprise targets — and the agency's Apprise URLs used for people who set none
(``{nip}``, ``{phone}``, ``{email}`` filled per recipient)."""

from __future__ import annotations

from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy.orm import Session

from services.common.auth import Principal, current_principal
from services.common.errors import FieldError
from services.common.usecase import changing, now, record, settings, validation

from . import channels, domain
from .models import AgencySettings, Person, Preference
from .recipients import DIRECTORY_MEMO, forget_people
from .schemas import LANG, AgencyQuery
from .shared import DEFAULT_TZ, PREFIX, allow_private_targets, hr_request, mask_url, require_person, uow

blp = Blueprint(
    "preferences",
    __name__,
    url_prefix=PREFIX,
    description="My channels, quiet hours and digest; HR: the agency's Apprise channels",
)

PREF_DEFAULTS = {
    "language": None,
    "email": True,
    "apprise": True,
    "overrides": {},
    "quiet_start": None,
    "quiet_end": None,
    "timezone": DEFAULT_TZ,
    "digest": False,
    "digest_hour": 7,
    "apprise_urls": [],
}
URLS = fields.List(fields.String(validate=validate.Length(min=1, max=2000)), validate=validate.Length(max=20))
SAMPLE = {"nip": "199001012015031004", "phone": "6281234567890", "email": "someone@example.go.id"}


# ------------------------------------------------------------------ schemas


class PreferencesIn(Schema):
    """Every field optional: what is sent replaces the stored value, the rest stays."""

    language = fields.String(allow_none=True, validate=LANG)
    email = fields.Boolean()
    apprise = fields.Boolean()
    overrides = fields.Dict(
        keys=fields.String(validate=validate.Length(max=120)),
        values=fields.List(fields.String(validate=validate.Length(max=12))),
        validate=validate.Length(max=50),
        metadata={"description": "event type pattern → channels (inapp, email, apprise)"},
    )
    quiet_start = fields.String(allow_none=True, metadata={"description": "HH:MM local time"})
    quiet_end = fields.String(allow_none=True, metadata={"description": "HH:MM local time"})
    timezone = fields.String(validate=validate.Length(min=1, max=64))
    digest = fields.Boolean(metadata={"description": "bundle e-mails into one daily digest"})
    digest_hour = fields.Integer(validate=validate.Range(min=0, max=23))
    apprise_urls = URLS


class PreferencesOut(Schema):
    nip = fields.String()
    language = fields.String(allow_none=True)
    effective_language = fields.String()
    email = fields.Boolean()
    apprise = fields.Boolean()
    overrides = fields.Dict()
    quiet_start = fields.String(allow_none=True)
    quiet_end = fields.String(allow_none=True)
    timezone = fields.String()
    digest = fields.Boolean()
    digest_hour = fields.Integer()
    apprise_urls = fields.List(fields.String())
    email_address = fields.String(allow_none=True)


class AgencySettingsIn(Schema):
    apprise_urls = URLS


class AgencySettingsOut(Schema):
    agency_code = fields.String()
    apprise_urls = fields.List(fields.String())


# ------------------------------------------------------------------ a person's preferences


def preferences_of(s: Session, nip: str) -> dict:
    row = s.get(Preference, nip)
    person = s.get(Person, nip)
    out = dict(PREF_DEFAULTS, timezone=settings().default_timezone or DEFAULT_TZ)
    if row is not None:
        out.update({key: getattr(row, key) for key in PREF_DEFAULTS})
        out.update(overrides=dict(row.overrides or {}), apprise_urls=list(row.apprise_urls or []))
    out["nip"] = nip
    out["effective_language"] = out["language"] or (person.language if person else "id")
    out["email_address"] = person.email if person else None
    return out


def update_preferences(s: Session, p: Principal, data: dict) -> dict:
    nip = require_person(p)
    current = preferences_of(s, nip)
    merged = {k: current[k] for k in PREF_DEFAULTS} | data
    _check_preferences(merged)
    check_apprise_urls(merged["apprise_urls"], "apprise_urls")
    row = s.get(Preference, nip) or Preference(nip=nip)
    for key in PREF_DEFAULTS:
        setattr(row, key, merged[key])
    row.updated_at = now()
    s.add(row)
    s.flush()
    forget_people(s)
    after = preferences_of(s, nip)
    record(
        s,
        p,
        "preferences.updated",
        "preferences",
        nip,
        before={k: current[k] for k in PREF_DEFAULTS if k != "apprise_urls"},
        after={k: after[k] for k in PREF_DEFAULTS if k != "apprise_urls"},
        agency=p.agency,
        subject=nip,
    )
    return after


def _check_preferences(merged: dict) -> None:
    errors: list[FieldError] = []
    try:
        ZoneInfo(merged["timezone"])
    except (ZoneInfoNotFoundError, ValueError, TypeError, OSError):
        errors.append(FieldError("timezone", "timezone.invalid"))
    for key in ("quiet_start", "quiet_end"):
        if merged[key] is not None:
            try:
                domain.parse_hhmm(merged[key])
            except domain.DomainError:
                errors.append(FieldError(key, "time.invalid"))
    if (merged["quiet_start"] is None) != (merged["quiet_end"] is None):
        errors.append(FieldError("quiet_end" if merged["quiet_end"] is None else "quiet_start", "quiet.incomplete"))
    for pattern, chans in (merged["overrides"] or {}).items():
        if not domain.valid_pattern(pattern):
            errors.append(FieldError(f"overrides.{pattern}", "webhook.pattern"))
        elif not isinstance(chans, list) or any(c not in ("inapp", *domain.PERSON_CHANNELS) for c in chans):
            errors.append(FieldError(f"overrides.{pattern}", "channel.invalid"))
    if errors:
        raise validation(errors)


# ------------------------------------------------------------------ Apprise targets


def check_apprise_urls(urls: list, field: str, placeholders: bool = False) -> None:
    apprise = channels.load_apprise()
    errors = []
    for i, url in enumerate(urls):
        candidate = (fill_placeholders(url, SAMPLE) or url) if placeholders else url
        if not isinstance(url, str) or len(url) > 2000 or apprise.Apprise.instantiate(candidate) is None:
            errors.append(FieldError(f"{field}[{i}]", "apprise.invalid"))
            continue
        if not allow_private_targets():
            refused = channels.refuse_private_target(candidate, apprise_scheme=True)
            if refused:
                errors.append(FieldError(f"{field}[{i}]", "apprise.private", {"address": refused}))
    if errors:
        raise validation(errors)


def fill_placeholders(url: str, values: dict) -> str | None:
    """Agency Apprise URLs may name the recipient: ``{nip}``, ``{phone}`` (international digits),
    ``{email}``; None when a named value is missing (that URL is skipped for this person)."""
    out = url
    for key, value in values.items():
        token = "{" + key + "}"
        if token in out:
            if not value:
                return None
            out = out.replace(token, quote(str(value), safe="@+"))
    return out


def agency_settings(s: Session, agency: str) -> dict:
    row = s.get(AgencySettings, agency)
    return {"agency_code": agency, "apprise_urls": list(row.apprise_urls or []) if row else []}


def update_agency_settings(s: Session, p: Principal, agency: str, data: dict) -> dict:
    urls = data.get("apprise_urls", [])
    check_apprise_urls(urls, "apprise_urls", placeholders=True)

    def masked() -> dict:  # the audited state: Apprise tokens masked
        return _masked_settings(agency_settings(s, agency))

    with changing(s, p, "agency_settings.updated", "agency_settings", agency, masked, agency=agency):
        row = s.get(AgencySettings, agency) or AgencySettings(agency_code=agency)
        row.apprise_urls, row.updated_by, row.updated_at = list(urls), p.sub, now()
        s.add(row)
        s.flush()
        s.info.pop(DIRECTORY_MEMO, None)  # the consumer's memo of the agency's Apprise URLs
    return agency_settings(s, agency)


def _masked_settings(d: dict) -> dict:
    return {**d, "apprise_urls": [mask_url(u) for u in d["apprise_urls"]]}


# ------------------------------------------------------------------ views


@blp.route("/preferences")
class Preferences(MethodView):
    @blp.response(200, PreferencesOut)
    def get(self):
        """My language, channels, quiet hours, digest and Apprise targets (defaults until I change them)."""
        p = current_principal()
        with uow() as s:
            return preferences_of(s, require_person(p))

    @blp.arguments(PreferencesIn)
    @blp.response(200, PreferencesOut)
    def patch(self, data):
        """Change some of my preferences; the fields not sent keep their value."""
        with uow() as s:
            return update_preferences(s, current_principal(), data)


@blp.route("/agency-settings")
class AgencySettingsView(MethodView):
    @blp.arguments(AgencyQuery, location="query")
    @blp.response(200, AgencySettingsOut)
    def get(self, args):
        """The agency's Apprise URLs (Telegram, a WhatsApp gateway, chat tools) used for people who set
        none of their own; ``{nip}``, ``{phone}``, ``{email}`` are filled per recipient."""
        _, agency = hr_request(args)
        with uow() as s:
            return agency_settings(s, agency)

    @blp.arguments(AgencyQuery, location="query")
    @blp.arguments(AgencySettingsIn)
    @blp.response(200, AgencySettingsOut)
    def put(self, args, data):
        p, agency = hr_request(args)
        with uow() as s:
            return update_agency_settings(s, p, agency, data)
