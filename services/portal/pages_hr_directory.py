"""The agency's directory (HR): the units tree, the employees (search, filter by unit, pages; one
employee viewed and changed), the CSV import of units or employees (a dry run first, its errors
per row and column in a table, the file fixed in place, then imported for real; a template to
download) and acting officials (Plt/Plh: the list, an appointment with its period, ending one).

Everything goes through the plans API with the HR user's own token: the API checks each field
and each row, the pages only check what a form needs (required, a date) and show the API's
refusals beside the field, or per row and cell for an import."""

from __future__ import annotations

import csv
import io

from flask import Response, flash, redirect, request, url_for

from .auth import api, login_required
from .client import ApiProblem
from .pages_hr import bp, to_date, units_in_tree_order
from .web import P, form_errors, page, t, today

PAGE_SIZE = 25
EDIT_FIELDS = ("name", "email", "phone", "position", "grade", "unit_code", "superior_nip", "language")
REQUIRED = ("name", "position", "unit_code")
OPTIONAL = ("email", "phone", "grade", "superior_nip")  # an empty field clears the value
ACTING_FIELDS = ("acting_nip", "for_nip", "kind", "start_date", "end_date")
KINDS = ("units", "employees")
TEMPLATES = {  # the columns the API reads, and an example row
    "units": ("code,name,parent_code,head_nip", "SEK-C,Seksi Contoh,DINAS,"),
    "employees": (
        "nip,name,email,phone,position,grade,unit_code,superior_nip,language",
        "199609092021011010,Nama Pegawai,nama@instansi.go.id,081234567890,Analis,III/a,SEK-C,,id",
    ),
}
MAX_CSV = 5 * 1024 * 1024


def _units() -> list[dict]:
    return units_in_tree_order(api().all(f"{P}/units"))


def _unit_options(units: list[dict]) -> list[tuple[str, str]]:
    return [(u["code"], "\u2003" * u["depth"] + f"{u['code']} — {u['name']}") for u in units]


def _people_options(people: list[dict]) -> list[tuple[str, str]]:
    return [(e["nip"], f"{e['name']} — {e['nip']}") for e in sorted(people, key=lambda e: e["name"])]


# ------------------------------------------------------------------ units tree


@bp.get("/direktori")
@login_required("hr")
def directory():
    client = api()
    units = _units()
    people = client.all(f"{P}/employees")
    staff: dict[str, int] = {}
    for e in people:
        if e.get("active", True):
            staff[e["unit_code"]] = staff.get(e["unit_code"], 0) + 1
    names = {e["nip"]: e["name"] for e in people}
    return page("portal/hr/directory.html", units=units, staff=staff, names=names, total=sum(staff.values()))


# ------------------------------------------------------------------ employees


@bp.get("/direktori/pegawai")
@login_required("hr")
def employees():
    q = (request.args.get("q") or "").strip()[:100]
    unit = (request.args.get("unit") or "").strip()
    cursor = request.args.get("cursor") or None
    params = {"limit": PAGE_SIZE, "cursor": cursor, "q": q or None, "unit_code": unit or None}
    data = api().get(f"{P}/employees", **params)
    units = _units()
    return page(
        "portal/hr/employees.html",
        items=data["items"],
        next_cursor=data.get("next_cursor"),
        q=q,
        unit=unit,
        first=cursor is None,
        unit_options=_unit_options(units),
        unit_names={u["code"]: u["name"] for u in units},
    )


@bp.get("/direktori/pegawai/<nip>")
@login_required("hr")
def employee(nip: str):
    return _employee_page(nip, None, {}, 200)


def _employee_page(nip: str, values: dict | None, errors: dict, status: int, etag: str | None = None) -> Response:
    client = api()
    emp, current_etag = client.get_with_etag(f"{P}/employees/{nip}")
    people = [e for e in client.all(f"{P}/employees") if e["nip"] != nip]
    acting = (
        client.get(f"{P}/acting", for_nip=nip, limit=50)["items"]
        + client.get(f"{P}/acting", acting_nip=nip, limit=50)["items"]
    )
    names = {e["nip"]: e["name"] for e in people} | {nip: emp["name"]}
    return page(
        "portal/hr/employee.html",
        status,
        emp=emp,
        values=values if values is not None else {k: emp.get(k) or "" for k in EDIT_FIELDS} | {"active": emp["active"]},
        errors=errors,
        etag=etag or current_etag,
        unit_options=_unit_options(_units()),
        superior_options=_people_options(people),
        language_options=[("id", "Bahasa Indonesia"), ("en", "English")],
        superior_name=names.get(emp.get("superior_nip") or ""),
        acting=sorted(acting, key=lambda a: a["start_date"]),
        names=names,
    )


