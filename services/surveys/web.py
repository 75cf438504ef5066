"""The public survey form: server-rendered HTML (Jinja2), no JavaScript, no login.

``/surveys/s/<slug>`` — the unguessable per-campaign link (and its QR code ``qr.png``/``qr.svg``)
shows the nine questions in the regulation's order with their 1–4 answer wordings, the
respondent profile and a suggestion box, in Bahasa Indonesia (``?lang=en`` for English).

Guards: a signed per-form CSRF token bound to a cookie (double submit; itsdangerous, which
ships with Flask), saved at most once per rendered form; one response per one-time token
when the campaign issues tokens, otherwise a per-address rate limit kept in the database.
A refused submission saves nothing and shows the errors beside their fields."""

from __future__ import annotations

import hashlib
import secrets

from flask import Blueprint, g, redirect, render_template, request, url_for
from flask import Response as FlaskResponse
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

from services.common.errors import Problem
from services.common.usecase import platform, settings, today

from . import domain, qr
from .access import campaign_by_slug, public_url
from .models import Response
from .recording import bare_field, parse_items, record_responses, small_int
from .report import fmt_date

web = Blueprint("surveys_web", __name__, url_prefix="/surveys/s", template_folder="templates")
PUBLIC_PREFIX = "/surveys/s/"
COOKIE = "skm_csrf"
FORM_SALT = "kinerja.surveys.form"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings().form_secret, salt=FORM_SALT)


def _cookie_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def _t(key: str, **params) -> str:
    return platform().catalogue.t(key, g.lang, **params)


def _page(template: str, status: int = 200, **ctx) -> FlaskResponse:
    lang = g.get("lang", "id")
    other = "en" if lang == "id" else "id"
    args = {k: v for k, v in request.args.items() if k != "lang"}
    toggle = (
        request.base_url
        + "?"
        + "&".join([f"lang={other}", *(f"{k}={v}" for k, v in args.items() if k == "t" and v.isalnum())])
    )
    html = render_template(template, t=_t, lang=lang, toggle_url=toggle, **ctx)
    resp = FlaskResponse(html, status=status, mimetype="text/html")
    resp.headers["Content-Language"] = lang
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["X-Frame-Options"] = "DENY"
    resp.headers["Referrer-Policy"] = "no-referrer"  # a token in the URL must not leak onwards
    resp.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    return resp


def _message(title_key: str, body: str, status: int, slug: str | None = None) -> FlaskResponse:
    back = url_for("surveys_web.form", slug=slug, lang=g.get("lang", "id")) if slug else None
    return _page("surveys/message.html", status, title=_t(title_key), body=body, back_url=back)


@web.errorhandler(Problem)
def _problem(exc: Problem):
    slug = (request.view_args or {}).get("slug")
    if exc.status == 429:
        return _message("form.rate_title", _t(exc.code, **exc.params), 429, slug)
    if exc.status == 404:
        return _message("form.not_found_title", _t("form.not_found"), 404)
    if exc.code in ("campaign.not_open", "campaign.outside_period"):
        return _message("form.closed_title", _t(exc.code, **exc.params), 409)
    detail = _t(exc.code, **exc.params) if platform().catalogue.has(exc.code) else _t(f"problem.{exc.status}")
    return _message("form.error_title", detail, exc.status, slug)


@web.errorhandler(HTTPException)
def _http(exc: HTTPException):
    code = exc.code or 500
    if code == 404:
        return _message("form.not_found_title", _t("form.not_found"), 404)
    return _message("form.error_title", _t(f"problem.{code}"), code)


def _campaign(s, slug: str):
    c = campaign_by_slug(s, slug)
    if c is None:
        raise Problem(404, "surveys.not_found", what="survey", id=slug)
    return c


def _ensure_cookie() -> tuple[str, bool]:
    value = request.cookies.get(COOKIE) or ""
    if len(value) >= 32 and value.replace("-", "").replace("_", "").isalnum():
        return value, False
    return secrets.token_urlsafe(32), True


def _render_form(c, *, values: dict, errors: dict, status: int = 200) -> FlaskResponse:
    cookie, fresh = _ensure_cookie()
    token = _serializer().dumps({"c": c.id, "k": _cookie_hash(cookie), "n": secrets.token_urlsafe(16)})
    questions = [
        {
            "code": u,
            "n": i + 1,
            "unsur": _t(f"unsur.{u}"),
            "question": _t(f"question.{u}"),
            "answers": [(v, _t(f"answer.{u}.{v}")) for v in range(1, 5)],
        }
        for i, u in enumerate(domain.QUESTION_ORDER)
    ]
    resp = _page(
        "surveys/form.html",
        status,
        c=c,
        questions=questions,
        values=values,
        errors=errors,
        csrf_token=token,
        action=url_for("surveys_web.form", slug=c.slug, lang=g.lang),
        sexes=[(v, _t(f"sex.{v}")) for v in domain.SEXES],
        education=[(v, _t(f"education.{v}")) for v in domain.EDUCATION],
        occupations=[(v, _t(f"occupation.{v}")) for v in domain.OCCUPATIONS],
        period=_t("form.period", start=_date(c.start_date), end=_date(c.end_date)),
        total=len(questions),
    )
    if fresh:
        resp.set_cookie(
            COOKIE,
            cookie,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure,
            path=PUBLIC_PREFIX,
            max_age=settings().csrf_max_age,
        )
    return resp


