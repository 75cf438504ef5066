"""A message rendered from its shape (services/notifications/render.py, Renderer) is the message
rendered in full: for names HTML must escape, names in a subject cut at 300 characters, names whose
white space changes the paragraphs, templates whose filters change the name, and reminders whose
every recipient has an event of their own. The shape is rendered once for an event's recipients."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.common.config import Config
from services.notifications.app import create_app
from services.notifications.render import Renderer, RenderError, render
from services.notifications.shared import t

STAGE = {
    "data": {"cycle_id": 7, "agency_code": "PKMB", "year": 2026, "state": "monitoring:1:check_in"},
    "event": {"id": "e-1", "type": "plans.cycle.stage_changed"},
    "link": "https://kinerja.pkmb.go.id/portal/cycles/7",
    "timezone": "Asia/Jakarta",
    "stage_text": "Pemantauan",
    "previous_text": "Perencanaan",
    "hint_key": "check_in",
}
NAMES = [
    "Budi Santoso",
    "Dr. A & B <script>alert('x')</script> \"Sari\"",
    "Ni Luh Putu Ayu Widyaningsih, S.E., M.Ak. Ñ 😀",
    "X" * 400,
]


def _translate(lang):
    return lambda key, **kw: t(key, lang, **kw)


def _ctx(name: str, nip: str | None = "199001012015031001", **extra) -> dict:
    return {**STAGE, "recipient": {"name": name, "nip": nip, "audience": "employee"}, **extra}


@pytest.fixture(autouse=True)
def catalogue(tmp_path_factory):
    """The service's message catalogue, which ``t`` reads through the app."""
    db = tmp_path_factory.mktemp("db") / "notifications.db"
    app = create_app(
        Config.from_env("notifications", env={"NOTIFICATIONS_DATABASE_URL": f"sqlite:///{db}"}), migrate=True
    )
    with app.app_context():
        yield
    app.extensions["kinerja"].engine.dispose()


@pytest.fixture
def renderer(monkeypatch) -> Renderer:
    monkeypatch.delenv("KINERJA_RENDER_VERIFY", raising=False)  # what it gives, not the tests' own check
    return Renderer()


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_stage_opening_is_rendered_once_and_each_name_put_in(renderer, lang):
    for n, name in enumerate(NAMES * 3):
        ctx = _ctx(name, nip=f"19900101201503{n:04d}")
        got = renderer.render("cycle.stage_opened", lang, ctx, translate=_translate(lang))
        assert got == render("cycle.stage_opened", lang, ctx, translate=_translate(lang))
        assert name in got.text
    assert (renderer.misses, renderer.hits) == (1, len(NAMES) * 3 - 1)


def test_the_html_escapes_the_name_and_the_text_keeps_it(renderer):
    got = renderer.render("cycle.stage_opened", "id", _ctx(NAMES[1]), translate=_translate("id"))
    assert NAMES[1] in got.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;Sari&#34;" in got.html
    assert "<script>" not in got.html


@pytest.mark.parametrize(
    "name",
    ["Ni\tLuh  Putu", "Baris\nKedua", " Spasi Depan", "Spasi Belakang ", "Dua\n\nParagraf"],
)
def test_a_name_whose_white_space_matters_is_rendered_in_full(renderer, name):
    got = renderer.render("cycle.stage_opened", "id", _ctx(name), translate=_translate("id"))
    assert got == render("cycle.stage_opened", "id", _ctx(name), translate=_translate("id"))
    assert (renderer.misses, renderer.hits) == (0, 0)


def test_a_different_stage_time_zone_or_audience_is_another_shape(renderer):
    for ctx in (
        _ctx("A B"),
        _ctx("C D", stage_text="Evaluasi"),
        _ctx("E F", timezone="Asia/Makassar"),
        {**_ctx("G H"), "recipient": {"name": "G H", "nip": "1", "audience": "penilai"}},
        _ctx("I J"),
    ):
        assert renderer.render("cycle.stage_opened", "id", ctx, translate=_translate("id")) == render(
            "cycle.stage_opened", "id", ctx, translate=_translate("id")
        )
    assert (renderer.misses, renderer.hits) == (4, 1)


def test_reminders_of_one_batch_share_a_shape_though_each_has_its_own_event(renderer):
    for n in range(20):
        ctx = _ctx(f"Pegawai {n}", event={"id": f"reminder-{n}"}, deadline="2026-01-31T23:59:00+07:00")
        got = renderer.render("reminder.skp_submission", "id", ctx, translate=_translate("id"))
        assert got == render("reminder.skp_submission", "id", ctx, translate=_translate("id"))
        assert f"Yth. Pegawai {n}," in got.text
    assert (renderer.misses, renderer.hits) == (1, 19)