@bp.post("/direktori/pegawai/<nip>")
@login_required("hr")
def employee_save(nip: str):
    f = request.form
    values = {k: (f.get(k) or "").strip() for k in EDIT_FIELDS} | {"active": f.get("active") == "1"}
    errors = {k: t("form.required") for k in REQUIRED if not values[k]}
    if errors:
        return _employee_page(nip, values, errors, 422, etag=f.get("etag"))
    body = {k: values[k] for k in ("name", "position", "unit_code", "language") if values[k]}
    body |= {k: values[k] or None for k in OPTIONAL} | {"active": values["active"]}
    try:
        api().patch(f"{P}/employees/{nip}", body, f.get("etag") or None)
    except ApiProblem as exc:
        if exc.status == 412:  # changed by someone else since the page was opened: show theirs
            flash(t("hrdir.emp.conflict"), "error")
            return redirect(url_for("hr.employee", nip=nip))
        if exc.status != 422:
            raise
        return _employee_page(nip, values, form_errors(exc, {k: k for k in EDIT_FIELDS}), 422, etag=f.get("etag"))
    flash(t("hrdir.emp.saved", name=values["name"]), "ok")
    return redirect(url_for("hr.employee", nip=nip))


# ------------------------------------------------------------------ CSV import


@bp.get("/direktori/impor")
@login_required("hr")
def directory_import():
    kind = request.args.get("kind") if request.args.get("kind") in KINDS else "employees"
    return _import_page({"kind": kind, "csv_text": ""}, {}, None, 200)


@bp.get("/direktori/impor/templat-<any(units, employees):kind>.csv")
@login_required("hr")
def import_template(kind: str):
    header, example = TEMPLATES[kind]
    return Response(
        "\ufeff" + header + "\r\n" + example + "\r\n",
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="templat-{kind}.csv"'},
    )


def _cells(text: str) -> dict[tuple[int, str], str]:
    """The file's cells by (row number as the API counts it, column), to show beside each error."""
    out: dict[tuple[int, str], str] = {}
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    for line, raw in enumerate(reader, start=2):
        for k, v in raw.items():
            if k:
                out[(line, k.strip())] = (v or "").strip() if isinstance(v, str) else ""
    return out


def _import_page(values: dict, errors: dict, result: dict | None, status: int) -> Response:
    return page(
        "portal/hr/import.html",
        status,
        values=values,
        errors=errors,
        result=result,
        kind_options=[(k, t(f"hrdir.import.kind.{k}")) for k in KINDS],
        columns=TEMPLATES[values.get("kind") if values.get("kind") in KINDS else "employees"][0].split(","),
    )


