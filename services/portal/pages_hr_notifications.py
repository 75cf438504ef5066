"""Notifications and integration for HR (and admins), endpoints ``hr.notif_*`` and ``hr.webhook*``
(SIASN: ``pages_hr_siasn``): the agency's notification rules (edited as a whole, as ``PUT /rules`` replaces them,
or back to the defaults), its HR contacts (who hears about objections, calibration, IKM and
escalations), webhook subscriptions of other agencies' systems (create with event-type patterns,
the signing secret shown once, disable, enable, new secret, delete, the delivery log with
redelivery).

Each form is checked here first (required fields, choices, addresses) and then by the API; every
refusal is shown beside its field — a row's field in the tables — and nothing is saved."""

from __future__ import annotations

import json
import re

from flask import flash, redirect, request, session, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import bp
from .pages_notifications import beside, lines
from .web import N, get_own, page, t

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NIP = re.compile(r"^\d{18}$")
SECRET_KEY = "notif_webhook_secret"  # the secret shown once, kept in the (server-side) session until then


@bp.get("/notifikasi")
@login_required("hr")
def notifications():
    return page("portal/notif/hr_index.html")


# ------------------------------------------------------------------ notification rules


def _rule_rows(rules: list[dict]) -> list[dict]:
    return [
        {
            "id": str(i),
            "event_type": r["event_type"],
            "audience": r["audience"],
            "template": r["template"],
            "enabled": bool(r.get("enabled", True)),
            "when": json.dumps(r["when"]) if r.get("when") else "",
            "remove": False,
        }
        for i, r in enumerate(rules)
    ]


def _rules_page(data: dict, rows: list[dict], new: dict, errors: dict, status: int = 200):
    when_text = {}
    for row in rows:
        try:
            when = json.loads(row["when"]) if row["when"] else None
        except ValueError:
            when = None
        when_text[row["id"]] = "; ".join(f"{k}: {', '.join(v)}" for k, v in when.items()) if when else ""
    return page(
        "portal/notif/rules.html",
        status,
        data=data,
        rows=rows,
        new=new,
        errors=errors,
        when_text=when_text,
        audiences=[(a, t(f"notif.audience.{a}")) for a in data["audiences"]],
        templates=[(x, x) for x in data["templates"]],
    )


@bp.route("/notifikasi/aturan", methods=["GET", "POST"])
@login_required("hr")
def notif_rules():
    data = api().get(f"{N}/rules")
    if request.method == "GET":
        return _rules_page(data, _rule_rows(data["rules"]), {}, {})
    f = request.form
    count = min(int(f.get("rule_count") or 0) if (f.get("rule_count") or "").isdigit() else 0, 200)
    rows = []
    for i in [str(n) for n in range(count)] + ["new"]:
        row = {k: (f.get(f"rule-{i}-{k}") or "").strip() for k in ("event_type", "audience", "template", "when")}
        row |= {"id": i, "enabled": f.get(f"rule-{i}-enabled") == "1", "remove": f.get(f"rule-{i}-remove") == "1"}
        rows.append(row)
    new = rows.pop()
    if not any(new[k] for k in ("event_type", "audience", "template")):
        new = {"id": "new", "enabled": True}
    else:
        rows.append(new)
    errors: dict[str, str] = {}
    body, origin = [], []
    for row in rows:
        if row["remove"]:
            continue
        i = row["id"]
        if not row["event_type"]:
            errors[f"rule-{i}-event_type"] = t("form.required")
        if row["audience"] not in data["audiences"]:
            errors[f"rule-{i}-audience"] = t("notif.rules.choose_audience")
        if row["template"] not in data["templates"]:
            errors[f"rule-{i}-template"] = t("notif.rules.choose_template")
        try:
            when = json.loads(row["when"]) if row["when"] else None
        except ValueError:
            when, errors[f"rule-{i}-event_type"] = None, t("error.generic.body")
        rule = {k: row[k] for k in ("event_type", "audience", "template", "enabled")}
        body.append(rule | {"when": when})
        origin.append(i)
    rows = [r for r in rows if r["id"] != "new"]
    if errors:
        return _rules_page(data, rows, new, errors, 422)
    try:
        api().put(f"{N}/rules", {"rules": body})
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        return _rules_page(
            data,
            rows,
            new,
            beside(exc, set(), rows={"rules": ("rule", origin, ("event_type", "audience", "template"))}),
            422,
        )
    flash(t("notif.rules.saved", n=len(body)), "ok")
    return redirect(url_for("hr.notif_rules"))


