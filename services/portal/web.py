"""The portal's shared pages: login (development or OpenID Connect), home, notifications inbox,
and the error pages; each role's pages live in ``pages_<role>.py`` beside this file.

Helpers every page uses: :func:`page` renders a template, :func:`form_errors` turns an API's
422 problem into ``{form field: message}`` shown beside the fields, :func:`error_page` shows a
clear page for 403 ("tidak berwenang"), 404 and an unreachable service."""

from __future__ import annotations

import importlib
import time
from collections import defaultdict

from flask import Blueprint, Flask, Response, current_app, flash, g, redirect, render_template, request, url_for

from services.common.auth import issue_token

from . import auth
from .app import t
from .auth import User, api, current_user, login_required
from .client import ApiProblem

bp = Blueprint("portal", __name__)
AREAS = ("pages_employee", "pages_supervisor", "pages_evaluations", "pages_hr")
P = "/plans/api/v1"
R = "/reviews/api/v1"
N = "/notifications/api/v1"


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    for name in AREAS:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        app.register_blueprint(module.bp)

    @app.errorhandler(NotYours)
    def _not_yours(exc):
        return forbidden()

    @app.errorhandler(ApiProblem)
    def _api_problem(exc: ApiProblem):
        if exc.status == 401:
            auth.sign_out()
            return auth.to_login(expired=True)
        if exc.status == 403:
            return forbidden()
        if exc.status == 404:
            return error_page(404, "error.not_found")
        if exc.status >= 500:
            return error_page(503, "error.unavailable")
        return error_page(exc.status, "error.generic", detail=exc.detail)

    @app.errorhandler(404)
    def _not_found(exc):
        return error_page(404, "error.not_found")

    @app.errorhandler(405)
    def _method(exc):
        return error_page(405, "error.generic", detail=t("error.method"))

    @app.errorhandler(413)
    def _too_large(exc):
        return error_page(413, "error.too_large")

    @app.errorhandler(400)
    def _bad(exc):
        return error_page(400, "error.generic", detail=t("error.bad_request"))


# ------------------------------------------------------------------ helpers for every page


def page(template: str, status: int = 200, **ctx) -> Response:
    return Response(render_template(template, **ctx), status=status, mimetype="text/html")


def error_page(status: int, key: str, detail: str | None = None) -> Response:
    return page("portal/error.html", status, code=status, title=t(f"{key}.title"), message=detail or t(f"{key}.body"))


def forbidden() -> Response:
    return error_page(403, "error.forbidden")


class NotYours(Exception):
    """The APIs hide a record from anyone it does not belong to (403, or 404 so that its existence
    does not leak): the page says "tidak berwenang" and shows nothing of it."""


def get_own(path: str, **params) -> tuple[dict, str | None]:
    """A record and its ETag, read with the user's token; one the API hides raises :class:`NotYours`."""
    try:
        return api().get_with_etag(path, **params)
    except ApiProblem as exc:
        if exc.status in (403, 404):
            raise NotYours() from exc
        raise


def form_errors(exc: ApiProblem, fields: dict[str, str] | None = None) -> dict[str, str]:
    """The API's field errors keyed by the form's field names (``fields`` maps an API field path,
    or its prefix, to a form field); errors without a field go under ``_``."""
    fields = fields or {}
    out: dict[str, str] = {}
    for name, message in exc.field_errors().items():
        target = fields.get(name)
        if target is None:
            for api_path, form_name in fields.items():
                if name.startswith(api_path):
                    target = form_name + name[len(api_path) :]
                    break
        out.setdefault(target or name, message)
    if not out:
        out["_"] = exc.detail or t("error.generic.body")
    return out


def today():
    from zoneinfo import ZoneInfo

    return current_app.extensions["portal"].clock().astimezone(ZoneInfo("Asia/Jakarta")).date()


# ------------------------------------------------------------------ login


@bp.route("/login", methods=["GET", "POST"])
def login():
    settings = current_app.extensions["portal"].settings
    nxt = auth.safe_next(request.values.get("next"))
    if not settings.dev_login:
        return redirect(url_for("oidc.login", next=nxt))
    people = _directory()
    errors = {}
    if request.method == "POST":
        if g.get("csrf_failed"):
            errors["_"] = t("login.form_expired")
        else:
            choice = (request.form.get("person") or "").strip()
            user = _dev_user(choice, people)
            if user is None:
                errors["person"] = t("login.choose")
            else:
                auth.sign_in(user)
                return redirect(nxt)
    status = 422 if errors else 200
    return page(
        "portal/login.html",
        status,
        people=people,
        errors=errors,
        next=nxt,
        expired=request.args.get("expired") == "1",
        selected=request.form.get("person", ""),
    )


def _directory() -> dict:
    """The people one may sign in as (development login): per agency, per unit."""
    portal = current_app.extensions["portal"]
    admin = issue_token(portal.settings.jwt_secret, roles=["admin"], sub="portal-dev-login", ttl_seconds=60)
    client = portal.client(admin, g.get("lang", "id"))
    try:
        employees = client.all(f"{P}/employees", active=True)
    except ApiProblem:
        employees = []
    finally:
        client.close()
    superiors = {e["superior_nip"] for e in employees if e.get("superior_nip")}
    agencies: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for e in employees:
        e["is_supervisor"] = e["nip"] in superiors
        agencies[e["agency_code"]][e.get("unit_name") or e.get("unit_code")].append(e)
    return {code: dict(sorted(units.items())) for code, units in sorted(agencies.items())}


