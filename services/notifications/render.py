"""Message templates: plain Jinja2 files per language (no Babel).

``templates/<lang>/<template>.txt`` holds two blocks, ``subject`` and ``text``; the HTML part is
``templates/<lang>/<template>.html`` when present, else ``templates/_layout.html`` wrapping the
text's paragraphs (autoescaped); a ``note`` in the context is the text's last paragraph.
Undefined variables raise (``StrictUndefined``): a template that needs a value the event did not
carry fails loudly and the delivery is recorded failed with the reason, rather than sending a
message with a hole in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from markupsafe import Markup, escape

from services.common.i18n import LANGUAGES, long_date

TEMPLATES_DIR = Path(__file__).parent / "templates"


class RenderError(Exception):
    """The template could not be rendered; ``reason`` says why (for the delivery log)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _parse(value) -> date | datetime | None:
    if isinstance(value, (date, datetime)):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value else date.fromisoformat(value)
        except ValueError:
            return None
    return None


def format_date(value, lang: str) -> str:
    d = _parse(value)
    if d is None:
        return str(value)
    if isinstance(d, datetime):
        d = d.date()
    return long_date(d, lang)


def format_datetime(value, lang: str, tz: str = "Asia/Jakarta") -> str:
    d = _parse(value)
    if not isinstance(d, datetime):
        return format_date(value, lang)
    try:
        zone = ZoneInfo(tz)
    except Exception:  # noqa: BLE001 - an unknown zone falls back to WIB
        zone = ZoneInfo("Asia/Jakarta")
    local = d.astimezone(zone) if d.tzinfo else d
    clock = local.strftime("%H.%M") if lang == "id" else local.strftime("%H:%M")
    return f"{format_date(local, lang)} {clock} {local.tzname() or ''}".strip()


@lru_cache(maxsize=4)
def _environments(root: str) -> tuple[Environment, Environment]:
    """The plain-text environment and the autoescaping HTML one, on the same files."""
    options = {"undefined": StrictUndefined, "trim_blocks": True, "lstrip_blocks": True, "auto_reload": False}
    loader = FileSystemLoader(root)
    text = Environment(loader=loader, autoescape=False, **options)
    html = Environment(loader=loader, autoescape=True, **options)
    return text, html


@lru_cache(maxsize=1024)
def _names(root: str, lang: str, template: str) -> tuple[str, str]:
    """The files ``template`` renders from in ``lang``: its text (Indonesian when the language has
    none) and its HTML (else the layout). Looked up once: the environments never reload a file, and
    a missing one is no cached template — asking for it stats the file system and raises, for every
    message of a stage opening to a whole province (a tenth of the recording's time)."""
    base = Path(root)
    text = f"{lang}/{template}.txt" if (base / lang / f"{template}.txt").is_file() else f"id/{template}.txt"
    html = f"{lang}/{template}.html" if (base / lang / f"{template}.html").is_file() else "_layout.html"
    return text, html


def _paragraphs(text: str) -> list[Markup]:
    """Text paragraphs as escaped HTML, single line breaks kept as <br>."""
    out = []
    for para in text.split("\n\n"):
        para = para.strip()
        if para:
            out.append(Markup("<br>\n").join(escape(line) for line in para.split("\n")))
    return out


def render(
    template: str, lang: str, context: dict, *, translate: Callable[[str], str], root: Path = TEMPLATES_DIR
) -> Rendered:
    """Render ``template`` in ``lang`` (Indonesian when the language has no file)."""
    text_env, html_env = _environments(str(root))
    lang = lang if lang in LANGUAGES else "id"
    tz = context.get("timezone", "Asia/Jakarta")
    helpers = {
        "t": translate,
        "tanggal": lambda v: format_date(v, lang),
        "waktu": lambda v: format_datetime(v, lang, tz),
        "lang": lang,
    }
    ctx = {**context, **helpers}
    try:
        text_name, html_name = _names(str(root), lang, template)
        tmpl = text_env.get_template(text_name)
        jctx = tmpl.new_context(ctx)
        subject = " ".join("".join(tmpl.blocks["subject"](jctx)).split())
        text = "".join(tmpl.blocks["text"](jctx)).strip() + "\n"
        if context.get("note"):  # a closing paragraph the recorder adds (e.g. why an acting official hears it)
            text += "\n" + str(context["note"]).strip() + "\n"
        html = html_env.get_template(html_name).render(**ctx, subject=subject, paragraphs=_paragraphs(text))
    except TemplateNotFound as exc:
        raise RenderError(f"template {template!r} not found ({exc.name})") from None
    except KeyError as exc:  # a template without the subject or text block
        raise RenderError(f"template {template!r} lacks the block {exc}") from None
    except TemplateError as exc:
        raise RenderError(f"template {template!r} ({lang}): {type(exc).__name__}: {exc}") from None
    except (TypeError, ValueError, AttributeError, ArithmeticError) as exc:
        raise RenderError(f"template {template!r} ({lang}): {type(exc).__name__}: {exc}") from None
    if not subject:
        raise RenderError(f"template {template!r} ({lang}) rendered an empty subject")
    return Rendered(subject=subject[:300], text=text, html=html)
