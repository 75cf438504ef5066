"""Notification settings of the signed-in person (endpoints ``notifications.*``): language of the
messages, e-mail and messaging channels (also per event type), quiet hours with the time zone, the
daily digest and the person's own Apprise addresses — all that ``PATCH /notifications/api/v1/preferences``
takes, checked here first and then by the API, each refusal beside its field.

HR officers sign in without a NIP: the API keeps preferences for people only, so the page tells
them where their messages go (the HR inbox, the agency's HR contacts). The inbox itself is in
``web.py`` (for HR it is the agency's HR inbox). ``beside`` is shared with ``pages_hr_notifications``."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, request, url_for

from .auth import api, current_user, login_required
from .client import ApiProblem
from .web import N, page, t

bp = Blueprint("notifications", __name__)

HHMM = re.compile(r"^(\d{1,2})[.:]([0-5]\d)$")  # 21:00, and 21.00 as times are written in Indonesia
TIMEZONES = ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")  # WIB, WITA, WIT
OVERRIDE_CHANNELS = ("inapp", "email", "apprise")
_FIELD = re.compile(r"^([A-Za-z_]+)(?:\[(\d+)\]|\.(\d+))?(?:\.(.*))?$")


def beside(exc: ApiProblem, names, rows: dict[str, tuple] | None = None) -> dict[str, str]:
    """The API's field errors beside the form's fields: ``apprise_urls[1]`` (or ``.1``) goes beside
    ``apprise_urls`` as "Isian ke-2: …"; ``overrides.<pattern>`` beside ``overrides``. ``rows`` maps a
    list field of the API (``contacts``) to ``(prefix, origin, fields)``: the prefix of the form's row
    fields, the form's row id of each item sent (emptied rows were not sent) and the row's fields
    (an error about another field of the item goes beside the first): ``contacts[0].email`` →
    ``contact-<origin[0]>-email``. What names no field of the form goes under ``_``."""
    out: dict[str, str] = {}
    for name, message in exc.field_errors().items():
        m = _FIELD.match(name)
        base, index = (m.group(1), m.group(2) or m.group(3)) if m else (name, None)
        if rows and base in rows and index is not None:
            prefix, origin, fields = rows[base]
            k = int(index)
            field = m.group(4) if m.group(4) in fields else fields[0]
            out.setdefault(f"{prefix}-{origin[k] if k < len(origin) else k}-{field}", message)
        elif base in names:
            text = t("notif.line", n=int(index) + 1, message=message) if index is not None else message
            out.setdefault(base, text)
        else:
            out.setdefault("_", message)
    if not out:
        out["_"] = exc.detail or t("error.generic.body")
    return out


def lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


# ------------------------------------------------------------------ the person's preferences


def _values(prefs: dict) -> dict:
    """The form's values from the API's preferences."""
    return {
        "language": prefs.get("language") or "",
        "email": bool(prefs.get("email")),
        "apprise": bool(prefs.get("apprise")),
        "quiet_start": prefs.get("quiet_start") or "",
        "quiet_end": prefs.get("quiet_end") or "",
        "timezone": prefs.get("timezone") or TIMEZONES[0],
        "digest": bool(prefs.get("digest")),
        "digest_hour": str(prefs.get("digest_hour", 7)),
        "apprise_urls": "\n".join(prefs.get("apprise_urls") or []),
        "overrides": "\n".join(f"{k}: {', '.join(v)}" for k, v in (prefs.get("overrides") or {}).items()),
    }


def _parse(form) -> tuple[dict, dict, dict]:
    """The form as typed (to show again), the API body, and the errors found before asking the API."""
    values = {k: (form.get(k) or "").strip() for k in ("language", "quiet_start", "quiet_end", "timezone")}
    values |= {k: form.get(k) == "1" for k in ("email", "apprise", "digest")}
    values |= {k: form.get(k) or "" for k in ("apprise_urls", "overrides")}
    values["digest_hour"] = (form.get("digest_hour") or "").strip()
    errors: dict[str, str] = {}
    if values["language"] not in ("", "id", "en"):
        errors["language"] = t("form.required")
    for k in ("quiet_start", "quiet_end"):
        if values[k]:
            m = HHMM.match(values[k])
            if m and int(m.group(1)) < 24:
                values[k] = f"{int(m.group(1)):02d}:{m.group(2)}"
            else:
                errors[k] = t("notif.time_invalid")
    if bool(values["quiet_start"]) != bool(values["quiet_end"]) and not errors.keys() & {"quiet_start", "quiet_end"}:
        errors["quiet_end" if not values["quiet_end"] else "quiet_start"] = t("form.required")
    if not values["timezone"]:
        errors["timezone"] = t("form.required")
    hour = int(values["digest_hour"]) if values["digest_hour"].isdigit() else None
    if hour is None or not 0 <= hour <= 23:
        errors["digest_hour"] = t("notif.hour_invalid")
    overrides: dict[str, list[str]] = {}
    for n, line in enumerate(lines(values["overrides"]), start=1):
        pattern, sep, chans = line.partition(":")
        chosen = [c.strip() for c in chans.split(",") if c.strip()]
        if not sep or not pattern.strip() or any(c not in OVERRIDE_CHANNELS for c in chosen):
            errors.setdefault("overrides", t("notif.line", n=n, message=t("notif.prefs.overrides_line")))
            continue
        overrides[pattern.strip()] = chosen
    body = {
        "language": values["language"] or None,
        "email": values["email"],
        "apprise": values["apprise"],
        "quiet_start": values["quiet_start"] or None,
        "quiet_end": values["quiet_end"] or None,
        "timezone": values["timezone"],
        "digest": values["digest"],
        "digest_hour": hour,
        "apprise_urls": lines(values["apprise_urls"]),
        "overrides": overrides,
    }
    return values, body, errors


def _page(prefs: dict, values: dict, errors: dict, status: int = 200):
    zones = list(TIMEZONES) + ([values["timezone"]] if values["timezone"] not in TIMEZONES else [])
    return page(
        "portal/notif/preferences.html",
        status,
        prefs=prefs,
        values=values,
        errors=errors,
        languages=[("", t("notif.lang.default")), ("id", t("notif.lang.id")), ("en", t("notif.lang.en"))],
        zones=[(z, t(f"notif.prefs.tz.{z}") if z in TIMEZONES else z) for z in zones],
    )


@bp.route("/pengaturan-notifikasi", methods=["GET", "POST"])
@login_required()
def preferences():
    if not current_user().nip:  # HR officers: no preferences of a person, their messages go elsewhere
        return page("portal/notif/preferences.html", prefs=None, values={}, errors={})
    prefs = api().get(f"{N}/preferences")
    if request.method == "GET":
        return _page(prefs, _values(prefs), {})
    values, body, errors = _parse(request.form)
    if errors:
        return _page(prefs, values, errors, 422)
    try:
        api().patch(f"{N}/preferences", body)
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        return _page(prefs, values, beside(exc, set(body)), 422)
    flash(t("notif.prefs.saved"), "ok")
    return redirect(url_for("notifications.preferences"))
