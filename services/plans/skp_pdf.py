"""The SKP as PDF, laid out like the form offices print for wet signatures (PermenPANRB 6/2022,
DOMAIN.md §3): the header (agency, period, approach), the employee and the pejabat penilai side by
side, the matrix of results — each RHK beside the superior's RHK it intervenes (the cascade) and its
IKI with their targets, utama before tambahan — the seven BerAKHLAK values with the ekspektasi khusus
pimpinan, the signatures of both parties, and the lampiran (resources, accountability scheme,
consequences). An SKP that is not approved carries a DRAF watermark and unsigned blocks.

Rendering is pure: ``content`` is what ``skp_print.skp_content`` gathers, ``labels`` the words in
the asked language (the ``skp_pdf.*`` keys of the service's catalogue). No database, no clock: the
PDF's creation date is passed in (the approval time), so one plan version always gives the same bytes.
Texts go through :func:`~services.common.pdf.latin1` (fpdf2's core fonts know latin-1 only); a cell
longer than :data:`MAX_CELL_LINES` lines is cut and its full text moved to the end (a table row
cannot span pages)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from services.common.i18n import long_date
from services.common.pdf import A4Page, latin1

MAX_CELL_LINES = 24
BODY_PT = 8.0
LINE_MM = 3.6
PAD_MM = 1.2
HEAD_FILL = (225, 230, 238)
ROW_FILL = (244, 246, 249)
JAKARTA = ZoneInfo("Asia/Jakarta")
FIXED_DATE = datetime(2000, 1, 1, tzinfo=timezone.utc)  # a plan with no time of its own


class _Doc:
    """One SKP being drawn: the content, the labels, the pdf and the texts moved to the end."""

    def __init__(self, content: dict, labels: dict, lang: str):
        self.c, self.lang = content, lang
        self.L = {k: latin1(v) for k, v in labels.items()}
        self.approved = bool(content.get("approved_at"))
        self.overflow: list[tuple[str, str]] = []
        emp = content.get("employee") or {}
        self.pdf = A4Page(
            header_text=latin1(f"{self.L['title']} - {emp.get('name') or '-'} (NIP {emp.get('nip') or '-'})"),
            footer_text=latin1(
                self.L["footer.approved"].format(plan=content.get("plan_id"), revision=content.get("revision"))
                if self.approved
                else self.L["footer.draft"].format(plan=content.get("plan_id"))
            ),
            page_label=self.L["page"],
            draft_mark=None if self.approved else self.L["draft_mark"],
            watermark_grey=235,
        )
        self.pdf.alias_nb_pages()

    def font(self, style: str = "", size: float = BODY_PT) -> None:
        self.pdf.set_font("Helvetica", style, size)

    def ensure(self, height: float) -> bool:
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()
            return True
        return False

    def section(self, title: str, keep: float = 14.0) -> None:
        """A section title kept with ``keep`` mm of what follows."""
        self.ensure(11 + keep)
        self.pdf.ln(3)
        self.font("B", 9.5)
        self.pdf.set_fill_color(*HEAD_FILL)
        self.pdf.cell(0, 6, latin1(title), fill=True, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.set_fill_color(0)
        self.pdf.ln(1.5)
        self.font()

    def paragraph(self, text: str, style: str = "") -> None:
        self.font(style)
        self.pdf.multi_cell(0, LINE_MM + 0.4, latin1(text) or "-", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def lines(self, text: str, width_mm: float, style: str = "") -> list[str]:
        self.font(style)
        out = self.pdf.multi_cell(w=width_mm - 2 * PAD_MM - 0.5, text=text or " ", dry_run=True, output="LINES")
        self.font()
        return out

    def clip(self, text, width_mm: float, label: str) -> str:
        """``text`` for a cell ``width_mm`` wide; beyond :data:`MAX_CELL_LINES` lines the rest goes to the end."""
        text = latin1(text)
        lines = self.lines(text, width_mm) if text else []
        if len(lines) <= MAX_CELL_LINES:
            return text
        self.overflow.append((label, text))
        return "\n".join(lines[: MAX_CELL_LINES - 1]) + f" ... [{self.L['see_full']} {len(self.overflow)}]"

    def row_height(self, cells, widths, style: str = "") -> float:
        n = max((len(self.lines(latin1(t), w, style)) for t, w in zip(cells, widths)), default=1)
        return n * LINE_MM + 2 * PAD_MM

    def table(self, widths, **kw):
        self.font()
        return self.pdf.table(
            col_widths=tuple(w / sum(widths) for w in widths),
            width=self.pdf.epw,
            text_align="LEFT",
            v_align="TOP",
            line_height=LINE_MM,
            padding=PAD_MM,
            headings_style=FontFace(emphasis="BOLD", fill_color=HEAD_FILL),
            **kw,
        )


def _date(value, lang: str) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value or " " in value else date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo:  # the day as the office lives it (WIB), not UTC's
        value = value.astimezone(JAKARTA)
    return long_date(value, lang) if isinstance(value, (date, datetime)) else "-"


def number(value: float, lang: str) -> str:
    """12.0 → ``12``, 90.5 → ``90,5`` (Indonesian) or ``90.5``."""
    text = f"{value:.4f}".rstrip("0").rstrip(".") if value == value else "-"
    return text.replace(".", ",") if lang == "id" else text


def target_text(iki: dict, lang: str) -> str:
    """The IKI's target as the form writes it: value and unit ("12 laporan"), or the narrative target."""
    if iki.get("target_value") is not None:
        return f"{number(float(iki['target_value']), lang)} {iki.get('target_unit') or ''}".strip()
    return iki.get("target_text") or "-"