def _root(tmp_path: Path, text: str) -> Path:
    (tmp_path / "id").mkdir()
    (tmp_path / "id" / "t.txt").write_text(text, encoding="utf-8")
    (tmp_path / "_layout.html").write_text("<h1>{{ subject }}</h1>{% for p in paragraphs %}<p>{{ p }}</p>{% endfor %}")
    return tmp_path


@pytest.mark.parametrize(
    "body",
    [
        "{{ recipient.name|upper }}",
        "{{ recipient.name|truncate(12) }}",
        "{{ recipient.name|wordwrap(8) }}",
        "{% if recipient.name|length > 40 %}panjang{% endif %} {{ recipient.name }}",
        "{{ recipient.name[:5] }}",
        "{{ recipient.nip|replace('1', '-') }}",
    ],
)
def test_a_filter_that_changes_the_name_renders_each_message_in_full(renderer, tmp_path, body):
    renderer.root = root = _root(
        tmp_path, "{% block subject %}S{% endblock %}{% block text %}" + body + "{% endblock %}"
    )
    for name in ("Budi Santoso Wibowo", "Ayu Lestari Nugroho"):
        got = renderer.render("t", "id", _ctx(name), translate=_translate("id"))
        assert got == render("t", "id", _ctx(name), translate=_translate("id"), root=root)
    assert renderer.hits == 1  # the second found the shape, marked unusable, and rendered in full


def test_a_long_name_in_the_subject_is_cut_as_a_full_render_cuts_it(renderer, tmp_path):
    renderer.root = root = _root(
        tmp_path, "{% block subject %}Untuk {{ recipient.name }}{% endblock %}{% block text %}x{% endblock %}"
    )
    for name in ("Y" * 295, "Z" * 400, "Pendek"):
        got = renderer.render("t", "id", _ctx(name), translate=_translate("id"))
        assert got == render("t", "id", _ctx(name), translate=_translate("id"), root=root)
        assert len(got.subject) == min(300, len("Untuk ") + len(name))


def test_a_template_that_does_not_render_fails_with_the_real_reason(renderer, tmp_path):
    renderer.root = _root(
        tmp_path, "{% block subject %}S{% endblock %}{% block text %}{{ missing.value }}{% endblock %}"
    )
    with pytest.raises(RenderError, match="missing"):
        renderer.render("t", "id", _ctx("Budi"), translate=_translate("id"))


def test_the_tests_check_catches_a_template_that_tests_the_names_length(monkeypatch, tmp_path):
    """The one change a stand-in cannot show: the tests' KINERJA_RENDER_VERIFY renders in full too."""
    monkeypatch.setenv("KINERJA_RENDER_VERIFY", "1")
    renderer = Renderer(
        _root(
            tmp_path,
            "{% block subject %}S{% endblock %}{% block text %}"
            "{% if recipient.name|length < 6 %}pendek{% else %}panjang{% endif %} {{ recipient.name }}{% endblock %}",
        )
    )
    assert renderer.render("t", "id", _ctx("Budi Santoso"), translate=_translate("id")).text == "panjang Budi Santoso\n"
    with pytest.raises(AssertionError, match="differs"):
        renderer.render("t", "id", _ctx("Budi"), translate=_translate("id"))


@pytest.mark.parametrize("template", ["escalation.superior", "escalation.hr"])
def test_escalations_about_different_people_share_a_shape(renderer, template):
    """Every message of an escalation names another overdue person (and their superior): their names
    and NIPs are stood in like the recipient's, so a part of 5,000 renders a shape per language."""
    for n in range(30):
        ctx = _ctx(
            "Kepala Bagian Umum",
            overdue={"name": f"Pegawai & <Nomor> {n}", "nip": f"1990010120150310{n:02d}"},
            superior={"name": f"Atasan {n % 7}", "nip": f"1980010120050110{n % 7:02d}"},
            deadline="2026-01-31T23:59:00+07:00",
            task_text="Ajukan SKP",
        )
        got = renderer.render(template, "id", ctx, translate=_translate("id"))
        assert got == render(template, "id", ctx, translate=_translate("id"))
        assert f"Pegawai & <Nomor> {n} (NIP 1990010120150310{n:02d})" in got.text
    no_superior = _ctx(
        "Kepala Bagian Umum", overdue={"name": "Tanpa Atasan", "nip": "1"}, superior=None, task_text="x", deadline=None
    )
    got = renderer.render(template, "id", no_superior, translate=_translate("id"))
    assert got == render(template, "id", no_superior, translate=_translate("id"))
    assert (renderer.misses, renderer.hits) == (2, 29)
