"""Checking an evaluation PDF (``/evaluasi/verifikasi``): anyone signed in uploads a PDF they were
handed (or downloaded) and sees whether it is exactly one of the stored versions of an evaluation
document — which evaluation, which version, which step of the sign-off chain made it, each
signature's time, and whether a later version supersedes it — or that it was altered, or is not a
document the reviews service knows. The reviews API decides (``POST …/evaluations/documents:verify``
with the user's token): this page only validates the upload and words the verdict."""

from __future__ import annotations

from flask import request

from .auth import api, login_required
from .client import ApiProblem
from .pages_evaluations import bp
from .web import R, local_time, page, t

MAX_BYTES = 10 * 1024 * 1024  # below the portal's request limit; the service enforces its own


@bp.app_template_filter("verify_time")
def verify_time(value) -> str:
    """An API timestamp as date and time in the agency's zone, ``YYYY-MM-DD HH:MM``."""
    at = local_time(value) if value else None
    return at.strftime("%Y-%m-%d %H:%M") if at else "—"


@bp.route("/evaluasi/verifikasi", methods=["GET", "POST"])
@login_required()
def verify():
    if request.method == "GET":
        return page("portal/evaluations/verify.html", errors={}, result=None)
    upload = request.files.get("file")
    errors: dict[str, str] = {}
    data = b""
    if upload is None or not upload.filename:
        errors["file"] = t("verify.error.required")
    else:
        data = upload.stream.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            errors["file"] = t("verify.error.too_large", mb=MAX_BYTES // (1024 * 1024))
        elif not data.startswith(b"%PDF-"):
            errors["file"] = t("verify.error.not_pdf")
    if errors:
        return page("portal/evaluations/verify.html", 422, errors=errors, result=None)
    try:
        resp = api().request(
            "POST",
            f"{R}/evaluations/documents:verify",
            files={"file": (upload.filename, data, "application/pdf")},
        )
    except ApiProblem as exc:
        if exc.status not in (413, 422):
            raise
        return page(
            "portal/evaluations/verify.html", 422, errors={"file": exc.detail or t("verify.error.not_pdf")}, result=None
        )
    return page("portal/evaluations/verify.html", errors={}, result=resp.json(), filename=upload.filename)
