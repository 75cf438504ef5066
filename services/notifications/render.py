"""Message templates: plain Jinja2 files per language (no Babel).

``templates/<lang>/<template>.txt`` holds two blocks, ``subject`` and ``text``; the HTML part is
``templates/<lang>/<template>.html`` when present, else ``templates/_layout.html`` wrapping the
text's paragraphs (autoescaped); a ``note`` in the context is the text's last paragraph.
Undefined variables raise (``StrictUndefined``): a template that needs a value the event did not
carry fails loudly and the delivery is recorded failed with the reason, rather than sending a
message with a hole in it.

:class:`Renderer` renders one event's messages for many recipients: what differs between them is
mostly the people's names, so the message is rendered once per shape (template, language and the
values the template uses, the people aside) and each message's names and NIPs put in. A template that
does more with them than show them is found and rendered for each recipient; the tests render
every message both ways and compare them (``Renderer.verify``).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Callable
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound, meta
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
    return _finish(template, lang, _render(template, lang, context, translate=translate, root=root))


def _finish(template: str, lang: str, rendered: Rendered) -> Rendered:
    """The subject checked and cut to the column's 300 characters."""
    if not rendered.subject:
        raise RenderError(f"template {template!r} ({lang}) rendered an empty subject")
    return Rendered(subject=rendered.subject[:300], text=rendered.text, html=rendered.html)


def _render(template: str, lang: str, context: dict, *, translate: Callable[[str], str], root: Path) -> Rendered:
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
    return Rendered(subject=subject, text=text, html=html)


# ------------------------------------------------------------------ many recipients of one event

_ALNUM = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
_TOKEN = secrets.token_hex(5)
#: the values stood in: the name and NIP of each person the context names (``recipient``,
#: ``overdue``, ``superior``, ``employee`` …: a top-level mapping with those keys)
_FIELDS = ("name", "nip")


@lru_cache(maxsize=256)
def _mark(path: tuple[str, str]) -> str:
    """A path's own letters and digits (the same in every thread of the process)."""
    return hashlib.blake2s(f"{_TOKEN}/{path[0]}/{path[1]}".encode(), digest_size=6).hexdigest()


def _standin(path: tuple[str, str]) -> str:
    """The stand-in a message's shape is rendered with for ``path``'s value: letters and digits,
    which escaping and the folding of white space leave as they are, and no real value holds."""
    return f"Sx{_mark(path)}Zq"


def _probe(path: tuple[str, str]) -> str:
    """The longer stand-in the shape is rendered with a second time, holding every letter and digit:
    a template that does more with a name than show it (a filter, a slice, a test of its length)
    gives two shapes that differ by more than the stand-ins, and its messages are rendered in full."""
    return f"Qx{_mark(path)}{_ALNUM * 4}"


#: what render() adds to the context (decided by the language and the time zone, both in the key)
_HELPERS = frozenset({"t", "tanggal", "waktu", "lang"})
#: what render() itself reads from the context, whatever the template uses
_ALWAYS = frozenset({"recipient", "note", "timezone"})


@lru_cache(maxsize=1024)
def _variables(root: str, lang: str, template: str) -> frozenset[str] | None:
    """The context's names ``template``'s text and HTML files use in ``lang``; None when they cannot
    be read, or include another file (whose names would be missed): such a template is rendered for
    each recipient."""
    env, _ = _environments(root)
    names: set[str] = set()
    try:
        for name in _names(root, lang, template):
            ast = env.parse(env.loader.get_source(env, name)[0])
            if next(iter(meta.find_referenced_templates(ast)), False) is not False:
                return None
            names |= meta.find_undeclared_variables(ast)
    except TemplateError:
        return None
    return frozenset(names - _HELPERS) | _ALWAYS


def _put(rendered: Rendered, values: dict[tuple[str, str], str], standin: Callable = _standin) -> Rendered:
    """``rendered`` with each path's stand-in replaced by its value (escaped in the HTML)."""
    subject, text, html = rendered.subject, rendered.text, rendered.html
    for path, value in values.items():
        mark = standin(path)
        subject, text = subject.replace(mark, value), text.replace(mark, value)
        html = html.replace(mark, str(escape(value)))
    return Rendered(subject=subject, text=text, html=html)