@bp.post("/notifikasi/aturan/bawaan")
@login_required("hr")
def notif_rules_reset():
    api().request("DELETE", f"{N}/rules")
    flash(t("notif.rules.reset_done"), "ok")
    return redirect(url_for("hr.notif_rules"))


# ------------------------------------------------------------------ HR contacts

CONTACT_FIELDS = ("name", "email", "nip", "language")


def _contacts_page(rows: list[dict], errors: dict, status: int = 200):
    blanks = [{"id": str(len(rows) + n), **dict.fromkeys(CONTACT_FIELDS, ""), "language": "id"} for n in range(2)]
    return page(
        "portal/notif/contacts.html",
        status,
        rows=rows + blanks,
        errors=errors,
        languages=[("id", t("notif.lang.id")), ("en", t("notif.lang.en"))],
    )


@bp.route("/notifikasi/kontak", methods=["GET", "POST"])
@login_required("hr")
def notif_contacts():
    if request.method == "GET":
        contacts = api().get(f"{N}/hr-contacts")["contacts"]
        rows = [{"id": str(i)} | {k: c.get(k) or "" for k in CONTACT_FIELDS} for i, c in enumerate(contacts)]
        return _contacts_page(rows, {})
    f = request.form
    count = min(int(f.get("contact_count") or 0) if (f.get("contact_count") or "").isdigit() else 0, 52)
    rows, body, origin, errors = [], [], [], {}
    for i in (str(n) for n in range(count)):
        row = {"id": i} | {k: (f.get(f"contact-{i}-{k}") or "").strip() for k in CONTACT_FIELDS}
        if not any(row[k] for k in ("name", "email", "nip")):
            continue  # an emptied row: that contact goes
        rows.append(row)
        if not row["name"]:
            errors[f"contact-{i}-name"] = t("form.required")
        if row["email"] and not EMAIL.match(row["email"]):
            errors[f"contact-{i}-email"] = t("notif.email_invalid")
        if row["nip"] and not NIP.match(row["nip"]):
            errors[f"contact-{i}-nip"] = t("notif.nip_invalid")
        if not row["email"] and not row["nip"]:
            errors[f"contact-{i}-email"] = t("notif.contacts.need_address")
        body.append({"name": row["name"], "email": row["email"] or None, "nip": row["nip"] or None})
        body[-1]["language"] = row["language"] if row["language"] in ("id", "en") else "id"
        origin.append(i)
    if errors:
        return _contacts_page(rows, errors, 422)
    try:
        api().put(f"{N}/hr-contacts", {"contacts": body})
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        return _contacts_page(rows, beside(exc, set(), rows={"contacts": ("contact", origin, CONTACT_FIELDS)}), 422)
    flash(t("notif.contacts.saved", n=len(body)), "ok")
    return redirect(url_for("hr.notif_contacts"))


# ------------------------------------------------------------------ the agency's channels and delivery log


@bp.route("/notifikasi/saluran", methods=["GET", "POST"])
@login_required("hr")
def notif_channels():
    """The agency's Apprise URLs (a WhatsApp gateway, Telegram, chat tools) for people who set none of
    their own; ``{nip}``, ``{phone}``, ``{email}`` are filled per recipient."""
    if request.method == "GET":
        urls = api().get(f"{N}/agency-settings")["apprise_urls"]
        return page("portal/notif/channels.html", values={"apprise_urls": "\n".join(urls)}, errors={})
    values = {"apprise_urls": request.form.get("apprise_urls") or ""}
    urls = lines(values["apprise_urls"])
    errors = {"apprise_urls": t("notif.channels.too_many")} if len(urls) > 20 else {}
    if not errors:
        try:
            api().put(f"{N}/agency-settings", {"apprise_urls": urls})
        except ApiProblem as exc:
            if exc.status != 422:
                raise
            errors = beside(exc, {"apprise_urls"})
    if errors:
        return page("portal/notif/channels.html", 422, values=values, errors=errors)
    flash(t("notif.channels.saved", n=len(urls)), "ok")
    return redirect(url_for("hr.notif_channels"))


DELIVERY_FILTERS = {
    "status": ("queued", "sent", "failed", "deferred", "skipped"),
    "channel": ("inapp", "email", "apprise", "webhook"),
}


@bp.get("/notifikasi/pengiriman")
@login_required("hr")
def notif_deliveries():
    """The agency's delivery log (every channel), oldest first, filtered by status and channel."""
    chosen = {
        k: request.args.get(k) if request.args.get(k) in allowed else None for k, allowed in DELIVERY_FILTERS.items()
    }
    data = api().get(f"{N}/deliveries", limit=50, cursor=request.args.get("cursor"), **chosen)
    nxt = url_for("hr.notif_deliveries", cursor=data["next_cursor"], **chosen) if data.get("next_cursor") else None
    return page(
        "portal/notif/deliveries.html", items=data["items"], chosen=chosen, filters=DELIVERY_FILTERS, next_url=nxt
    )


