"""Use cases of the surveys service. HTTP views (API and public form) call these functions; each
takes the open session and the acting principal (None on the public channels), enforces
object-level access, applies the rules of ``domain.py``, writes the audit row and the outbox
events in the same transaction."""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.common.errors import FieldError, Problem
from services.common.usecase import audit, emit, not_found, now, platform, settings, validation

from . import domain
from .models import ANSWER_COLUMNS, Campaign, RateCounter, Response, SurveyToken
from .schemas import load_response

PUBLIC_CHANNELS = ("form", "kiosk")
CHANNELS = ("form", "kiosk", "api", "import")
TOKEN_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are typed from paper
TOKEN_LENGTH = 10


def local_today() -> date:
    return now().astimezone(ZoneInfo(settings().timezone)).date()


# ------------------------------------------------------------------ access


def can_read(p: Principal, c: Campaign) -> bool:
    """HR and the agency's machine clients (kiosks, other systems) of the campaign's agency."""
    return p.is_admin or (p.has("hr", "agency") and p.agency == c.agency_code)


def require_hr(p: Principal, c: Campaign | None = None) -> None:
    """HR of the agency (or an admin) manages campaigns; anyone else: 403 (their own agency's
    campaign) — campaigns of another agency are a 404 before this is reached."""
    if p.is_admin:
        return
    if not p.has("hr") or (c is not None and p.agency != c.agency_code):
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required="hr")


def get_campaign(s: Session, p: Principal, campaign_id: int) -> Campaign:
    c = s.get(Campaign, campaign_id)
    if c is None or not can_read(p, c):
        raise not_found("campaign", campaign_id)  # 404, not 403: another agency's campaign is not revealed
    return c


def campaign_by_slug(s: Session, slug: str) -> Campaign | None:
    if not slug or len(slug) > 64:
        return None
    c = s.scalar(select(Campaign).where(Campaign.slug == slug))
    if c is None or c.status == "draft":
        return None  # a draft's link is not live yet
    return c


# ------------------------------------------------------------------ campaigns


def public_path(c: Campaign) -> str:
    return f"/surveys/s/{c.slug}"


def public_url(c: Campaign, host_url: str | None = None) -> str:
    base = settings().public_url or (host_url or "").rstrip("/")
    return f"{base}{public_path(c)}"


def respondents(s: Session, campaign_id: int) -> int:
    """Responses recorded for the campaign (the counter kept with every insert)."""
    return int(s.scalar(select(Campaign.respondents).where(Campaign.id == campaign_id)) or 0)


def campaign_out(s: Session, c: Campaign, host_url: str | None = None) -> dict:
    n = c.respondents or 0
    issued, used = s.execute(
        select(func.count(SurveyToken.id), func.count(SurveyToken.used_at)).where(SurveyToken.campaign_id == c.id)
    ).one()
    return {
        "id": c.id,
        "agency_code": c.agency_code,
        "unit_code": c.unit_code,
        "unit_name": c.unit_name,
        "service_type": c.service_type,
        "service_options": c.service_options,
        "title": c.title,
        "start_date": c.start_date,
        "end_date": c.end_date,
        "population": c.population,
        "sample_method": c.sample_method,
        "margin": c.margin,
        "min_sample": c.min_sample,
        "respondents": n,
        "sample_progress": round(n / c.min_sample, 4) if c.min_sample else 0.0,
        "sample_reached": n >= c.min_sample,
        "status": c.status,
        "slug": c.slug,
        "public_path": public_path(c),
        "public_url": public_url(c, host_url),
        "uses_tokens": c.uses_tokens,
        "tokens_issued": int(issued or 0),
        "tokens_used": int(used or 0),
        "created_by": c.created_by,
        "created_at": c.created_at,
        "opened_at": c.opened_at,
        "closed_at": c.closed_at,
        "version": c.version,
    }


def _campaign_ref(c: Campaign) -> dict:
    return {
        "campaign_id": c.id,
        "agency_code": c.agency_code,
        "unit_code": c.unit_code,
        "unit_name": c.unit_name,
        "service_type": c.service_type,
        "period_start": c.start_date,
        "period_end": c.end_date,
        "population": c.population,
        "sample_method": c.sample_method,
        "min_sample": c.min_sample,
        "status": c.status,
    }


