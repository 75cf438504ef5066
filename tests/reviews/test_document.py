"""The evaluation document PDF (services/reviews/document.py): renders a rich document in both
languages, survives text the core fonts cannot draw, breaks long tables across pages, and
carries the content hash, the parties and the predikat in extractable text."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest

from services.reviews import domain
from services.reviews.document_pdf import MAX_CELL_LINES, latin1, render_pdf

LONG = (
    "Capaian “layanan prima” — termasuk pelayanan café & klinik – melampaui target; "
    "koordinasi lintas unit berjalan baik… "
) * 12
HUGE = "Uraian sangat panjang tentang bukti dukung dan tindak lanjut. " * 220  # taller than a page


def rich_content() -> dict:
    behaviour = []
    for i, v in enumerate(domain.BERAKHLAK):
        behaviour.append(
            {
                "value": v,
                "expectation": f"Ekspektasi khusus pimpinan untuk {v}: “konsisten” — setiap hari ({i}).",
                "feedback": None
                if v == "loyal"
                else {
                    "level": domain.RATINGS[i % 3],
                    "text": LONG if i == 0 else f"Umpan balik {v} – berdasarkan bukti.",
                },
            }
        )
    return {
        "evaluation_id": 41,
        "cycle_id": 3,
        "kind": "periodic",
        "period": "Triwulan II",
        "employee": {
            "nip": "199001012015031001",
            "name": "Siti Rahayu, S.Kom.",
            "position": "Pranata Komputer Ahli Muda",
            "grade": "Penata Tk. I (III/d)",
            "unit": "Bidang Pelayanan “Terpadu” — Seksi Data",
        },
        "penilai": {
            "nip": "198205102008011002",
            "name": "Dr. Budi Santoso, M.Si.",
            "position": "Kepala Bidang Pelayanan",
            "grade": "Pembina (IV/a)",
            "unit": "Bidang Pelayanan",
        },
        "atasan_penilai": {"nip": "197512312000121003", "name": "Ir. Andi Wijaya"},
        "org_result": "BAIK",
        "distribution": {
            "org_result": "BAIK",
            "rules": [domain.rule_to_dict(r) for r in domain.DEFAULT_RULES if r.org_result == "BAIK"],
        },
        "rhk": [
            {
                "id": "r1",
                "kind": "utama",
                "description": "Terlaksananya layanan data kepegawaian yang akurat — tepat waktu",
                "iki": [
                    {
                        "id": "i1",
                        "aspect": "kuantitas",
                        "indicator": "Jumlah laporan data yang diselesaikan",
                        "target": "12 laporan",
                        "realisation": {"value": 14, "text": LONG, "evidence_count": 3, "period_seq": 2},
                        "feedback": "Bagus — “pertahankan” kualitasnya.",
                    },
                    {
                        "id": "i2",
                        "aspect": "waktu",
                        "indicator": "Rata-rata waktu penyelesaian permintaan data",
                        "target": "3 hari",
                        "realisation": None,
                        "feedback": None,
                    },
                ],
            },
            {
                "id": "r2",
                "kind": "tambahan",
                "description": "Pendampingan aplikasi e-Kinerja bagi pegawai baru",
                "iki": [
                    {
                        "id": "i3",
                        "aspect": "kualitas",
                        "indicator": "Tingkat kepuasan peserta pendampingan",
                        "target": "90 %",
                        "realisation": {"value": 87.5, "text": None, "evidence_count": 0, "period_seq": 2},
                        "feedback": HUGE,
                    },
                ],
            },
        ],
        "behaviour": behaviour,
        "rating_hasil": "above",
        "rating_perilaku": "meets",
        "predikat": "BAIK",
        "suggested_hasil": "meets",
        "deviation_reason": "Beban kerja tambahan “darurat” – diselesaikan tepat waktu.",
        "notes": "Catatan: " + LONG,
        "recommendations": "Ikut pelatihan analisis data — tingkat lanjut.",
        "signatures": {"penilai": "2025-07-05T03:00:00+00:00", "employee": None, "atasan_penilai": None},
    }


def pdf_text(pdf: bytes) -> str:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is a dev dependency
        if not shutil.which("pdftotext"):
            pytest.skip("neither pypdf nor pdftotext is installed")
        return subprocess.run(
            ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
        ).stdout.decode("latin-1")
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() or "" for page in reader.pages)


def page_count(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b", pdf))  # fpdf2 writes page objects uncompressed


def squash(text: str) -> str:
    return " ".join(text.split())


def test_latin1_replaces_what_core_fonts_cannot_draw():
    assert latin1("“kutip” ‘satu’ – — … café ≥ 5 ✓ 中") == "\"kutip\" 'satu' - - ... café >= 5 v ?"
    assert latin1("Ş ğ ő") == "S g o"  # accents outside latin-1 stripped
    assert latin1(None) == ""
    assert latin1("a\r\nb\x07c") == "a\nb c"


def test_indonesian_document_signed():
    content = rich_content()
    digest = domain.content_hash(content)
    pdf = render_pdf(content, digest, 2)
    assert pdf.startswith(b"%PDF")
    assert page_count(pdf) >= 3  # long texts and the annex break across pages
    text = pdf_text(pdf)
    flat = squash(text)
    assert digest in text.replace(" ", "").replace("\n", "")
    assert "Versi dokumen 2" in flat
    for title in (
        "DOKUMEN EVALUASI KINERJA PEGAWAI",
        "PERIODE: TRIWULAN II",
        "PEGAWAI YANG DINILAI",
        "PEJABAT PENILAI KINERJA",
        "ATASAN PEJABAT PENILAI KINERJA",
        "CAPAIAN KINERJA ORGANISASI",
        "POLA DISTRIBUSI",
        "HASIL KERJA",
        "PERILAKU KERJA",
        "RATING HASIL KERJA",
        "RATING PERILAKU KERJA",
        "PREDIKAT KINERJA PEGAWAI",
        "CATATAN DAN REKOMENDASI",
        "PENGESAHAN",
        "LAMPIRAN",
    ):
        assert title in flat, title
    assert "199001012015031001" in flat and "198205102008011002" in flat and "197512312000121003" in flat
    assert "Di atas ekspektasi" in flat and "Sesuai ekspektasi" in flat
    assert "Paling banyak 70% pegawai berpredikat Baik" in flat
    assert "Belum ada realisasi" in flat
    assert "Berorientasi Pelayanan" in flat and "Kolaboratif" in flat
    assert "Ditandatangani 5 Juli 2025" in flat and "belum ditandatangani" in flat
    assert "Saran sistem: Sesuai ekspektasi" in flat
    assert '"konsisten"' in flat  # curly quotes drawn as straight ones
    # predikat line follows its title
    assert "PREDIKAT KINERJA PEGAWAI Baik" in flat


def test_english_document_and_predikat_label():
    content = rich_content() | {"predikat": "SANGAT_BAIK", "rating_perilaku": "above"}
    digest = domain.content_hash(content)
    flat = squash(pdf_text(render_pdf(content, digest, 1, lang="en")))
    assert "EMPLOYEE PERFORMANCE EVALUATION DOCUMENT" in flat
    assert "PERFORMANCE PREDIKAT Very good (Sangat Baik)" in flat
    assert "WORK RESULTS" in flat and "WORK BEHAVIOUR" in flat and "DISTRIBUTION PATTERN" in flat
    assert "No realisation recorded" in flat and "not signed yet" in flat and "Signed 5 July 2025" in flat
    assert "Document version 1" in flat and "199001012015031001" in flat


def test_draft_has_no_hash_and_says_so():
    content = rich_content() | {
        "signatures": {"penilai": None, "employee": None, "atasan_penilai": None},
        "rating_hasil": None,
        "rating_perilaku": None,
        "predikat": None,
        "org_result": None,
        "distribution": None,
    }
    flat = squash(pdf_text(render_pdf(content, None, 0)))
    assert "DRAF - belum ditandatangani" in flat
    assert "SHA-256" not in flat
    assert "Belum dinilai" in flat and "Belum ditetapkan" in flat


def test_live_signatures_override_frozen_content():
    content = rich_content()
    flat = squash(
        pdf_text(
            render_pdf(
                content,
                domain.content_hash(content),
                1,
                signatures={
                    "penilai": "2025-07-05T03:00:00+00:00",
                    "employee": "2025-07-07T02:00:00+00:00",
                    "atasan_penilai": "2025-07-09T02:00:00+00:00",
                },
            )
        )
    )
    assert "Ditandatangani 7 Juli 2025" in flat and "Ditandatangani 9 Juli 2025" in flat
    assert "belum ditandatangani" not in flat


def test_huge_cell_goes_to_annex_and_minimal_content_renders():
    content = rich_content()
    flat = squash(pdf_text(render_pdf(content, "ab" * 32, 1)))
    assert "lihat lampiran 2" in flat and "[1] Realisasi IKI 1.1" in flat and "[2] Umpan balik IKI 2.1" in flat
    assert MAX_CELL_LINES > 5
    minimal = render_pdf({}, None, 0, lang="xx")  # unknown language falls back to Indonesian
    assert minimal.startswith(b"%PDF") and "DOKUMEN EVALUASI KINERJA PEGAWAI" in pdf_text(minimal)


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) not installed")
def test_pdftotext_reads_the_hash():
    content = rich_content()
    digest = domain.content_hash(content)
    out = subprocess.run(
        ["pdftotext", "-", "-"], input=render_pdf(content, digest, 3), capture_output=True, check=True
    ).stdout.decode("utf-8", "replace")
    assert digest in out and "Baik" in out and "199001012015031001" in out
