"""Public satisfaction surveys (HR): the agency's campaigns with their IKM so far and public link,
creating a campaign, opening and closing one, its QR code and its report (HTML or PDF)."""

from __future__ import annotations

from flask import Response, flash, g, redirect, request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import bp, to_date, to_int, units_in_tree_order
from .web import P, S, form_errors, page, settings, t

CAMPAIGN_FIELDS = ("unit_code", "service_type", "title", "start_date", "end_date", "population")


def _in_process() -> bool:
    """The services are called in-process (embedded): their host is not the browser's."""
    return settings().api_url is None


def public_link(c: dict) -> str:
    return c.get("public_path") if _in_process() else (c.get("public_url") or c.get("public_path"))


@bp.get("/survei")
@login_required("hr")
def surveys():
    return _surveys_page({}, {}, 200)


def _surveys_page(values: dict, errors: dict, status: int, follow_up: dict | None = None) -> Response:
    client = api()
    campaigns = client.all(f"{S}/campaigns")
    rows = []
    for c in reversed(campaigns):
        try:
            ikm = client.get(f"{S}/campaigns/{c['id']}/ikm")
        except ApiProblem as exc:
            if exc.status < 500:
                raise
            ikm = {}
        rows.append({"c": c, "ikm": ikm or {}, "link": public_link(c)})
    units = units_in_tree_order(client.all(f"{P}/units"))
    return page(
        "portal/hr/surveys.html",
        status,
        rows=rows,
        values=values,
        errors=errors,
        unit_options=[(u["code"], f"{u['code']} — {u['name']}") for u in units],
        follow_up=follow_up or {},  # a refused follow-up: its campaign, text and error, shown beside the field
    )


@bp.post("/survei")
@login_required("hr")
def survey_create():
    f = request.form
    values = {k: (f.get(k) or "").strip() for k in CAMPAIGN_FIELDS}
    errors: dict[str, str] = {}
    for k in ("unit_code", "service_type", "start_date", "end_date", "population"):
        if not values[k]:
            errors[k] = t("form.required")
    dates = {}
    for k in ("start_date", "end_date"):
        if values[k]:
            dates[k] = to_date(values[k])
            if dates[k] is None:
                errors[k] = t("form.date")
    population = to_int(values["population"])
    if values["population"] and (population is None):
        errors["population"] = t("form.number")
    if errors:
        return _surveys_page(values, errors, 422)
    units = {u["code"]: u for u in api().all(f"{P}/units")}
    body = {
        "unit_code": values["unit_code"],
        "service_type": values["service_type"],
        "start_date": dates["start_date"].isoformat(),
        "end_date": dates["end_date"].isoformat(),
        "population": population,
    }
    if values["unit_code"] in units:
        body["unit_name"] = units[values["unit_code"]]["name"]
    if values["title"]:
        body["title"] = values["title"]
    try:
        c = api().post(f"{S}/campaigns", body)
    except ApiProblem as exc:
        if exc.status not in (409, 422):
            raise
        return _surveys_page(values, form_errors(exc, {k: k for k in CAMPAIGN_FIELDS}), 422)
    flash(t("hr.survey.created", title=c.get("title") or c["service_type"]), "ok")
    return redirect(url_for("hr.surveys") + f"#kampanye-{c['id']}")


@bp.post("/survei/<int:campaign_id>/<any(buka, tutup):action>")
@login_required("hr")
def survey_action(campaign_id: int, action: str):
    verb = "open" if action == "buka" else "close"
    try:
        c = api().post(f"{S}/campaigns/{campaign_id}/{verb}")
    except ApiProblem as exc:
        if exc.status != 409:
            raise
        flash(exc.detail or t("error.generic.body"), "error")
        return redirect(url_for("hr.surveys") + f"#kampanye-{campaign_id}")
    flash(
        t(
            "hr.survey.opened" if verb == "open" else "hr.survey.closed_flash",
            title=c.get("title") or c["service_type"],
        ),
        "ok",
    )
    return redirect(url_for("hr.surveys") + f"#kampanye-{campaign_id}")


FOLLOW_UP_MAX = 4000  # as the surveys API allows


@bp.post("/survei/<int:campaign_id>/tindak-lanjut")
@login_required("hr")
def survey_follow_up(campaign_id: int):
    """The unit's follow-up of a campaign's results (rencana tindak lanjut), published beside them on
    the public results page; kept even after the campaign is closed."""
    text = (request.form.get("follow_up") or "").strip()
    if len(text) > FOLLOW_UP_MAX:
        error = t("hr.survey.follow_up_too_long", n=FOLLOW_UP_MAX)
        return _surveys_page({}, {}, 422, {"id": campaign_id, "value": text, "error": error})
    try:
        _, etag = api().get_with_etag(f"{S}/campaigns/{campaign_id}")
        api().patch(f"{S}/campaigns/{campaign_id}", {"follow_up": text or None}, etag)
    except ApiProblem as exc:
        if exc.status not in (409, 412, 422):
            raise
        error = form_errors(exc, {"follow_up": "follow_up"}).get("follow_up") or exc.detail or t("error.generic.body")
        return _surveys_page({}, {}, 422, {"id": campaign_id, "value": text, "error": error})
    flash(t("hr.survey.follow_up_saved"), "ok")
    return redirect(url_for("hr.surveys") + f"#kampanye-{campaign_id}")


@bp.get("/survei/<int:campaign_id>/qr.<any(svg, png):fmt>")
@login_required("hr")
def survey_qr(campaign_id: int, fmt: str):
    """The campaign's QR code (the public form's link), fetched with the HR token; in embedded mode
    the surveys service is told the browser's host, so the code points where the browser can go."""
    headers = {"Host": request.host} if _in_process() else None
    resp = api().request("GET", f"{S}/campaigns/{campaign_id}/qr", params={"format": fmt}, headers=headers)
    return Response(
        resp.content,
        mimetype="image/svg+xml" if fmt == "svg" else "image/png",
        headers={"Cache-Control": "private, max-age=300"},
    )


@bp.get("/survei/<int:campaign_id>/laporan.<any(html, pdf):fmt>")
@login_required("hr")
def survey_report(campaign_id: int, fmt: str):
    resp = api().request("GET", f"{S}/campaigns/{campaign_id}/report.{fmt}", params={"lang": g.get("lang", "id")})
    if fmt == "pdf":
        return Response(
            resp.content,
            mimetype="application/pdf",
            headers={"Content-Disposition": resp.headers.get("Content-Disposition", "inline")},
        )
    # the report is a self-contained page (its own stylesheet, an inline SVG chart, no scripts)
    return Response(
        resp.content,
        mimetype="text/html",
        headers={
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        },
    )
