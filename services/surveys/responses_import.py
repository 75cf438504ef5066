"""The CSV import of paper questionnaires: the header and every row validated, then all of them
recorded through ``recording.record_responses`` or none (a 422 listing the errors per row;
``dry_run`` only reports). Its endpoint is in ``responses.py``."""

from __future__ import annotations

import csv
import io

from sqlalchemy.orm import Session

from services.common.auth import Principal
from services.common.errors import FieldError, Problem
from services.common.http import import_rejected
from services.common.usecase import validation

from . import domain
from .access import require_ingest
from .models import Campaign
from .recording import bare_field, record_responses, small_int
from .schemas import load_response

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


def _columns(header: list[str]) -> list[str]:
    """The header's column names, canonical (``U1``…, ``age``…); a missing, unknown or repeated
    column is a 422 naming it."""
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
    return canon


def _questionnaire(raw: dict) -> dict:
    """One row (canonical column → stripped text) as an API body: blank answers unanswered, ``L``/``P``
    and the like for sex, lower-case education and occupation."""
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
    return body


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
    canon = _columns(header)
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
            data, ferrs = load_response(_questionnaire(raw), allow_blank=True)
            for fe in ferrs:
                errors.append(
                    {
                        "row": line,
                        "field": bare_field(fe.field),
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
        raise import_rejected(errors, rows=total)
    try:
        ids = record_responses(
            s, c, items, channel="import", actor=p.sub, field_prefix=lambda i, f: f"rows[{lines[i]}].{bare_field(f)}"
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


def _row_of(field: str) -> int:
    try:
        return int(field.split("[", 1)[1].split("]", 1)[0])
    except (IndexError, ValueError):
        return 0
