"""The evaluation document as PDF (DOMAIN.md §6), laid out like the regulation's form
"Dokumen Evaluasi Kinerja Pegawai" (PermenPANRB 6/2022), one function per section: the title,
the parties, the organisation result and its distribution pattern, results per RHK/IKI with target,
realisation and feedback, the seven BerAKHLAK values, both ratings, the predikat, notes, the three
signatures and the annex of full texts. The footer carries the document version and the SHA-256
content hash that froze the signed version (or marks a draft).

``content`` is what ``document.document_content`` returns (or its stored JSON copy in
``EvaluationDocument.content``). Rendering is pure: no database, no app context. The page and
its layout helpers are in ``document_layout``, the words in ``document_text``."""

from __future__ import annotations

from datetime import datetime, timezone

from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from services.common.pdf import latin1

from .document_layout import BODY_PT, GREY_ROW, LINE_MM, MAX_CELL_LINES, Layout
from .document_text import (
    ASPECTS,
    BERAKHLAK_NAMES,
    LABELS,
    date_text,
    org_text,
    predikat_text,
    rating_text,
    realisation_text,
    rule_text,
    value_feedback_text,
)

__all__ = ["render_pdf", "latin1", "LABELS", "MAX_CELL_LINES"]


def title(doc: Layout) -> None:
    pdf, L, c = doc.pdf, doc.L, doc.c
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 7, L["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(
        0,
        5.5,
        doc.t(L["period"].format(period=(c.get("period") or "-").upper())),
        align="C",
        new_x=XPos.LMARGIN,
        new_y=YPos.NEXT,
    )
    pdf.set_font("Helvetica", "", 8.5)
    kind = L.get(f"kind.{c.get('kind')}", "")
    ref = L["doc_ref"].format(id=c.get("evaluation_id", "-"), version=doc.version)
    pdf.cell(0, 4.5, doc.t(f"{kind} - {ref}" if kind else ref), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)


def parties(doc: Layout) -> None:
    L = doc.L
    people = [doc.c.get("employee") or {}, doc.c.get("penilai") or {}, doc.c.get("atasan_penilai") or {}]
    widths = (30, 50, 50, 50)
    rows = [("name", "name"), ("nip", "nip"), ("grade", "grade"), ("position", "position"), ("unit", "unit")]
    doc.section(L["parties"], keep=60)
    with doc.table(widths) as table:
        head = table.row()
        for text in ("", L["employee"], L["penilai"], L["atasan"]):
            head.cell(text)
        for label, key in rows:
            row = table.row()
            row.cell(L[label], style=FontFace(emphasis="BOLD"))
            for p, w in zip(people, widths[1:]):
                row.cell(doc.clip(p.get(key) or "-", w, L["annex.party"].format(what=L[label]), 8))


def organisation(doc: Layout) -> None:
    L, c = doc.L, doc.c
    dist = c.get("distribution") or None
    org = c.get("org_result") or (dist or {}).get("org_result")
    doc.section(L["org_result"])
    doc.paragraph(org_text(org, doc.lang) or L["org_missing"], "B")
    doc.section(L["distribution"])
    if not dist:
        doc.paragraph(L["distribution_missing"])
        return
    rules = dist.get("rules") or []
    if not rules:
        doc.paragraph(L["distribution_none"])
    for rule in rules:
        doc.paragraph(f"-  {rule_text(rule, doc.lang, L)}")