def _date(d) -> str:
    return fmt_date(d, g.lang)


@web.get("/<slug>")
def form(slug: str):
    with platform().uow() as s:
        c = _campaign(s, slug)
        reason = domain.accepts_responses(c.status, c.start_date, c.end_date, today())
        if reason:
            text = _t(reason, status=c.status, start_date=_date(c.start_date), end_date=_date(c.end_date))
            if c.status != "closed":
                return _message("form.closed_title", text, 409)
            # a closed survey's QR code still hangs at the counter: it leads to the published results
            results = url_for("surveys_results.campaign", agency=c.agency_code, campaign_id=c.id, lang=g.lang)
            return _page(
                "surveys/message.html",
                410,
                title=_t("form.closed_title"),
                body=text,
                back_url=None,
                results_url=results,
            )
        token = request.args.get("t") or ""
        values = {"token": token} if token.isalnum() and len(token) <= 32 else {}
        return _render_form(c, values=values, errors={})


def _form_payload(form) -> tuple[dict, dict]:
    """The posted form as an API body, plus the values to show again."""
    values = {k: (form.get(k) or "").replace("\x00", "").strip() for k in form.keys()}
    answers = {}
    for u in domain.UNSUR:
        v = values.get(u, "")
        if v != "":
            answers[u] = small_int(v)
    profile: dict = {}
    for k in ("age", "sex", "education", "occupation", "service_type"):
        v = values.get(k, "")
        if v == "":
            continue
        profile[k] = small_int(v) if k == "age" else v
    body = {
        "answers": answers,
        "profile": profile,
        "suggestion": values.get("suggestion") or None,
        "token": values.get("token") or None,
    }
    return body, values


@web.post("/<slug>")
def submit(slug: str):
    with platform().uow() as s:
        c = _campaign(s, slug)
        body, values = _form_payload(request.form)
        # 1. the CSRF token: signed by us, recent, for this campaign, bound to this browser's cookie
        try:
            claims = _serializer().loads(request.form.get("csrf_token", ""), max_age=settings().csrf_max_age)
        except (BadSignature, SignatureExpired):
            claims = None
        cookie = request.cookies.get(COOKIE) or ""
        if (
            not isinstance(claims, dict)
            or claims.get("c") != c.id
            or not cookie
            or claims.get("k") != _cookie_hash(cookie)
            or not isinstance(claims.get("n"), str)
        ):
            return _message("form.error_title", _t("form.csrf"), 400, slug)
        nonce = claims["n"]
        if s.scalar(select(Response.id).where(Response.form_nonce == nonce)):
            return redirect(url_for("surveys_web.thanks", slug=slug, lang=g.lang), 303)
        # 2. the questionnaire, every error at once
        items, errors = parse_items([body], prefix_index=False)
        if errors:
            return _render_form(c, values=values, errors=_messages(errors), status=422)
        try:
            record_responses(
                s, c, items, channel="form", actor="public:form", address=request.remote_addr, form_nonce=nonce
            )
        except Problem as exc:
            if exc.status == 422:
                s.rollback()  # nothing of a refused submission is kept
                return _render_form(c, values=values, errors=_messages(exc.errors), status=422)
            raise
        try:
            s.flush()
        except IntegrityError:  # the same form sent twice at once: the first one counts
            s.rollback()
            return redirect(url_for("surveys_web.thanks", slug=slug, lang=g.lang), 303)
    return redirect(url_for("surveys_web.thanks", slug=slug, lang=g.lang), 303)


def _messages(errors) -> dict[str, str]:
    cat = platform().catalogue
    out: dict[str, str] = {}
    for e in errors:
        field = bare_field(e.field)
        code = e.code
        if field == "age" and code.startswith("field."):
            code = "profile.age"
        code = {"answer.missing": "form.answer_missing", "answer.range": "form.answer_invalid"}.get(code, code)
        text = cat.t(code, g.lang, **e.params) if cat.has(code) else cat.t("field.invalid", g.lang)
        out.setdefault(field, text)
    return out


@web.get("/<slug>/thanks")
def thanks(slug: str):
    with platform().uow() as s:
        c = _campaign(s, slug)
        return _page(
            "surveys/message.html", 200, title=_t("form.thanks_title"), body=_t("form.thanks"), back_url=None, c=c
        )


@web.get("/<slug>/qr.<kind>")
def qr_code(slug: str, kind: str):
    if kind not in qr.CONTENT_TYPES:
        raise Problem(404, "surveys.not_found", what="survey", id=slug)
    with platform().uow() as s:
        c = _campaign(s, slug)
        url = public_url(c, request.host_url)
    return qr.response(url, kind, 8, f"skm-{c.unit_code}-{c.id}")
