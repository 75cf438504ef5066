"""The HR cycle report, built only from the HTTP APIs (plans, reviews, surveys).

``build_report(client, cycle_id, out_dir, pdf=True, documents=N)`` gathers the cycle, the
directory, the SKP plans, the evaluations of every period and the annual one, calibration
against the curve, the surveys' index (IKM) per unit and unsur, objections and follow-up, then
writes ``out_dir/report.html`` (self-contained: inline CSS and SVG charts, no JavaScript),
``out_dir/report.pdf`` (fpdf2, charts drawn with its primitives) and the first ``N`` evaluation
documents into ``out_dir/documents/``. It returns the paths.

``gather_overview`` is the part ``kinerja hr cycle status`` prints as tables.
Texts are in Bahasa Indonesia with English in parentheses.

The modules: ``gather`` (the APIs into one plain dict), ``vocabulary`` (statuses and labels),
``tables`` (the figures and rows both renderings show), ``html`` (+ ``svg``, and
``templates/report.html``), ``pdf`` (+ ``pdf_kit``, ``pdf_charts``). The renderers import
Jinja2 and fpdf2 (about half a second): they load on first use, not for ``cycle status``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..http import Client
from .gather import (
    P,
    Progress,
    R,
    S,
    build_data,
    gather_objections,
    gather_overview,
    gather_surveys,
    no_progress,
    save_documents,
    units_in_tree_order,
)
from .tables import (
    calibration_seq,
    completion,
    followup_rows,
    objection_rows,
    period_rows,
    staff_of,
    summary_figures,
)
from .vocabulary import (
    EVAL_RATED,
    EVAL_STATUSES,
    IKM_BANDS,
    LABELS,
    ORG_RESULTS,
    PLAN_STATUSES,
    PREDIKAT_SHORT,
    STATUS_COLOURS,
    UNSUR,
    UNSUR_LABELS,
    bi,
    label_id,
    period_name,
    state_text,
    violation_text,
)

__all__ = [
    "P",
    "R",
    "S",
    "PLAN_STATUSES",
    "EVAL_STATUSES",
    "EVAL_RATED",
    "UNSUR",
    "LABELS",
    "PREDIKAT_SHORT",
    "UNSUR_LABELS",
    "ORG_RESULTS",
    "IKM_BANDS",
    "STATUS_COLOURS",
    "Progress",
    "bi",
    "label_id",
    "state_text",
    "period_name",
    "violation_text",
    "units_in_tree_order",
    "gather_overview",
    "gather_surveys",
    "gather_objections",
    "build_data",
    "save_documents",
    "staff_of",
    "period_rows",
    "completion",
    "calibration_seq",
    "summary_figures",
    "followup_rows",
    "objection_rows",
    "render_html",
    "render_pdf",
    "build_report",
]

_LAZY = {"render_html": "html", "render_pdf": "pdf", "svg_stacked": "svg", "svg_band": "svg", "svg_ikm": "svg"}


def __getattr__(name: str) -> Any:
    """The renderers (and the SVG charts), imported on first use."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def build_report(
    client: Client,
    cycle_id: int,
    out_dir: Path | str,
    pdf: bool = True,
    documents: int = 0,
    progress: Progress | None = None,
) -> dict:
    """Gather everything through the APIs and write the report; returns
    ``{"html": Path, "pdf": Path | None, "documents": [Path, ...]}``."""
    from .html import render_html
    from .pdf import render_pdf

    progress = progress or no_progress
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    data = build_data(client, cycle_id, progress)
    docs = save_documents(client, data, out_dir, documents, progress)
    data["documents"] = [p.relative_to(out_dir).as_posix() for p in docs]
    html_path = out_dir / "report.html"
    html_path.write_text(render_html(data), encoding="utf-8")
    pdf_path = None
    if pdf:
        pdf_path = out_dir / "report.pdf"
        pdf_path.write_bytes(render_pdf(data))
    return {"html": html_path, "pdf": pdf_path, "documents": docs}