# ------------------------------------------------------------------ webhook subscriptions


def _webhooks_page(values: dict, errors: dict, status: int = 200):
    data = api().get(f"{N}/webhooks", limit=50, cursor=request.args.get("cursor"))
    return page(
        "portal/notif/webhooks.html",
        status,
        items=data["items"],
        next_cursor=data.get("next_cursor"),
        values=values,
        errors=errors,
    )


@bp.route("/webhook", methods=["GET", "POST"])
@login_required("hr")
def webhooks():
    if request.method == "GET":
        return _webhooks_page({}, {})
    f = request.form
    values = {k: (f.get(k) or "").strip() for k in ("url", "event_types", "description")}
    patterns = [p.strip() for line in lines(values["event_types"]) for p in line.split(",") if p.strip()]
    errors = {}
    if not values["url"]:
        errors["url"] = t("form.required")
    if not patterns:
        errors["event_types"] = t("form.required")
    if errors:
        return _webhooks_page(values, errors, 422)
    body = {"url": values["url"], "event_types": patterns, "description": values["description"] or None}
    try:
        sub = api().post(f"{N}/webhooks", body, retry=False)
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        return _webhooks_page(values, beside(exc, set(body)), 422)
    session[SECRET_KEY] = {"id": sub["id"], "secret": sub["secret"]}
    flash(t("notif.webhooks.created"), "ok")
    return redirect(url_for("hr.webhook", subscription_id=sub["id"]))


@bp.get("/webhook/<int:subscription_id>")
@login_required("hr")
def webhook(subscription_id: int):
    sub, _ = get_own(f"{N}/webhooks/{subscription_id}")
    shown = session.get(SECRET_KEY)
    secret = None
    if isinstance(shown, dict) and shown.get("id") == subscription_id:
        secret = session.pop(SECRET_KEY)["secret"]  # once: gone from the session as it is shown
    deliveries = api().get(f"{N}/webhooks/{subscription_id}/deliveries", limit=20, cursor=request.args.get("cursor"))
    return page(
        "portal/notif/webhook.html",
        sub=sub,
        secret=secret,
        deliveries=deliveries["items"],
        next_cursor=deliveries.get("next_cursor"),
    )


@bp.post("/webhook/<int:subscription_id>/<any(nonaktifkan, aktifkan):action>")
@login_required("hr")
def webhook_toggle(subscription_id: int, action: str):
    active = action == "aktifkan"
    api().patch(f"{N}/webhooks/{subscription_id}", {"active": active})
    flash(t("notif.webhooks.enabled" if active else "notif.webhooks.disabled"), "ok")
    return redirect(url_for("hr.webhook", subscription_id=subscription_id))


@bp.post("/webhook/<int:subscription_id>/rahasia-baru")
@login_required("hr")
def webhook_rotate(subscription_id: int):
    out = api().post(f"{N}/webhooks/{subscription_id}/rotate-secret", retry=False)
    session[SECRET_KEY] = {"id": subscription_id, "secret": out["secret"]}
    flash(t("notif.webhooks.rotated"), "ok")
    return redirect(url_for("hr.webhook", subscription_id=subscription_id))


@bp.post("/webhook/<int:subscription_id>/hapus")
@login_required("hr")
def webhook_delete(subscription_id: int):
    if request.form.get("confirm") != "1":
        flash(t("notif.webhooks.delete_confirm_needed"), "error")
        return redirect(url_for("hr.webhook", subscription_id=subscription_id) + "#hapus")
    api().request("DELETE", f"{N}/webhooks/{subscription_id}")
    flash(t("notif.webhooks.deleted"), "ok")
    return redirect(url_for("hr.webhooks"))


@bp.post("/webhook/<int:subscription_id>/kirim-ulang/<int:delivery_id>")
@login_required("hr")
def webhook_redeliver(subscription_id: int, delivery_id: int):
    try:
        api().post(f"{N}/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver", retry=False)
    except ApiProblem as exc:
        if exc.status != 409:
            raise
        flash(exc.detail or t("error.generic.body"), "error")
    else:
        flash(t("notif.webhooks.redelivered"), "ok")
    return redirect(url_for("hr.webhook", subscription_id=subscription_id))


# The SIASN page (``hr.siasn``: the push, the file for a manual upload, the state per employee) is in
# ``pages_hr_siasn``.