def _dev_user(choice: str, people: dict) -> User | None:
    settings = current_app.extensions["portal"].settings
    ttl = settings.session_minutes * 60
    if choice.startswith("hr:"):
        agency = choice[3:]
        if agency not in people:
            return None
        token = issue_token(settings.jwt_secret, roles=["hr"], agency=agency, sub=f"hr-{agency}", ttl_seconds=ttl)
        return User(
            token=token,
            nip=None,
            name=t("login.hr_of", agency=agency),
            roles=("hr",),
            agency=agency,
            expires_at=time.time() + ttl,
        )
    for agency, units in people.items():
        for staff in units.values():
            for e in staff:
                if e["nip"] == choice:
                    roles = ["employee"] + (["supervisor"] if e["is_supervisor"] else [])
                    token = issue_token(
                        settings.jwt_secret, roles=roles, agency=agency, nip=e["nip"], sub=e["nip"], ttl_seconds=ttl
                    )
                    return User(
                        token=token,
                        nip=e["nip"],
                        name=e["name"],
                        roles=tuple(roles),
                        agency=agency,
                        expires_at=time.time() + ttl,
                    )
    return None


@bp.post("/logout")
def logout():
    auth.sign_out()
    return redirect(url_for("portal.login"))


# ------------------------------------------------------------------ home and inbox


@bp.get("/")
@login_required()
def home():
    user = current_user()
    client = api()
    cycles = [c for c in client.get(f"{P}/cycles", limit=50)["items"] if c["stage"] != "closed"]
    cycle = cycles[-1] if cycles else None
    ctx: dict = {"cycle": cycle, "cycles": cycles}
    if user.nip and cycle:
        mine = client.get(f"{P}/plans", cycle_id=cycle["id"], employee_nip=user.nip, limit=5)["items"]
        ctx["my_plan"] = mine[0] if mine else None
        ctx["my_evaluations"] = client.get(f"{R}/evaluations", role="employee", cycle_id=cycle["id"], limit=50)["items"]
    if user.is_supervisor and cycle:
        ctx["waiting_plans"] = client.get(
            f"{P}/plans", cycle_id=cycle["id"], penilai_nip=user.nip, status="submitted", limit=200
        )["items"]
        ctx["to_rate"] = [
            e
            for e in client.get(f"{R}/evaluations", role="penilai", cycle_id=cycle["id"], limit=200)["items"]
            if e["status"] in ("open", "self_assessed")
        ]
    ctx["unread"] = _unread(client)
    return page("portal/home.html", **ctx)


def _unread(client) -> int:
    try:
        return int(client.get(f"{N}/inbox/unread-count").get("unread", 0))
    except (ApiProblem, AttributeError, TypeError, ValueError):
        return 0


@bp.get("/inbox")
@login_required()
def inbox():
    client = api()
    data = client.get(f"{N}/inbox", limit=50, cursor=request.args.get("cursor"))
    return page("portal/inbox.html", items=data["items"], next_cursor=data.get("next_cursor"))


@bp.post("/inbox/<int:notification_id>/read")
@login_required()
def inbox_read(notification_id: int):
    api().post(f"{N}/inbox/{notification_id}/read")
    return redirect(url_for("portal.inbox"))


@bp.post("/inbox/read-all")
@login_required()
def inbox_read_all():
    api().post(f"{N}/inbox/read-all")
    flash(t("inbox.all_read"), "ok")
    return redirect(url_for("portal.inbox"))


# ------------------------------------------------------------------ navigation

NAV = {  # role → (endpoint, label key); an area not built yet is simply absent
    "employee": (
        ("employee.plans", "nav.my_skp"),
        ("employee.daily_logs", "nav.daily_log"),
        ("evaluations.mine", "nav.my_evaluations"),
    ),
    "supervisor": (("supervisor.team", "nav.team"), ("evaluations.team", "nav.team_evaluations")),
    "hr": (
        ("hr.cycles", "nav.hr_cycles"),
        ("hr.calibration", "nav.calibration"),
        ("hr.surveys", "nav.surveys"),
        ("hr.more", "nav.hr_more"),
    ),
}


def nav_items(user: User) -> list[dict]:
    items, seen = [], set()
    for role, entries in NAV.items():
        if role not in user.roles and not (role == "hr" and "admin" in user.roles):
            continue
        for endpoint, key in entries:
            if endpoint in seen or endpoint not in current_app.view_functions:
                continue
            seen.add(endpoint)
            items.append({"url": url_for(endpoint), "label": t(key), "current": False})
    path = request.path
    matches = [i for i in items if path == i["url"] or path.startswith(i["url"].rstrip("/") + "/")]
    if matches:  # the most specific entry is the current one (/tim/evaluasi, not also /tim)
        max(matches, key=lambda i: len(i["url"]))["current"] = True
    return items


@bp.app_context_processor
def _nav():
    return {"nav_items": nav_items, "has_endpoint": lambda e: e in current_app.view_functions}
