"""The published results (PermenPANRB 14/2017: every unit publishes its survey's result and its
follow-up): server-rendered pages anyone may read, no login, no JavaScript, phone first.

``/surveys/results/<agency>`` lists the agency's published campaigns; ``/surveys/results/<agency>/<id>``
shows one: the IKM and its mutu, the NRR of each unsur, respondents against the minimum sample, the
improvement priority and the unit's follow-up. A campaign is published when HR closes it: its index is
then final (``surveys.ikm.computed`` with ``final``), and the regulation requires publishing it — no
separate step that could be forgotten. A draft or open campaign, or another agency's, is a 404.

What a respondent wrote or who they are is never on these pages: no suggestions (free text can name
people; the regulation asks for the index and the follow-up, not the comments), no profile, no time of
a response — only aggregates of the nine answers and the count."""

from __future__ import annotations

from flask import Blueprint, g, url_for
from sqlalchemy import select

from services.common.usecase import platform

from . import domain
from .index import _aggregate_columns, _result_of
from .models import Campaign, Response
from .report import fmt_date, fmt_number
from .web import _page, _t

RESULTS_PREFIX = "/surveys/results/"
LIST_LIMIT = 200  # the latest published campaigns of an agency on its list
# below this many respondents the averages would be one or two people's own answers: the page gives the
# count, not the figures (an aggregate of one respondent is that respondent's questionnaire)
MIN_PUBLISHED_RESPONDENTS = 5

results = Blueprint("surveys_results", __name__, url_prefix="/surveys/results", template_folder="templates")


def _published(s, agency: str):
    return select(Campaign).where(Campaign.agency_code == agency, Campaign.status == "closed")


def _not_found():
    return _page("surveys/message.html", 404, title=_t("results.not_found_title"), body=_t("results.not_found"))


def _publishable(result: domain.IkmResult) -> domain.IkmResult:
    """The index as it may be published: none from fewer than ``MIN_PUBLISHED_RESPONDENTS``."""
    if result.respondents >= MIN_PUBLISHED_RESPONDENTS:
        return result
    return domain.compute_index(result.respondents, {}, {})


def _summary(c: Campaign, result: domain.IkmResult) -> dict:
    band = result.band
    lang = g.lang
    return {
        "c": c,
        "url": url_for("surveys_results.campaign", agency=c.agency_code, campaign_id=c.id, lang=lang),
        "period": _t("form.period", start=fmt_date(c.start_date, lang), end=fmt_date(c.end_date, lang)),
        "ikm_unit": None if result.ikm is None else fmt_number(result.ikm_unit, 2, lang),
        "mutu": band.mutu if band else None,
        "kinerja": _t(f"kinerja.{band.mutu}") if band else None,
    }


def _valid_agency(agency: str) -> bool:
    return 0 < len(agency) <= 40 and agency.replace("-", "").replace("_", "").replace(".", "").isalnum()


@results.get("/<agency>")
def agency_list(agency: str):
    """The agency's published campaigns, newest period first (an agency with none: an empty list)."""
    if not _valid_agency(agency):
        return _not_found()
    with platform().uow() as s:
        campaigns = list(
            s.scalars(_published(s, agency).order_by(Campaign.end_date.desc(), Campaign.id.desc()).limit(LIST_LIMIT))
        )
        rows = s.execute(
            select(Response.campaign_id, *_aggregate_columns())
            .where(Response.campaign_id.in_([c.id for c in campaigns] or [0]))
            .group_by(Response.campaign_id)
        ).all()
        by_id = {r.campaign_id: _publishable(_result_of(r)) for r in rows}
        empty = domain.compute_index(0, {}, {})
        items = [_summary(c, by_id.get(c.id, empty)) for c in campaigns]
    return _page(
        "surveys/results_list.html",
        200,
        agency=agency,
        items=items,
        title=_t("results.list_title", agency=agency),
    )


@results.get("/<agency>/<int:campaign_id>")
def campaign(agency: str, campaign_id: int):
    """One published campaign's results; anything not published (or not this agency's) is a 404."""
    if not _valid_agency(agency):
        return _not_found()
    with platform().uow() as s:
        c = s.get(Campaign, campaign_id)
        if c is None or c.agency_code != agency or c.status != "closed":
            return _not_found()
        row = s.execute(select(*_aggregate_columns()).where(Response.campaign_id == c.id)).one()
        result = _publishable(_result_of(row))
    lang = g.lang
    nrr = result.nrr_rounded()
    priority = domain.weakest(result)
    n = c.respondents or 0
    unsur = [
        {
            "code": u,
            "name": _t(f"unsur.{u}"),
            "nrr": fmt_number(nrr[u], 2, lang) if nrr[u] is not None else None,
            "nrr4": fmt_number(nrr[u], 4, lang) if nrr[u] is not None else None,
            "width": 0 if nrr[u] is None else round(float(nrr[u]) / 4 * 100, 1),
            "priority": u in priority,
        }
        for u in domain.UNSUR
    ]
    return _page(
        "surveys/results.html",
        200,
        s=_summary(c, result),
        c=c,
        ikm=None if result.ikm is None else fmt_number(result.ikm_rounded, 4, lang),
        unsur=unsur,
        priority=[f"{u} {_t('unsur.' + u)}" for u in priority],
        respondents=n,
        sample_reached=n >= c.min_sample,
        missing=max(0, c.min_sample - n),
        method=_t(f"method.{c.sample_method}"),
        too_few=0 < n < MIN_PUBLISHED_RESPONDENTS,
        list_url=url_for("surveys_results.agency_list", agency=c.agency_code, lang=lang),
        title=c.title or _t("results.title"),
    )