def _sample(population: int, method: str, margin: float, fields=("population", "margin")) -> int:
    try:
        return domain.sample_size(population, method, margin)
    except domain.DomainError as exc:
        raise validation([(exc.field or fields[0], exc.code, exc.params)])


def create_campaign(s: Session, p: Principal, data: dict) -> Campaign:
    require_hr(p)
    if not p.agency:
        raise Problem(403, "campaign.no_agency")
    errors = domain.validate_period(data["start_date"], data["end_date"])
    if errors:
        raise validation(errors)
    options = _clean_options(data.get("service_options"))
    c = Campaign(
        agency_code=p.agency,
        unit_code=data["unit_code"],
        unit_name=data.get("unit_name"),
        service_type=data["service_type"].strip(),
        service_options=options,
        title=data.get("title"),
        start_date=data["start_date"],
        end_date=data["end_date"],
        population=data["population"],
        sample_method=data["sample_method"],
        margin=data["margin"],
        min_sample=_sample(data["population"], data["sample_method"], data["margin"]),
        status="draft",
        slug=secrets.token_urlsafe(24),
        uses_tokens=False,
        created_by=p.sub,
        respondents=0,
        created_at=now(),
        updated_at=now(),
    )
    s.add(c)
    s.flush()
    audit(
        s,
        p.sub,
        "campaign.created",
        "campaign",
        c.id,
        agency=c.agency_code,
        after={k: (str(v) if isinstance(v, date) else v) for k, v in _campaign_ref(c).items()},
    )
    if data.get("tokens"):
        issue_tokens(s, p, c, data["tokens"])
    return c


def _clean_options(options) -> list[str] | None:
    if not options:
        return None
    out: list[str] = []
    for o in options:
        o = o.strip()
        if o and o not in out:
            out.append(o)
    return out or None


def update_campaign(s: Session, p: Principal, c: Campaign, changes: dict) -> Campaign:
    require_hr(p, c)
    if c.status == "closed":
        raise Problem(409, "campaign.closed_immutable", status=c.status)
    before = {k: (str(v) if isinstance(v, date) else v) for k, v in _campaign_ref(c).items()}
    if "end_date" in changes:
        errors = domain.validate_period(c.start_date, changes["end_date"])
        if errors:
            raise validation(errors)
    if "service_options" in changes:
        changes["service_options"] = _clean_options(changes["service_options"])
    for key, value in changes.items():
        setattr(c, key, value)
    c.min_sample = _sample(c.population, c.sample_method, c.margin)
    c.updated_at = now()
    s.flush()
    audit(
        s,
        p.sub,
        "campaign.updated",
        "campaign",
        c.id,
        agency=c.agency_code,
        before=before,
        after={k: (str(v) if isinstance(v, date) else v) for k, v in _campaign_ref(c).items()}
        | {"service_options": c.service_options, "title": c.title},
    )
    return c


def open_campaign(s: Session, p: Principal, c: Campaign) -> Campaign:
    require_hr(p, c)
    before = c.status
    c.status = _transition(c.status, "open")
    c.opened_at = c.updated_at = now()
    s.flush()
    audit(
        s,
        p.sub,
        "campaign.opened",
        "campaign",
        c.id,
        agency=c.agency_code,
        before={"status": before},
        after={"status": c.status},
    )
    emit(
        s,
        "surveys.campaign.opened",
        c.id,
        _campaign_ref(c) | {"public_path": public_path(c), "uses_tokens": c.uses_tokens},
    )
    return c


def close_campaign(s: Session, p: Principal, c: Campaign) -> Campaign:
    require_hr(p, c)
    before = c.status
    c.status = _transition(c.status, "close")
    c.closed_at = c.updated_at = now()
    s.flush()
    n = c.respondents or 0
    audit(
        s,
        p.sub,
        "campaign.closed",
        "campaign",
        c.id,
        agency=c.agency_code,
        before={"status": before},
        after={"status": c.status, "respondents": n},
    )
    emit(s, "surveys.campaign.closed", c.id, _campaign_ref(c) | {"respondents": n, "sample_reached": n >= c.min_sample})
    result = campaign_index(s, c)
    if result.complete:
        _emit_ikm(s, c, result)
    return c


def _transition(status: str, action: str) -> str:
    try:
        return domain.campaign_transition(status, action)
    except domain.InvalidTransition as exc:
        raise Problem(409, exc.code, **exc.params)