def _rhk_blocks(doc: Layout, widths) -> list[tuple[str, list[list[str]]]]:
    """Per RHK: its title row, then its IKI rows (cells clipped to their column, long texts to the annex)."""
    L = doc.L
    blocks = []
    for n, rhk in enumerate(doc.c.get("rhk") or [], 1):
        kind = L.get(f"rhk.{rhk.get('kind')}", doc.t(rhk.get("kind") or "-"))
        heading = doc.clip(
            L["rhk"].format(n=n, kind=kind, text=doc.t(rhk.get("description") or "-")),
            sum(widths),
            L["annex.rhk"].format(n=n),
            8,
        )
        rows = []
        for m, iki in enumerate(rhk.get("iki") or [], 1):
            ref = f"{n}.{m}"
            aspect = ASPECTS.get(iki.get("aspect"), (iki.get("aspect"), iki.get("aspect")))
            target = iki.get("target") or "-"
            rows.append(
                [
                    ref,
                    doc.t(aspect[0 if doc.lang == "id" else 1] or "-"),
                    doc.clip(iki.get("indicator") or "-", widths[2], L["annex.iki"].format(n=ref)),
                    doc.clip(target, widths[3], L["annex.iki"].format(n=ref), 8),
                    doc.clip(
                        realisation_text(iki.get("realisation"), target, L),
                        widths[4],
                        L["annex.realisation"].format(n=ref),
                    ),
                    doc.clip(iki.get("feedback") or "-", widths[5], L["annex.feedback"].format(n=ref)),
                ]
            )
        blocks.append((heading, rows))
    return blocks


def results(doc: Layout) -> None:
    L = doc.L
    widths = (10, 17, 40, 21, 45, 47)
    heading = [L[k] for k in ("col.no", "col.aspect", "col.iki", "col.target", "col.realisation", "col.feedback")]
    heading_h = doc.row_height(heading, widths, "B")
    rhk_style = FontFace(emphasis="BOLD", fill_color=GREY_ROW)
    blocks = _rhk_blocks(doc, widths)  # each RHK a table of its own, so that its title never ends a page alone
    first_h = 0.0
    if blocks:
        first_h = doc.row_height([blocks[0][0]], [sum(widths)], "B")
        if blocks[0][1]:
            first_h += doc.row_height(blocks[0][1][0], widths)
    doc.section(L["results"], keep=heading_h + first_h)
    if not blocks:
        with doc.table(widths) as table:
            table.row(heading)
            table.row().cell(L["no_rhk"], colspan=6)
        return
    for index, (title, rows) in enumerate(blocks):
        keep = doc.row_height([title], [sum(widths)], "B") + (doc.row_height(rows[0], widths) if rows else 0)
        with_heading = doc.ensure(keep + heading_h) or index == 0
        with doc.table(widths, first_row_as_headings=with_heading, repeat_headings=1) as table:
            if with_heading:
                table.row(heading)
            table.row().cell(title, colspan=6, style=rhk_style)
            if not rows:
                table.row().cell(L["no_iki"], colspan=6)
            for cells in rows:
                table.row(cells)


def ratings_block(doc: Layout, key: str, label: str | None, extra: list[str] = ()) -> None:
    doc.section(doc.L[key])
    doc.paragraph(label or doc.L["not_rated"], "B")
    for line in extra:
        doc.paragraph(line)


def behaviour(doc: Layout) -> None:
    L = doc.L
    widths = (9, 41, 62, 68)
    heading = [L[k] for k in ("col.no", "col.value", "col.expectation", "col.feedback")]
    rows = []
    for n, item in enumerate(doc.c.get("behaviour") or [], 1):
        code = item.get("value")
        name = doc.t(BERAKHLAK_NAMES.get(code, (code, code))[0 if doc.lang == "id" else 1] or "-")
        rows.append(
            [
                str(n),
                name,
                doc.clip(item.get("expectation") or "-", widths[2], L["annex.expectation"].format(value=name)),
                doc.clip(
                    value_feedback_text(item.get("feedback"), doc.lang),
                    widths[3],
                    L["annex.value_feedback"].format(value=name),
                ),
            ]
        )
    keep = doc.row_height(heading, widths, "B") + (doc.row_height(rows[0], widths) if rows else 0)
    doc.section(L["behaviour"], keep=keep)
    with doc.table(widths, repeat_headings=1) as table:
        table.row(heading)
        for no, name, expectation, feedback in rows:
            row = table.row()
            row.cell(no)
            row.cell(name, style=FontFace(emphasis="BOLD"))
            row.cell(expectation)
            row.cell(feedback)