def _people(context: dict) -> dict[tuple[str, str], object]:
    """The names and NIPs of the people ``context`` names, by path."""
    return {
        (key, field): value[field]
        for key, value in context.items()
        if isinstance(value, dict)
        for field in _FIELDS
        if value.get(field) is not None
    }


def _standing_in(context: dict, values: dict, mark: Callable) -> dict:
    """``context`` with each path of ``values`` replaced by ``mark(path)``."""
    out = dict(context)
    for key, field in values:
        out[key] = {**out[key], field: mark((key, field))}
    return out


class Renderer:
    """Renders the messages of one event (or one reminder batch) for many recipients.

    A stage opening tells a province's 100,000 people the same thing but for their name; rendering
    each message was 70 % of writing it (Jinja2, subject, text and the HTML layout, about 0.3 ms).
    Here a message's shape — the template in the language, rendered with stand-ins for the names
    and NIPs of the people the context names (the recipient; an escalation's overdue person and
    their superior; …), keyed by the values the template uses (its variables, found once by
    parsing it) — is rendered once, and each message's names and NIPs put in place of the
    stand-ins (escaped in the HTML). A name with leading, trailing or repeated white space or line
    breaks (which change the paragraphs or the subject's folding), a template that includes
    another, or one that does more with a name than show it (:func:`_probe`), is rendered in full;
    so is everything once the first 32 shapes have never been used twice (messages that differ in
    more than their people). ``translate`` must depend on the language only.

    ``verify`` (``KINERJA_RENDER_VERIFY=1``, which the tests set for themselves and the servers they
    start) renders every message in full as well and raises when the two differ.
    """

    MAX_SHAPES = 256

    def __init__(self, root: Path = TEMPLATES_DIR):
        self.root = root
        self.verify = os.environ.get("KINERJA_RENDER_VERIFY") == "1"
        self._shapes: dict[tuple, Rendered | None] = {}
        self.hits = self.misses = 0

    def render(self, template: str, lang: str, context: dict, *, translate: Callable[[str], str]) -> Rendered:
        rendered = self._render(template, lang, context, translate)
        if rendered is None:
            return render(template, lang, context, translate=translate, root=self.root)
        if self.verify:
            full = render(template, lang, context, translate=translate, root=self.root)
            if full != rendered:
                raise AssertionError(f"{template} ({lang}) rendered from its shape differs: {rendered!r} != {full!r}")
        return rendered

    def _render(self, template: str, lang: str, context: dict, translate: Callable[[str], str]) -> Rendered | None:
        """The message from its shape, or None when it must be rendered in full."""
        if self.misses >= 32 and not self.hits:
            return None
        values = _people(context)
        if any(not isinstance(v, str) or not v or " ".join(v.split()) != v for v in values.values()):
            return None  # white space that changes the paragraphs (or the subject's folding): in full
        lang = lang if lang in LANGUAGES else "id"
        variables = _variables(str(self.root), lang, template)
        if variables is None:
            return None
        shaped = _standing_in(context, values, _standin)
        try:
            used = {k: shaped[k] for k in variables if k in shaped}
            # unsorted: the same values built the same way dump the same; two orders of equal
            # values are two shapes, never a wrong message
            key = (template, lang, json.dumps(used, default=repr, check_circular=False))
        except (TypeError, ValueError, RecursionError):  # keys json cannot dump, a cycle: render it in full
            return None
        if key in self._shapes:
            self.hits += 1
            shape = self._shapes[key]
        else:
            self.misses += 1
            shape = self._shape(template, lang, context, values, shaped, translate)
            if len(self._shapes) >= self.MAX_SHAPES:
                self._shapes.clear()
            self._shapes[key] = shape
        if shape is None:
            return None
        return _finish(template, lang, _put(shape, values))

    def _shape(
        self, template: str, lang: str, context: dict, values: dict, shaped: dict, translate: Callable[[str], str]
    ) -> Rendered | None:
        """The message rendered with the stand-ins, or None when it does more with them than show them
        (or does not render: the full render then says why, with the real values)."""
        probe = _standing_in(context, values, _probe)
        try:
            shape = _render(template, lang, shaped, translate=translate, root=self.root)
            probed = _render(template, lang, probe, translate=translate, root=self.root)
        except RenderError:
            return None
        return shape if _put(shape, {path: _probe(path) for path in values}) == probed else None