@bp.post("/direktori/impor")
@login_required("hr")
def directory_import_run():
    """``action=check``: a dry run, its errors per row and cell; ``action=import``: for real (all
    rows or none). The file's text comes back in the page's text area, to be fixed and sent again."""
    f = request.form
    kind = f.get("kind") or ""
    action = "import" if f.get("action") == "import" else "check"
    text, errors = (f.get("csv_text") or "").replace("\r\n", "\n"), {}
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        raw = upload.read(MAX_CSV + 1)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            errors["file"] = t("hrdir.import.encoding")
        if len(raw) > MAX_CSV:
            errors["file"] = t("hrdir.import.too_large", mb=MAX_CSV // (1024 * 1024))
    values = {"kind": kind, "csv_text": text.lstrip("\ufeff")}
    if kind not in KINDS:
        errors["kind"] = t("form.required")
    if not text.strip() and "file" not in errors:
        errors["file"] = t("hrdir.import.no_file")
    if errors:
        return _import_page(values, errors, None, 422)
    try:
        report = api().post(
            f"{P}/directory/import",
            params={"kind": kind, "dry_run": "true" if action == "check" else "false"},
            content=text.encode("utf-8"),
            headers={"Content-Type": "text/csv"},
            retry=False,
        )
    except ApiProblem as exc:
        if exc.status not in (413, 415, 422):
            raise
        rows = _rejected_rows(exc)
        if rows is None:  # the header (missing or unknown columns) or the file itself
            msgs = [e.get("detail") or e.get("code") for e in exc.errors] or [exc.detail]
            return _import_page(values, {"file": " ".join(m for m in msgs if m)}, None, 422)
        result = {"dry_run": False, "rows": exc.body.get("rows"), "errors": rows}
        return _import_page(values, {}, _with_cells(result, text), 422)
    if report["errors"]:
        return _import_page(values, {}, _with_cells(report, text), 422)
    if action == "import":
        flash(
            t("hrdir.import.done", created=report["created"], updated=report["updated"], unchanged=report["unchanged"]),
            "ok",
        )
        return redirect(url_for("hr.directory" if kind == "units" else "hr.employees"))
    return _import_page(values, {}, _with_cells(report, text), 200)


def _rejected_rows(exc: ApiProblem) -> list[dict] | None:
    """A refused real import's errors (``rows[<n>].<column>``) as the dry run words them, or None
    when the refusal is not about rows."""
    if exc.code != "import.rejected":
        return None
    out = []
    for e in exc.errors:
        name = e.get("field") or ""
        head, _, column = name.partition("].")
        if not head.startswith("rows["):
            continue
        try:
            row = int(head[5:])
        except ValueError:
            continue
        out.append({"row": row, "field": column, "code": e.get("code"), "detail": e.get("detail")})
    return out


def _with_cells(report: dict, text: str) -> dict:
    cells = _cells(text)
    header = [h.strip() for h in text.lstrip("\ufeff").split("\n", 1)[0].split(",")]
    errors = [e | {"value": cells.get((e["row"], e["field"]), "")} for e in report["errors"]]
    # by row, then in the file's column order: the table reads like the file
    errors.sort(key=lambda e: (e["row"], header.index(e["field"]) if e["field"] in header else len(header)))
    return report | {"errors": errors, "bad_rows": len({e["row"] for e in errors})}


# ------------------------------------------------------------------ acting officials (Plt/Plh)


@bp.get("/direktori/plt")
@login_required("hr")
def acting():
    return _acting_page({}, {}, 200)


def _acting_page(values: dict, errors: dict, status: int) -> Response:
    client = api()
    show_all = request.args.get("semua") == "1"
    items = client.all(f"{P}/acting", current=None if show_all else "true")
    people = client.all(f"{P}/employees")
    names = {e["nip"]: e["name"] for e in people}
    now = today().isoformat()
    rows = [a | {"running": a["start_date"] <= now <= a["end_date"]} for a in reversed(items)]
    return page(
        "portal/hr/acting.html",
        status,
        rows=rows,
        names=names,
        show_all=show_all,
        values=values,
        errors=errors,
        people_options=_people_options([e for e in people if e.get("active", True)]),
        kind_options=[("plt", t("hrdir.acting.kind.plt")), ("plh", t("hrdir.acting.kind.plh"))],
        today=now,
    )


@bp.post("/direktori/plt")
@login_required("hr")
def acting_create():
    f = request.form
    values = {k: (f.get(k) or "").strip() for k in ACTING_FIELDS}
    errors = {k: t("form.required") for k in ACTING_FIELDS if not values[k]}
    for k in ("start_date", "end_date"):
        if values[k] and to_date(values[k]) is None:
            errors[k] = t("form.date")
    if values["acting_nip"] and values["acting_nip"] == values["for_nip"]:
        errors["acting_nip"] = t("hrdir.acting.self")
    if not errors and to_date(values["end_date"]) < to_date(values["start_date"]):
        errors["end_date"] = t("hrdir.acting.end_before_start")
    if errors:
        return _acting_page(values, errors, 422)
    try:
        api().post(f"{P}/acting", values)
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        return _acting_page(values, form_errors(exc, {k: k for k in ACTING_FIELDS}), 422)
    names = {e["nip"]: e["name"] for e in api().all(f"{P}/employees")}
    flash(
        t(
            "hrdir.acting.created",
            kind=t(f"hrdir.acting.kind.{values['kind']}"),
            acting=names.get(values["acting_nip"], values["acting_nip"]),
            for_=names.get(values["for_nip"], values["for_nip"]),
        ),
        "ok",
    )
    return redirect(url_for("hr.acting"))


@bp.post("/direktori/plt/<int:acting_id>/akhiri")
@login_required("hr")
def acting_end(acting_id: int):
    raw = (request.form.get("end_date") or "").strip()
    end = to_date(raw) if raw else today()
    if end is None:
        flash(t("form.date"), "error")
        return redirect(url_for("hr.acting") + f"#plt-{acting_id}")
    try:
        a = api().post(f"{P}/acting/{acting_id}/end", {"end_date": end.isoformat()})
    except ApiProblem as exc:
        if exc.status != 422:
            raise
        flash(form_errors(exc).get("end_date") or exc.detail or t("error.generic.body"), "error")
        return redirect(url_for("hr.acting") + f"#plt-{acting_id}")
    flash(t("hrdir.acting.ended", end=a["end_date"]), "ok")
    return redirect(url_for("hr.acting", semua=1) + f"#plt-{acting_id}")
