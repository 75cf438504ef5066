"""Grants across agencies for HR (issue 16), endpoints ``hr.akses*``: the machine clients of other
agencies this agency lets read its data — client, its agency, scope, expiry and state (active,
expired, revoked) — a form to grant one more, and revoking with a confirmation. Everything goes
through the plans API with the HR user's own token: the API checks each field (a read scope, an
expiry from today to two years ahead, another registered agency, no active grant alike) and its
refusals are shown beside the field; nothing is saved on a bad input."""

from __future__ import annotations

from flask import flash, redirect, request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import bp, to_date
from .web import P, form_errors, page, t, today

FIELDS = ("client_id", "client_agency", "scope", "expires_on", "note")
REQUIRED = ("client_id", "client_agency", "scope", "expires_on")
SCOPES = ("directory:read", "plans:read", "results:read", "surveys:read")


def _page(values: dict, errors: dict, status: int = 200):
    grants = list(reversed(api().all(f"{P}/grants")))  # newest first
    return page(
        "portal/hr/akses.html",
        status,
        grants=grants,
        values=values,
        errors=errors,
        scope_options=[(s, f"{s} — {t('akses.scope.' + s)}") for s in SCOPES],
        today=today().isoformat(),
    )


@bp.get("/akses")
@login_required("hr")
def akses():
    return _page({}, {})


@bp.post("/akses")
@login_required("hr")
def akses_create():
    f = request.form
    values = {k: (f.get(k) or "").strip() for k in FIELDS}
    errors = {k: t("form.required") for k in REQUIRED if not values[k]}
    if values["expires_on"] and to_date(values["expires_on"]) is None:
        errors["expires_on"] = t("form.date")
    if errors:
        return _page(values, errors, 422)
    body = {k: values[k] for k in REQUIRED} | {"note": values["note"] or None}
    try:
        g = api().post(f"{P}/grants", body, retry=False)
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        return _page(values, form_errors(exc, {k: k for k in FIELDS}), 422)
    flash(t("akses.created", client=g["client_id"], agency=g["client_agency"], scope=g["scope"]), "ok")
    return redirect(url_for("hr.akses") + f"#akses-{g['id']}")


@bp.post("/akses/<int:grant_id>/cabut")
@login_required("hr")
def akses_revoke(grant_id: int):
    if request.form.get("confirm") != "1":
        flash(t("akses.revoke_confirm_needed"), "error")
        return redirect(url_for("hr.akses") + f"#akses-{grant_id}")
    g = api().post(f"{P}/grants/{grant_id}/revoke", retry=False)
    flash(t("akses.revoked", client=g["client_id"], agency=g["client_agency"]), "ok")
    return redirect(url_for("hr.akses") + f"#akses-{grant_id}")