# ------------------------------------------------------------------ sections


def _title(doc: _Doc) -> None:
    c, L, pdf = doc.c, doc.L, doc.pdf
    agency = c.get("agency") or {}
    doc.font("B", 11)
    pdf.cell(0, 6, latin1((agency.get("name") or agency.get("code") or "").upper()), align="C")
    pdf.ln(6)
    doc.font("B", 13)
    pdf.cell(0, 7, L["title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.font("B", 9.5)
    approach = L.get(f"approach.{c.get('approach')}", latin1(c.get("approach") or "-"))
    pdf.cell(0, 5, L["approach"].format(approach=approach).upper(), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    cycle = c.get("cycle") or {}
    period = L["period"].format(
        start=_date(cycle.get("start"), doc.lang).upper(),
        end=_date(cycle.get("end"), doc.lang).upper(),
        year=cycle.get("year") or "-",
    )
    pdf.cell(0, 5, latin1(period), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.font("", 8)
    status = L["ref.approved"] if doc.approved else L["ref.draft"]
    ref = status.format(plan=c.get("plan_id"), revision=c.get("revision"), cycle=latin1(cycle.get("name") or "-"))
    pdf.cell(0, 4.5, latin1(ref), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _parties(doc: _Doc) -> None:
    L = doc.L
    emp, pen = doc.c.get("employee") or {}, doc.c.get("penilai") or {}
    widths = (8, 27, 55, 8, 27, 55)
    doc.section(L["parties"], keep=40)
    keys = ("name", "nip", "grade", "position", "unit")
    with doc.table(widths, first_row_as_headings=True) as table:
        head = table.row()
        head.cell(L["col.no"])
        head.cell(L["employee"], colspan=2)
        head.cell(L["col.no"])
        head.cell(L["penilai"], colspan=2)
        for n, key in enumerate(keys, 1):
            row = table.row()
            for person in (emp, pen):
                row.cell(str(n))
                row.cell(L[key], style=FontFace(emphasis="BOLD"))
                row.cell(latin1(person.get(key) or "-"))


def _matrix_rows(doc: _Doc, rhks: list[dict], start: int, widths) -> list[list[str]]:
    """One row per IKI; the first row of an RHK carries its number, the superior's RHK and the RHK."""
    L, rows = doc.L, []
    for n, rhk in enumerate(rhks, start):
        parent = rhk.get("parent") or {}
        if parent.get("description"):
            owner = f"\n({parent['owner']})" if parent.get("owner") else ""
            cascade = parent["description"] + owner
        elif rhk.get("organisation_goal"):
            cascade = L["goal"].format(goal=rhk["organisation_goal"])
        else:
            cascade = "-"
        iki = rhk.get("iki") or [{}]
        for m, k in enumerate(iki):
            ref = f"{n}.{m + 1}"
            aspect = L.get(f"aspect.{k.get('aspect')}", latin1(k.get("aspect") or "-")) if k else "-"
            rows.append(
                [
                    str(n) if m == 0 else "",
                    doc.clip(cascade, widths[1], L["full.cascade"].format(n=n)) if m == 0 else "",
                    doc.clip(rhk.get("description") or "-", widths[2], L["full.rhk"].format(n=n)) if m == 0 else "",
                    aspect,
                    doc.clip(k.get("indicator") or L["no_iki"], widths[4], L["full.iki"].format(n=ref)),
                    doc.clip(target_text(k, doc.lang) if k else "-", widths[5], L["full.target"].format(n=ref)),
                ]
            )
    return rows


def _results(doc: _Doc) -> None:
    L = doc.L
    widths = (8, 42, 42, 17, 45, 26)
    heading = [L[k] for k in ("col.no", "col.cascade", "col.rhk", "col.aspect", "col.iki", "col.target")]
    rhk = doc.c.get("rhk") or []
    doc.section(L["results"], keep=doc.row_height(heading, widths, "B") + 12)
    n = 1
    for kind in ("utama", "tambahan"):
        group = [r for r in rhk if r.get("kind") == kind]
        rows = _matrix_rows(doc, group, n, widths)
        n += len(group)
        keep = doc.row_height(heading, widths, "B") + 8 + (doc.row_height(rows[0], widths) if rows else 8)
        doc.ensure(keep)
        with doc.table(widths, first_row_as_headings=True, repeat_headings=1) as table:
            table.row(heading)
            table.row().cell(L[f"kind.{kind}"], colspan=6, style=FontFace(emphasis="BOLD", fill_color=ROW_FILL))
            if not rows:
                table.row().cell(L["no_rhk"], colspan=6)
            for cells in rows:
                table.row(cells)
        doc.pdf.ln(2)


def _behaviour(doc: _Doc, values: list[str]) -> None:
    L = doc.L
    widths = (8, 92, 80)
    heading = [L["col.no"], L["col.value"], L["col.expectation"]]
    expectations = doc.c.get("behaviour") or {}
    rows = []
    for n, code in enumerate(values, 1):
        name = L.get(f"value.{code}", code)
        guide = L.get(f"value.{code}.guide", "")
        rows.append(
            (
                str(n),
                name,
                guide,
                doc.clip(expectations.get(code) or "-", widths[2], L["full.expectation"].format(value=name)),
            )
        )
    first = doc.row_height([rows[0][1] + "\n" + rows[0][2], rows[0][3]], widths[1:]) if rows else 8
    doc.section(L["behaviour"], keep=doc.row_height(heading, widths, "B") + first)
    with doc.table(widths, first_row_as_headings=True, repeat_headings=1) as table:
        table.row(heading)
        for no, name, guide, expectation in rows:
            row = table.row()
            row.cell(no)
            row.cell(f"{name.upper()}\n{guide}" if guide else name.upper())
            row.cell(expectation)


def _signature(doc: _Doc, x: float, top: float, width: float, role: str, person: dict, when) -> float:
    pdf, L = doc.pdf, doc.L
    pdf.set_xy(x, top)
    doc.font()
    place = L["signed_on"].format(date=_date(when, doc.lang)) if when else L["unsigned"]
    pdf.multi_cell(width - 4, LINE_MM + 0.4, latin1(place), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    doc.font("B")
    pdf.multi_cell(width - 4, LINE_MM + 0.4, role, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.ln(16)
    pdf.set_x(x)
    doc.font("BU")
    name = latin1(person.get("name") or "-")
    pdf.multi_cell(width - 4, LINE_MM + 0.4, name, align="C", new_x=XPos.LEFT, new_y=YPos.NEXT)
    doc.font()
    pdf.multi_cell(
        width - 4, LINE_MM + 0.4, latin1(f"NIP {person.get('nip') or '-'}"), align="C", new_x=XPos.LEFT, new_y=YPos.NEXT
    )
    return pdf.get_y()


def _signatures(doc: _Doc) -> None:
    pdf, c, L = doc.pdf, doc.c, doc.L
    doc.ensure(48)
    pdf.ln(6)
    when = c.get("approved_at")
    signer = c.get("approver") or c.get("penilai") or {}
    role = L["sig.penilai"]
    if signer.get("nip") and signer.get("nip") != (c.get("penilai") or {}).get("nip"):
        role = L["sig.acting"]
    width = pdf.epw / 2
    top = pdf.get_y()
    bottom = max(
        _signature(doc, pdf.l_margin, top, width, L["sig.employee"], c.get("employee") or {}, when),
        _signature(doc, pdf.l_margin + width, top, width, role, signer, when),
    )
    pdf.set_xy(pdf.l_margin, bottom + 2)


def _annex(doc: _Doc) -> None:
    L, annex = doc.L, doc.c.get("annex") or {}
    doc.pdf.add_page()
    doc.font("B", 12)
    doc.pdf.cell(0, 7, L["annex.title"], align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    emp = doc.c.get("employee") or {}
    doc.font("", 8.5)
    doc.pdf.cell(
        0, 4.5, latin1(f"{emp.get('name') or '-'} - NIP {emp.get('nip') or '-'}"), align="C", new_x=XPos.LMARGIN
    )
    doc.pdf.ln(5)
    for key in ("resources", "accountability", "consequences"):
        doc.section(L[f"annex.{key}"])
        doc.paragraph(annex.get(key) or L["annex.empty"])
    if doc.overflow:
        doc.section(L["full.title"])
        for n, (label, text) in enumerate(doc.overflow, 1):
            doc.paragraph(f"[{n}] {label}", "B")
            doc.paragraph(text)
            doc.pdf.ln(2)


def creation_date(when) -> datetime:
    """The PDF's CreationDate from the plan itself (fpdf2 derives the file /ID from it and the bytes):
    the approval time, else the last change of a draft; a naive time is UTC."""
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            when = None
    if not isinstance(when, datetime):
        return FIXED_DATE
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc).replace(microsecond=0)


def render_skp(content: dict, labels: dict, lang: str, values: list[str], *, created_at=None) -> bytes:
    """The SKP ``content`` as PDF bytes in ``lang`` with ``labels``; ``values`` are the BerAKHLAK codes in
    their order. The same arguments give the same bytes."""
    doc = _Doc(content, labels, lang)
    emp = content.get("employee") or {}
    doc.pdf.set_title(
        latin1(f"{doc.L['title']} - {emp.get('name') or ''} - {(content.get('cycle') or {}).get('year')}")
    )
    doc.pdf.set_author("Kinerja")
    doc.pdf.set_creator("Kinerja plans service")
    doc.pdf.set_keywords(
        f"kinerja-skp={content.get('plan_id')} revision={content.get('revision')} lang={lang}"
        + ("" if doc.approved else " draft")
    )
    doc.pdf.set_creation_date(creation_date(created_at))
    doc.pdf.add_page()
    _title(doc)
    _parties(doc)
    _results(doc)
    _behaviour(doc, values)
    _signatures(doc)
    _annex(doc)
    return bytes(doc.pdf.output())
