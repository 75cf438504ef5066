"""Recording questionnaires: the one use case every channel goes through (the public form, the
kiosk API, the agency API and its batches, the CSV import), all or none, with the campaign's status
and period, its service options, its one-time tokens and, on the public channels, the per-address
rate limit (``ratelimit.py``)."""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from services.common.errors import FieldError, Problem
from services.common.usecase import now, record, settings, today, validation

from . import domain
from .models import Campaign, Response, SurveyToken
from .ratelimit import DAY, client_key, note_bad_token, rate_count, rate_hit, too_many, too_many_today
from .schemas import load_response

PUBLIC_CHANNELS = ("form", "kiosk")
CHANNELS = ("form", "kiosk", "api", "import")


def small_int(text: str):
    """A typed-in whole number (ASCII digits, at most 3) as an int; anything else stays text, for the
    validation to name ('²' or '٣' are digits to str.isdigit, not to int)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else text


def bare_field(field: str) -> str:
    """``answers.U4`` → ``U4``; ``profile.age`` → ``age``: the names of a CSV column or a form field."""
    for prefix in ("answers.", "profile."):
        if field.startswith(prefix):
            return field[len(prefix) :]
    return field


def normalise_token(code: str | None) -> str | None:
    if code is None:
        return None
    clean = "".join(ch for ch in str(code).upper() if ch.isalnum())
    return clean or None


def parse_items(
    raw_items: list, *, prefix_index: bool, allow_blank: bool = False
) -> tuple[list[dict], list[FieldError]]:
    items: list[dict] = []
    errors: list[FieldError] = []
    for i, raw in enumerate(raw_items):
        data, errs = load_response(raw, f"[{i}]." if prefix_index else "", allow_blank=allow_blank)
        errors.extend(errs)
        if data is not None:
            items.append(data)
    return items, errors


def _match_tokens(
    s: Session, c: Campaign, items: list[dict], name, errors: list[FieldError], *, required: bool
) -> tuple[dict[str, int], bool]:
    """The one-time tokens of ``items`` (normalised in place) → their ids; a missing (when
    ``required``), repeated, unknown or used token is added to ``errors``. Also says whether a
    token was guessed wrong (unknown or used)."""
    wanted: dict[str, int] = {}
    for i, item in enumerate(items):
        code = normalise_token(item.get("token"))
        item["token"] = code
        if code is None:
            if required:
                errors.append(FieldError(name(i, "token"), "token.required"))
            continue
        if code in wanted:
            errors.append(FieldError(name(i, "token"), "token.duplicate", {"first": wanted[code]}))
            continue
        wanted[code] = i
    token_ids: dict[str, int] = {}
    bad_token = False
    if wanted:
        rows = s.execute(
            select(SurveyToken.id, SurveyToken.code, SurveyToken.used_at).where(
                SurveyToken.campaign_id == c.id, SurveyToken.code.in_(list(wanted))
            )
        ).all()
        found = {r.code: r for r in rows}
        for code, i in wanted.items():
            r = found.get(code)
            if r is None:
                errors.append(FieldError(name(i, "token"), "token.unknown"))
                bad_token = True
            elif r.used_at is not None:
                errors.append(FieldError(name(i, "token"), "token.used"))
                bad_token = True
            else:
                token_ids[code] = r.id
    return token_ids, bad_token


def _row(c: Campaign, item: dict, channel: str, at, token_ids: dict[str, int], form_nonce: str | None) -> dict:
    """The ``responses`` row of one loaded questionnaire."""
    profile = item.get("profile") or {}
    row = {
        "campaign_id": c.id,
        "channel": channel,
        "submitted_at": at,
        "suggestion": (item.get("suggestion") or "").strip() or None,
        "token_id": token_ids.get(item.get("token")) if item.get("token") else None,
        "form_nonce": form_nonce,
        "age": profile.get("age"),
        "sex": profile.get("sex"),
        "education": profile.get("education"),
        "occupation": profile.get("occupation"),
        "service_type": (profile.get("service_type") or "").strip() or None,
    }
    for u in domain.UNSUR:
        row[u.lower()] = item["answers"].get(u)
    return row


def record_responses(
    s: Session,
    c: Campaign,
    items: list[dict],
    *,
    channel: str,
    actor: str,
    address: str | None = None,
    form_nonce: str | None = None,
    prefix_index: bool = False,
    field_prefix=None,
) -> list[int]:
    """Record already-loaded questionnaires, all or none. Checks the campaign status (and, on the
    public channels, its dates, its tokens or the per-address rate), the service type against
    the campaign's options and the one-time tokens; writes the rows, marks the tokens used,
    audits and publishes ``surveys.response.recorded`` once for the call."""
    public = channel in PUBLIC_CHANNELS
    reason = domain.accepts_responses(c.status, c.start_date, c.end_date, today() if public else None)
    if reason:
        raise Problem(
            409,
            reason,
            status=c.status,
            start_date=str(c.start_date),
            end_date=str(c.end_date),
            errors=[FieldError("campaign", reason, {"status": c.status})],
        )

    def name(i: int, field: str) -> str:
        if field_prefix is not None:
            return field_prefix(i, field)
        return f"[{i}].{field}" if prefix_index else field

    errors: list[FieldError] = []
    options = c.service_options or []
    for i, item in enumerate(items):
        st = (item.get("profile") or {}).get("service_type")
        if st and options and st not in options:
            errors.append(
                FieldError(name(i, "profile.service_type"), "profile.service_option", {"options": ", ".join(options)})
            )
    # one-time tokens (on the public channels, an address that guessed wrong too often waits)
    if (
        public
        and c.uses_tokens
        and rate_count(s, client_key(c.id, address, "badtoken")) >= settings().rate_limit_per_minute
    ):
        raise too_many()
    token_ids, bad_token = _match_tokens(s, c, items, name, errors, required=public and c.uses_tokens)
    if errors:
        if public and bad_token:
            note_bad_token(c.id, address)
        raise validation(errors)
    if public and not c.uses_tokens:
        limit = settings().rate_limit_per_minute
        if rate_hit(s, client_key(c.id, address)) > limit:
            raise too_many()
        if rate_hit(s, client_key(c.id, address, DAY)) > settings().open_form_per_day:
            raise too_many_today()

    at = now()
    rows = [_row(c, item, channel, at, token_ids, form_nonce) for item in items]
    ids = (
        list(s.scalars(insert(Response).returning(Response.id), rows))
        if len(rows) > 1
        else [s.scalar(insert(Response).values(**rows[0]).returning(Response.id))]
    )
    if token_ids:
        done = s.execute(
            update(SurveyToken)
            .where(SurveyToken.id.in_(list(token_ids.values())), SurveyToken.used_at.is_(None))
            .values(used_at=at),
            execution_options={"preserve_rowcount": True},
        ).rowcount
        if done != len(token_ids):  # used concurrently between the check and now
            raise validation([FieldError(name(0, "token") if len(items) == 1 else "token", "token.used")])
    ids.sort()
    total = s.execute(
        update(Campaign)
        .where(Campaign.id == c.id)
        .values(respondents=Campaign.respondents + len(ids))
        .returning(Campaign.respondents)
    ).scalar_one()
    record(
        s,
        actor,
        "responses.recorded",
        "campaign",
        c.id,
        agency=c.agency_code,
        after={"channel": channel, "count": len(ids), "first_response_id": ids[0], "last_response_id": ids[-1]},
        event="surveys.response.recorded",
        data={
            "campaign_id": c.id,
            "agency_code": c.agency_code,
            "unit_code": c.unit_code,
            "channel": channel,
            "count": len(ids),
            "first_response_id": ids[0],
            "last_response_id": ids[-1],
            "respondents": total,
        },
    )
    return ids


def created(s: Session, c: Campaign, response_id: int) -> dict:
    """What recording one questionnaire answers (``ResponseCreated``)."""
    r = s.get(Response, response_id)
    return {"id": r.id, "campaign_id": c.id, "channel": r.channel, "submitted_at": r.submitted_at}