# ------------------------------------------------------------------ one-time tokens


def normalise_token(code: str | None) -> str | None:
    if code is None:
        return None
    clean = "".join(ch for ch in str(code).upper() if ch.isalnum())
    return clean or None


def issue_tokens(s: Session, p: Principal, c: Campaign, count: int) -> list[str]:
    require_hr(p, c)
    if c.status == "closed":
        raise Problem(409, "campaign.closed_immutable", status=c.status)
    existing = set(s.scalars(select(SurveyToken.code).where(SurveyToken.campaign_id == c.id)))
    codes: list[str] = []
    fresh: set[str] = set()
    while len(codes) < count:
        code = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
        if code in existing or code in fresh:
            continue
        fresh.add(code)
        codes.append(code)
    at = now()
    s.execute(insert(SurveyToken), [{"campaign_id": c.id, "code": code, "created_at": at} for code in codes])
    c.uses_tokens = True
    c.updated_at = at
    s.flush()
    audit(s, p.sub, "tokens.issued", "campaign", c.id, agency=c.agency_code, after={"count": count})
    return codes


def token_query(c: Campaign, args: dict):
    stmt = select(SurveyToken).where(SurveyToken.campaign_id == c.id)
    if "used" in args:
        stmt = stmt.where(SurveyToken.used_at.is_not(None) if args["used"] else SurveyToken.used_at.is_(None))
    return stmt


# ------------------------------------------------------------------ rate limit (public channels)


def client_key(campaign_id: int, address: str | None, kind: str = "ok") -> str:
    digest = hashlib.sha256(f"{settings().form_secret}:{address or '-'}".encode()).hexdigest()[:40]
    return f"{kind}:{campaign_id}:{digest}"


def _window(at: datetime) -> datetime:
    at = at.astimezone(timezone.utc) if at.tzinfo else at.replace(tzinfo=timezone.utc)
    return at.replace(second=0, microsecond=0)


def rate_hit(s: Session, key: str) -> int:
    """Count one more event for ``key`` in the current minute (atomically: INSERT … ON CONFLICT
    DO UPDATE … RETURNING, the same on SQLite and PostgreSQL); returns the new count."""
    window = _window(now())
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    t = RateCounter.__table__
    stmt = upsert(t).values(key=key, window_start=window, count=1)
    stmt = stmt.on_conflict_do_update(index_elements=["key", "window_start"], set_={"count": t.c.count + 1}).returning(
        t.c.count
    )
    count = int(s.execute(stmt).scalar_one())
    if count == 1:  # a new window: forget the old ones (of everyone), keeping the table small
        s.execute(delete(t).where(t.c.window_start < window - timedelta(minutes=5)))
    return count


def rate_count(s: Session, key: str) -> int:
    t = RateCounter.__table__
    return int(s.scalar(select(t.c.count).where(t.c.key == key, t.c.window_start == _window(now()))) or 0)


def retry_after() -> int:
    at = now()
    return max(1, 60 - at.second)


def too_many() -> Problem:
    limit = settings().rate_limit_per_minute
    wait = retry_after()
    return Problem(
        429,
        "response.rate_limited",
        limit=limit,
        retry_after=wait,
        errors=[FieldError("client", "response.rate_limited", {"limit": limit, "retry_after": wait})],
        headers={"Retry-After": str(wait)},
    )


def note_bad_token(campaign_id: int, address: str | None) -> None:
    """Failed token attempts are counted in their own committed transaction (the request itself
    is rolled back), so guessing codes is slowed down too."""
    with platform().uow() as s2:
        rate_hit(s2, client_key(campaign_id, address, "badtoken"))


