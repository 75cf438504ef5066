"""The portal's shared pages: login (development or OpenID Connect), home, notifications inbox,
and the error pages; each area's pages live beside this file (``AREAS``): the employee's
(``pages_employee``: ``pages_plan``, ``pages_progress``), the supervisor's, the evaluations'
(``pages_evaluations``: ``pages_rating``, ``pages_signoff``) and HR's (``pages_hr``: ``pages_hr_cycles``,
``pages_hr_calibration``, ``pages_hr_surveys``, ``pages_hr_reports``, ``pages_hr_directory``), and the
notification pages (``pages_notifications``: everyone's settings; ``pages_hr_notifications``: HR's).

Helpers every page uses: :func:`t` words a message in the page's language, :func:`page` renders a
template, :func:`form_errors` turns an API's 422 problem into ``{form field: message}`` shown
beside the fields, :func:`error_page` shows a clear page for 403 ("tidak berwenang"), 404 and an
unreachable service; :func:`today` and :func:`local_time` are dates and times in the agency's zone."""

from __future__ import annotations

import functools
import importlib
import secrets
import time
from collections import defaultdict
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from services.common.auth import issue_token

from . import auth
from .auth import User, api, current_user, login_required
from .client import ApiProblem

bp = Blueprint("portal", __name__)
# the page modules; an area's modules share its blueprint (endpoints ``employee.*``, ``evaluations.*``,
# ``hr.*``), defined in the first one, so every module is imported before the blueprints are registered
AREAS = (
    ("pages_employee", "pages_plan", "pages_progress"),
    ("pages_supervisor", "pages_expectations"),  # the team, SKP review; the penilai's expectations per value
    ("pages_evidence",),  # evidence review: the penilai opens each file, accepts it or asks for another
    ("pages_feedback",),  # continuous feedback and coaching: the superior writes, the employee replies
    ("pages_evaluations", "pages_rating", "pages_signoff", "pages_verify"),
    (
        "pages_hr",
        "pages_hr_cycles",
        "pages_hr_calibration",
        "pages_hr_orgresults",  # organisation results per unit, the distribution rules, rating adjustments
        "pages_hr_surveys",
        "pages_hr_reports",
        "pages_hr_directory",
    ),
    ("pages_notifications", "pages_hr_notifications"),  # everyone's settings; HR's rules, contacts, webhooks
    ("pages_hr_akses",),  # grants across agencies (/hr/akses): list, grant, revoke with a confirmation
    ("pages_hr_siasn",),  # SIASN (/hr/siasn): the push, the file for a manual upload, the state per employee
    ("pages_exports",),  # Excel exports for HR (/hr/ekspor) and supervisors (/tim/ekspor)
    ("pages_bulk",),  # a supervisor's bulk approve and bulk sign (/tim/massal)
    ("pages_peers",),  # peer nomination: the employee proposes, the penilai approves, peers answer (/rekan)
    ("pages_followups",),  # a follow-up's progress (/tindak-lanjut/<id>), a supervisor's team's (/tim/tindak-lanjut)
)
P = "/plans/api/v1"
R = "/reviews/api/v1"
S = "/surveys/api/v1"
N = "/notifications/api/v1"
CSRF_FIELD = "csrf_token"
BERAKHLAK = ("berorientasi_pelayanan", "akuntabel", "kompeten", "harmonis", "loyal", "adaptif", "kolaboratif")
ERRORS = {  # status → (message key, detail key or None)
    404: ("error.not_found", None),
    405: ("error.generic", "error.method"),
    413: ("error.too_large", None),
    400: ("error.generic", "error.bad_request"),
}


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    blueprints: list[Blueprint] = []
    for modules in AREAS:
        for name in modules:
            try:
                module = importlib.import_module(f"{__package__}.{name}")
            except ModuleNotFoundError as exc:
                if exc.name != f"{__package__}.{name}":
                    raise
                continue
            if module.bp not in blueprints:
                blueprints.append(module.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

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

    for status in ERRORS:
        app.register_error_handler(status, _http_error)


def _http_error(exc):
    key, detail = ERRORS[exc.code]
    return error_page(exc.code, key, detail=t(detail) if detail else None)


# ------------------------------------------------------------------ helpers for every page


def settings():
    """The portal's settings (``PortalSettings``, read once when the app was made)."""
    return current_app.extensions["portal"].settings


def t(key: str, **params) -> str:
    """The message ``key`` of the catalogue in the page's language."""
    return current_app.extensions["portal"].catalogue.t(key, g.get("lang", "id"), **params)


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(24)
    return token


def check_csrf() -> None:
    """Every form carries the session's CSRF token; a stale form (expired session) goes to login."""
    given = request.form.get(CSRF_FIELD) or request.headers.get("X-CSRF-Token")
    expected = session.get("csrf")
    if not expected or not given or not secrets.compare_digest(given, expected):
        g.csrf_failed = True  # login_required refuses the action; the login page asks again


def lang_url(lang: str) -> str:
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args["lang"] = lang
    return request.path + "?" + urlencode(args)


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


def local_zone() -> ZoneInfo:
    """The agency's time zone (``KINERJA_TIMEZONE``, default Asia/Jakarta): where the people are."""
    return _zone(current_app.extensions["portal"].settings.timezone)


@functools.lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def today() -> date:
    return current_app.extensions["portal"].clock().astimezone(local_zone()).date()


def standing_in_for() -> set[str]:
    """The NIPs of the officials the signed-in person stands in for today as Plt/Plh (plans keeps
    the appointments; reviews lets them rate, sign, countersign and decide in their place). Asked
    once per request; an unreachable plans service means none."""
    return set(_appointments())


def acting_appointment(nip: str | None) -> dict | None:
    """The signed-in person's appointment (Plt/Plh) standing in for ``nip`` today, if any."""
    return _appointments().get(nip or "")


def _appointments() -> dict[str, dict]:
    if "acting_for" not in g:
        user, found = current_user(), {}
        if user is not None and user.nip:
            day = today().isoformat()
            try:
                items = api().all(f"{P}/acting", current=True)
            except ApiProblem:
                items = []
            found = {a["for_nip"]: a for a in items if a["acting_nip"] == user.nip and a["start_date"] <= day}
        g.acting_for = found
    return g.acting_for


def acts_as(nip: str | None) -> bool:
    """The signed-in person is ``nip``, or stands in for them today (Plt/Plh)."""
    user = current_user()
    return bool(nip) and user is not None and (user.nip == nip or nip in standing_in_for())


def decides_for(penilai_nip: str | None) -> bool:
    """The signed-in person decides as this SKP's penilai: the penilai, their Plt/Plh, or HR for the
    top official, whose penilai is outside the directory (HR records the approval)."""
    user = current_user()
    return acts_as(penilai_nip) or (not penilai_nip and user is not None and user.is_hr)


def team_plans(cycle_id: int, **filters) -> list[dict]:
    """The SKPs the signed-in person decides as penilai in the cycle — their own reports' and, as
    Plt/Plh, those of the officials they stand in for — never their own SKP."""
    me = current_user().nip
    found: dict[int, dict] = {}
    for nip in sorted({me} | standing_in_for()):
        for plan in api().all(f"{P}/plans", cycle_id=cycle_id, penilai_nip=nip, **filters):
            if plan["employee_nip"] != me:
                found[plan["id"]] = plan
    return list(found.values())


def period_title(cycle: dict | None, seq: int | None) -> str | None:
    """The name of the cycle's period ``seq`` in the page's language; None when it has no such period."""
    for p in (cycle or {}).get("periods") or []:
        if p["seq"] == seq:
            return p["name_en"] if g.get("lang") == "en" else p["name_id"]
    return None


def local_time(value) -> datetime | None:
    """An API timestamp (ISO 8601, or the RFC 822 form Flask gives a datetime; UTC when it names no
    zone) as the time in the agency's zone; None when it is not a timestamp."""
    if isinstance(value, datetime):
        at = value
    else:
        try:
            at = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            try:
                at = parsedate_to_datetime(str(value))
            except (TypeError, ValueError):
                return None
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(local_zone())


# ------------------------------------------------------------------ login


@bp.route("/login", methods=["GET", "POST"])
def login():
    nxt = auth.safe_next(request.values.get("next"))
    if not settings().dev_login:
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
        acting = {a["acting_nip"] for a in client.all(f"{P}/acting", current=True)}  # a Plt/Plh supervises too
    except ApiProblem:
        employees, acting = [], set()
    finally:
        client.close()
    superiors = {e["superior_nip"] for e in employees if e.get("superior_nip")} | acting
    agencies: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for e in employees:
        e["is_supervisor"] = e["nip"] in superiors
        agencies[e["agency_code"]][e.get("unit_name") or e.get("unit_code")].append(e)
    return {code: dict(sorted(units.items())) for code, units in sorted(agencies.items())}


def _dev_user(choice: str, people: dict) -> User | None:
    secret, ttl = settings().jwt_secret, settings().session_minutes * 60
    if choice.startswith("hr:"):
        agency = choice[3:]
        if agency not in people:
            return None
        token = issue_token(secret, roles=["hr"], agency=agency, sub=f"hr-{agency}", ttl_seconds=ttl)
        return User(
            token=token,
            nip=None,
            name=t("login.hr_of", agency=agency),
            roles=("hr",),
            agency=agency,
            expires_at=time.time() + ttl,
            sub=f"hr-{agency}",
        )
    for agency, units in people.items():
        for staff in units.values():
            for e in staff:
                if e["nip"] == choice:
                    roles = ["employee"] + (["supervisor"] if e["is_supervisor"] else [])
                    token = issue_token(secret, roles=roles, agency=agency, nip=e["nip"], sub=e["nip"], ttl_seconds=ttl)
                    return User(
                        token=token,
                        nip=e["nip"],
                        name=e["name"],
                        roles=tuple(roles),
                        agency=agency,
                        expires_at=time.time() + ttl,
                        sub=e["nip"],
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
        ctx["peer_requests"] = client.get(f"{R}/evaluations", role="peer", limit=50)["items"]  # pages_peers answers
    if user.is_supervisor and cycle:
        ctx["waiting_plans"] = team_plans(cycle["id"], status="submitted")
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
        ("peers.index", "peers.nav"),
    ),
    "supervisor": (("supervisor.team", "nav.team"), ("evaluations.team", "nav.team_evaluations")),
    "hr": (
        ("hr.cycles", "nav.hr_cycles"),
        ("hr.calibration", "nav.calibration"),
        ("hr.surveys", "nav.surveys"),
        ("hr.directory", "nav.hr_directory"),
        ("hr.more", "nav.hr_more"),
        ("hr.notifications", "notif.nav.hr"),
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