def notes(doc: Layout) -> None:
    L, c = doc.L, doc.c
    doc.section(L["notes_title"])
    for key in ("notes", "recommendations"):
        doc.paragraph(f"{L[key]}:", "B")
        doc.paragraph(c.get(key) or "-")
        doc.pdf.ln(1)


def _signature(
    doc: Layout, x: float, top: float, width: float, role: str, person: dict, when, acting: dict | None = None
) -> float:
    """One signature block in its column: the role, the date signed, room to sign, name and NIP; returns
    its bottom. An acting official (Plt/Plh) signs under "Plt. <the official's position>" with their
    own name and NIP."""
    pdf, L = doc.pdf, doc.L
    pdf.set_xy(x, top)
    pdf.set_font("Helvetica", "B", BODY_PT)
    pdf.multi_cell(width - 4, LINE_MM + 0.4, role, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    if acting:
        person = acting
        line = L["sig.acting"].format(
            kind=str(acting.get("kind") or "").capitalize(),
            position=acting.get("for_position") or acting.get("for_name") or acting.get("for_nip") or "",
        )
        pdf.set_font("Helvetica", "", BODY_PT)
        pdf.multi_cell(width - 4, LINE_MM + 0.4, doc.t(line), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "I" if not when else "", BODY_PT)
    status = L["signed_on"].format(date=date_text(when, doc.lang)) if when else L["unsigned"]
    pdf.multi_cell(width - 4, LINE_MM + 0.4, doc.t(status), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(13)
    pdf.set_x(x)
    pdf.set_font("Helvetica", "BU", BODY_PT)
    pdf.multi_cell(
        width - 4, LINE_MM + 0.4, doc.t(person.get("name") or "-"), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    pdf.set_font("Helvetica", "", BODY_PT)
    pdf.multi_cell(
        width - 4,
        LINE_MM + 0.4,
        doc.t(f"NIP {person.get('nip') or '-'}"),
        align="C",
        new_x=XPos.LEFT,
        new_y=YPos.NEXT,
    )
    return pdf.get_y()


def signatures_block(doc: Layout) -> None:
    pdf, L = doc.pdf, doc.L
    c, sig = doc.c, doc.signatures or {}
    doc.section(L["signatures"])
    if pdf.get_y() + 42 > pdf.page_break_trigger:
        pdf.add_page()
    acting = c.get("acting") or {}
    blocks = [
        ("sig.employee", c.get("employee") or {}, sig.get("employee"), None),
        ("sig.penilai", c.get("penilai") or {}, sig.get("penilai"), acting.get("penilai")),
        ("sig.atasan", c.get("atasan_penilai") or {}, sig.get("atasan_penilai"), acting.get("atasan_penilai")),
    ]
    width = pdf.epw / 3
    top = pdf.get_y()
    bottom = top
    for i, (role, person, when, stand_in) in enumerate(blocks):
        x = pdf.l_margin + i * width
        bottom = max(bottom, _signature(doc, x, top, width, L[role], person, when, stand_in))
    pdf.set_xy(pdf.l_margin, bottom + 2)


def continuous(doc: Layout) -> None:
    """The continuous feedback and coaching records of the period, each with its date, kind and
    what it was about (an RHK or a BerAKHLAK value). A version stored before the section existed
    has no such key and shows none."""
    L, items = doc.L, doc.c.get("continuous")
    if items is None:
        return
    doc.section(L["continuous"])
    if not items:
        doc.paragraph(L["continuous_none"])
        return
    for item in items:
        code = item.get("value")
        if code:
            about = L["continuous.value"].format(
                value=BERAKHLAK_NAMES.get(code, (code, code))[0 if doc.lang == "id" else 1]
            )
        else:
            about = L["continuous.rhk"].format(rhk=item.get("rhk") or "-")
        kind = L.get(f"continuous.{item.get('kind')}", item.get("kind") or "")
        when = date_text(item["date"], doc.lang) if item.get("date") else "-"
        doc.paragraph(f"{when} - {kind} - {about}", "B")
        doc.paragraph(item.get("text") or "-")
        doc.pdf.ln(1)


def annexes(doc: Layout) -> None:
    if not doc.annex:
        return
    doc.pdf.add_page()
    doc.section(doc.L["annex"])
    for n, (label, text) in enumerate(doc.annex, 1):
        doc.paragraph(f"[{n}] {label}", "B")
        doc.paragraph(text)
        doc.pdf.ln(2)


FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)  # a document with no time of its own (a bare draft)


def creation_date(content: dict, created_at) -> datetime:
    """The PDF's CreationDate, from the document itself rather than the clock, so the same version
    renders to the same bytes on every download (fpdf2 also derives the file /ID from it and the
    bytes): the time the version was stored, else its latest sign-off step, else a fixed date.
    A naive time (SQLite gives them back so) is UTC, never the host's zone."""
    when = created_at or max((v for v in (content.get("signatures") or {}).values() if v), default=None)
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            when = None
    if not isinstance(when, datetime):
        return FIXED_DATE
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)


def metadata(doc: Layout, created_at=None) -> None:
    """The PDF's title, author, subject (the content hash of a signed version), keywords naming the
    evaluation and version (how ``document_verify`` finds the stored version to compare against) and a
    creation date taken from the document, never the clock."""
    pdf, c, L = doc.pdf, doc.c, doc.L
    emp = c.get("employee") or {}
    pdf.set_title(doc.t(f"{L['title']} - {emp.get('name') or ''} - {c.get('period') or ''}"))
    pdf.set_author("Kinerja")
    pdf.set_creator("Kinerja reviews service")
    pdf.set_creation_date(creation_date(c, created_at))
    if doc.hash:
        pdf.set_subject(f"SHA-256 {doc.hash}")
        pdf.set_keywords(
            f"kinerja-evaluation={c.get('evaluation_id')} version={doc.version} lang={doc.lang} sha256={doc.hash}"
        )


def rating_hasil(doc: Layout) -> None:
    """The rating hasil kerja, with the system's suggestion and the reason when the penilai departed from it."""
    c, L = doc.c, doc.L
    extra = []
    suggested, hasil = c.get("suggested_hasil"), c.get("rating_hasil")
    if suggested and hasil and suggested != hasil:
        extra.append(L["suggested"].format(rating=doc.t(rating_text(suggested, doc.lang))))
        if c.get("deviation_reason"):
            extra.append(L["deviation"].format(reason=doc.t(c["deviation_reason"])))
    ratings_block(doc, "rating_hasil", rating_text(hasil, doc.lang), extra)


def render_pdf(
    content: dict,
    content_hash: str | None,
    version: int,
    lang: str = "id",
    *,
    signatures: dict | None = None,
    created_at: datetime | str | None = None,
) -> bytes:
    """The evaluation document ``content`` as PDF bytes, in Bahasa Indonesia (``lang="id"``,
    the default) or English (``"en"``). ``content_hash`` is the SHA-256 that froze this
    ``version``; None renders a draft (footer and watermark say so).

    ``signatures`` ({"penilai", "employee", "atasan_penilai"} → datetime or ISO string or
    None) overrides ``content["signatures"]``: a signed version's content is frozen when the
    penilai signs, so the employee's receipt and the countersignature that come later are
    passed here from the live evaluation. The service no longer does: each step appends a version
    whose content carries it, so the PDF shows only what its hash covers.

    The output is byte-stable: the same arguments give the same bytes. ``created_at`` (the stored
    version's time) becomes the PDF's CreationDate (see :func:`creation_date`)."""
    doc = Layout(content, content_hash, version, lang, signatures)
    metadata(doc, created_at)
    doc.pdf.add_page()
    title(doc)
    parties(doc)
    organisation(doc)
    results(doc)
    rating_hasil(doc)
    behaviour(doc)
    ratings_block(doc, "rating_perilaku", rating_text(doc.c.get("rating_perilaku"), doc.lang))
    ratings_block(doc, "predikat", predikat_text(doc.c.get("predikat"), doc.lang))
    notes(doc)
    continuous(doc)
    signatures_block(doc)
    annexes(doc)
    return bytes(doc.pdf.output())