# ------------------------------------------------------------------ responses


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
    reason = domain.accepts_responses(c.status, c.start_date, c.end_date, local_today() if public else None)
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
    wanted: dict[str, int] = {}
    for i, item in enumerate(items):
        code = normalise_token(item.get("token"))
        item["token"] = code
        if code is None:
            if public and c.uses_tokens:
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
    if errors:
        if public and bad_token:
            note_bad_token(c.id, address)
        raise validation(errors)
    if public and not c.uses_tokens:
        limit = settings().rate_limit_per_minute
        if rate_hit(s, client_key(c.id, address)) > limit:
            raise too_many()

    at = now()
    rows = []
    for item in items:
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
        rows.append(row)
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
    audit(
        s,
        actor,
        "responses.recorded",
        "campaign",
        c.id,
        agency=c.agency_code,
        after={"channel": channel, "count": len(ids), "first_response_id": ids[0], "last_response_id": ids[-1]},
    )
    emit(
        s,
        "surveys.response.recorded",
        c.id,
        {
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


def require_ingest(p: Principal, c: Campaign) -> None:
    """Kiosks and other systems of the agency (role ``agency``) and HR record responses."""
    if not (p.is_admin or (p.has("hr", "agency") and p.agency == c.agency_code)):
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required="hr, agency")


def api_record(s: Session, p: Principal, c: Campaign, raw, *, batch: bool, max_items: int) -> list[int]:
    require_ingest(p, c)
    if batch:
        if not isinstance(raw, list):
            raise validation([FieldError("body", "response.batch_list")])
        if not raw:
            raise validation([FieldError("body", "response.batch_empty")])
        if len(raw) > max_items:
            raise validation([FieldError("body", "response.batch_too_large", {"max": max_items})])
        items, errors = parse_items(raw, prefix_index=True)
    else:
        items, errors = parse_items([raw], prefix_index=False)
    if errors:
        raise validation(errors)
    return record_responses(s, c, items, channel="api", actor=p.sub, prefix_index=batch)


# ------------------------------------------------------------------ CSV import (paper questionnaires)

CSV_ANSWER_COLUMNS = tuple(domain.UNSUR)
CSV_PROFILE_COLUMNS = ("age", "sex", "education", "occupation", "service_type")
CSV_OTHER_COLUMNS = ("suggestion", "token")
SEX_ALIASES = {
    "l": "male",
    "laki-laki": "male",
    "laki laki": "male",
    "pria": "male",
    "male": "male",
    "m": "male",
    "p": "female",
    "perempuan": "female",
    "wanita": "female",
    "female": "female",
    "f": "female",
}


def small_int(text: str):
    """A typed-in whole number (ASCII digits, at most 3) as an int; anything else stays text, for the
    validation to name ('²' or '٣' are digits to str.isdigit, not to int)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else text


def import_csv(s: Session, p: Principal, c: Campaign, text: str, *, dry_run: bool) -> dict:
    """Validate every row; record all of them or none (422 listing the errors per row)."""
    require_ingest(p, c)
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader)
    except StopIteration:
        raise validation([FieldError("header", "import.empty")])
    except csv.Error:
        raise validation([FieldError("header", "import.malformed")])
    names = [h.strip() for h in header]
    canon = []
    for h in names:
        upper = h.upper()
        canon.append(upper if upper in CSV_ANSWER_COLUMNS else h.lower())
    known = set(CSV_ANSWER_COLUMNS) | set(CSV_PROFILE_COLUMNS) | set(CSV_OTHER_COLUMNS)
    errs = [FieldError("header", "import.column_missing", {"column": u}) for u in CSV_ANSWER_COLUMNS if u not in canon]
    errs += [
        FieldError("header", "import.column_unknown", {"column": h}) for h, k in zip(names, canon) if k not in known
    ]
    dupes = sorted({k for k in canon if canon.count(k) > 1})
    errs += [FieldError("header", "import.column_duplicate", {"column": k}) for k in dupes]
    if errs:
        raise validation(errs)
    items: list[dict] = []
    lines: list[int] = []
    errors: list[dict] = []
    total = 0
    try:
        for line, values in enumerate(reader, start=2):
            if not any(v.strip() for v in values):
                continue  # blank line
            total += 1
            if len(values) != len(canon):
                errors.append(
                    {
                        "row": line,
                        "field": "row",
                        "code": "import.row_length",
                        "params": {"expected": len(canon), "found": len(values)},
                    }
                )
                continue
            raw = {k: v.strip() for k, v in zip(canon, values)}
            answers: dict = {}
            for u in CSV_ANSWER_COLUMNS:
                v = raw[u]
                answers[u] = None if v == "" else small_int(v)
            profile: dict = {}
            for k in CSV_PROFILE_COLUMNS:
                v = raw.get(k, "")
                if v == "":
                    continue
                if k == "age":
                    profile[k] = small_int(v)
                elif k == "sex":
                    profile[k] = SEX_ALIASES.get(v.lower(), v)
                elif k in ("education", "occupation"):
                    profile[k] = v.lower()
                else:
                    profile[k] = v
            body = {"answers": answers, "profile": profile}
            if raw.get("suggestion"):
                body["suggestion"] = raw["suggestion"]
            if raw.get("token"):
                body["token"] = raw["token"]
            data, ferrs = load_response(body, allow_blank=True)
            for fe in ferrs:
                errors.append(
                    {
                        "row": line,
                        "field": _csv_field(fe.field),
                        "code": fe.code,
                        "params": fe.params,
                        "message": fe.message,
                    }
                )
            if data is not None:
                items.append(data)
                lines.append(line)
    except csv.Error:
        raise validation([FieldError("body", "import.malformed")])
    report = {"campaign_id": c.id, "dry_run": dry_run, "rows": total, "recorded": 0, "errors": errors}
    if not errors and not items:
        raise validation([FieldError("body", "import.no_rows")])
    if errors:
        if dry_run:
            return report
        raise Problem(
            422,
            "import.rejected",
            rows=total,
            errors=[
                FieldError(f"rows[{e['row']}].{e['field']}", e["code"], e.get("params") or {}, e.get("message"))
                for e in errors
            ],
        )
    try:
        ids = record_responses(
            s, c, items, channel="import", actor=p.sub, field_prefix=lambda i, f: f"rows[{lines[i]}].{_csv_field(f)}"
        )
    except Problem as exc:
        if dry_run and exc.status == 422:
            report["errors"] = [
                {"row": _row_of(e.field), "field": e.field.split(".", 1)[-1], "code": e.code, "params": e.params}
                for e in exc.errors
            ]
            return report
        raise
    report["recorded"] = len(ids)
    if dry_run:
        s.rollback()
    return report


def _csv_field(field: str) -> str:
    """``answers.U4`` → ``U4``; ``profile.age`` → ``age``: the CSV's own column names."""
    for prefix in ("answers.", "profile."):
        if field.startswith(prefix):
            return field[len(prefix) :]
    return field


def _row_of(field: str) -> int:
    try:
        return int(field.split("[", 1)[1].split("]", 1)[0])
    except (IndexError, ValueError):
        return 0


# ------------------------------------------------------------------ the index


def _aggregate_columns():
    cols = [func.count().label("n")]
    for u, col in ANSWER_COLUMNS.items():
        cols.append(func.count(col).label(f"c_{u}"))
        cols.append(func.sum(col).label(f"s_{u}"))
    return cols


def _result_of(row) -> domain.IkmResult:
    m = row._mapping
    return domain.compute_index(m["n"], {u: m[f"s_{u}"] for u in domain.UNSUR}, {u: m[f"c_{u}"] for u in domain.UNSUR})


def campaign_index(s: Session, c: Campaign) -> domain.IkmResult:
    """One aggregate query: COUNT and SUM per unsur over the campaign's responses (AVG = SUM/COUNT,
    kept exact); the domain rounds at the end."""
    row = s.execute(select(*_aggregate_columns()).where(Response.campaign_id == c.id)).one()
    return _result_of(row)


def ikm_dict(result: domain.IkmResult) -> dict:
    return result.as_dict()


def _campaign_filter(p: Principal, args: dict):
    conds = []
    if not p.is_admin:
        conds.append(Campaign.agency_code == (p.agency or "\0"))
    if args.get("unit_code"):
        conds.append(Campaign.unit_code == args["unit_code"])
    if args.get("service_type"):
        conds.append(Campaign.service_type == args["service_type"])
    if args.get("status"):
        conds.append(Campaign.status == args["status"])
    if args.get("date_from"):
        conds.append(Campaign.end_date >= args["date_from"])
    if args.get("date_to"):
        conds.append(Campaign.start_date <= args["date_to"])
    return and_(*conds) if conds else True


def aggregate(s: Session, p: Principal, args: dict) -> dict:
    """The index pooled over every respondent of the campaigns matching the filters (unit,
    service type, period, status), optionally grouped by unit or service type."""
    if not (p.is_admin or p.has("hr", "agency")):
        raise Problem(403, "auth.role", roles=", ".join(sorted(p.roles)) or "-", required="hr, agency")
    if args.get("date_from") and args.get("date_to") and args["date_to"] < args["date_from"]:
        raise validation([FieldError("to", "campaign.end_before_start")])
    where = _campaign_filter(p, args)
    ids = list(s.scalars(select(Campaign.id).where(where).order_by(Campaign.id)))
    row = s.execute(
        select(*_aggregate_columns())
        .select_from(Response)
        .join(Campaign, Response.campaign_id == Campaign.id)
        .where(where)
    ).one()
    result = _result_of(row)
    filters = {key: args[key] for key in ("unit_code", "service_type", "status") if args.get(key)}
    filters |= {name: str(args[key]) for key, name in (("date_from", "from"), ("date_to", "to")) if args.get(key)}
    out = ikm_dict(result) | {
        "campaigns": len(ids),
        "campaign_ids": ids,
        "priority": domain.weakest(result),
        "filters": filters,
        "groups": [],
    }
    group = args.get("group_by")
    if group:
        key = getattr(Campaign, group)
        counts = dict(s.execute(select(key, func.count(Campaign.id)).where(where).group_by(key)).all())
        rows = s.execute(
            select(key.label("key"), *_aggregate_columns())
            .select_from(Response)
            .join(Campaign, Response.campaign_id == Campaign.id)
            .where(where)
            .group_by(key)
            .order_by(key)
        ).all()
        seen = set()
        for r in rows:
            res = _result_of(r)
            seen.add(r.key)
            out["groups"].append(
                ikm_dict(res) | {"key": r.key, "campaigns": counts.get(r.key, 0), "priority": domain.weakest(res)}
            )
        for k in sorted(set(counts) - seen):
            empty = domain.compute_index(0, {}, {})
            out["groups"].append(ikm_dict(empty) | {"key": k, "campaigns": counts[k], "priority": []})
        out["groups"].sort(key=lambda g: g["key"])
    return out


def _emit_ikm(s: Session, c: Campaign, result: domain.IkmResult) -> dict:
    data = ikm_dict(result)
    return emit(
        s,
        "surveys.ikm.computed",
        c.id,
        {
            "campaign_id": c.id,
            "agency_code": c.agency_code,
            "unit_code": c.unit_code,
            "service_type": c.service_type,
            "period_start": c.start_date,
            "period_end": c.end_date,
            "respondents": data["respondents"],
            "nrr": data["nrr"],
            "ikm": data["ikm"],
            "ikm_unit": data["ikm_unit"],
            "mutu": data["mutu"],
            "kinerja": data["kinerja"],
            "final": c.status == "closed",
        },
    )


def publish_ikm(s: Session, p: Principal, c: Campaign) -> dict:
    """Publish ``surveys.ikm.computed`` now (an open campaign's interim index, or again after closing)."""
    require_hr(p, c)
    if c.status == "draft":
        raise Problem(409, "campaign.not_open", status=c.status)
    result = campaign_index(s, c)
    if not result.complete:
        raise Problem(409, "ikm.no_data", respondents=result.respondents)
    envelope = _emit_ikm(s, c, result)
    audit(
        s,
        p.sub,
        "ikm.published",
        "campaign",
        c.id,
        agency=c.agency_code,
        after={"ikm_unit": envelope["data"]["ikm_unit"], "respondents": result.respondents, "event_id": envelope["id"]},
    )
    return envelope["data"] | {"event_id": envelope["id"]}


def suggestion_query(c: Campaign):
    return select(Response).where(Response.campaign_id == c.id, Response.suggestion.is_not(None))


def report(s: Session, c: Campaign, host_url: str | None = None, suggestions_limit: int = 500) -> dict:
    result = campaign_index(s, c)
    nrr = result.nrr_rounded()
    priority = domain.weakest(result)
    suggestions = list(s.scalars(suggestion_query(c).order_by(Response.id.desc()).limit(suggestions_limit)))
    total_suggestions = int(
        s.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.campaign_id == c.id, Response.suggestion.is_not(None))
        )
        or 0
    )
    return {
        "campaign": campaign_out(s, c, host_url),
        "index": ikm_dict(result),
        "result": result,
        "priority": priority,
        "unsur": [
            {
                "code": u,
                "nrr": None if nrr[u] is None else float(nrr[u]),
                "answered": result.counts[u],
                "priority": u in priority,
            }
            for u in domain.UNSUR
        ],
        "suggestions": suggestions,
        "suggestions_total": total_suggestions,
    }
