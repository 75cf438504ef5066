"""The words of the evaluation document (DOMAIN.md §6), in Bahasa Indonesia and English: its
labels, the names of the BerAKHLAK values and IKI aspects, and how a rating, a predikat, an
organisation result, a date, a realisation or a distribution rule reads. Labels of ratings,
predikats and organisation results come from the service's message catalogue. Pure: no database,
no app context."""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

from services.common.i18n import Catalogue, long_date

HERE = Path(__file__).parent

BERAKHLAK_NAMES = {
    "berorientasi_pelayanan": ("Berorientasi Pelayanan", "Service orientation (Berorientasi Pelayanan)"),
    "akuntabel": ("Akuntabel", "Accountable (Akuntabel)"),
    "kompeten": ("Kompeten", "Competent (Kompeten)"),
    "harmonis": ("Harmonis", "Harmonious (Harmonis)"),
    "loyal": ("Loyal", "Loyal"),
    "adaptif": ("Adaptif", "Adaptive (Adaptif)"),
    "kolaboratif": ("Kolaboratif", "Collaborative (Kolaboratif)"),
}

ASPECTS = {
    "kuantitas": ("Kuantitas", "Quantity"),
    "kualitas": ("Kualitas", "Quality"),
    "waktu": ("Waktu", "Time"),
    "biaya": ("Biaya", "Cost"),
}


LABELS = {
    "id": {
        "title": "DOKUMEN EVALUASI KINERJA PEGAWAI",
        "period": "PERIODE: {period}",
        "kind.annual": "Penilaian kinerja tahunan",
        "kind.periodic": "Penilaian kinerja periodik",
        "doc_ref": "Nomor evaluasi {id} - versi dokumen {version}",
        "parties": "PIHAK-PIHAK",
        "employee": "PEGAWAI YANG DINILAI",
        "penilai": "PEJABAT PENILAI KINERJA",
        "atasan": "ATASAN PEJABAT PENILAI KINERJA",
        "name": "Nama",
        "nip": "NIP",
        "grade": "Pangkat/golongan",
        "position": "Jabatan",
        "unit": "Unit kerja",
        "org_result": "CAPAIAN KINERJA ORGANISASI",
        "org_missing": "Belum ditetapkan",
        "distribution": "POLA DISTRIBUSI",
        "distribution_none": "Tidak ada batasan distribusi untuk capaian ini.",
        "distribution_missing": "Belum ada: capaian kinerja organisasi belum ditetapkan.",
        "rule.max": "Paling banyak {amount} pegawai berpredikat {predikats}",
        "rule.min": "Paling sedikit {amount} pegawai berpredikat {predikats}",
        "rule.none": "Tidak ada pegawai berpredikat {predikats}",
        "rule.people": "{n} orang",
        "or": " atau ",
        "results": "HASIL KERJA",
        "col.no": "No",
        "col.aspect": "Aspek",
        "col.iki": "Indikator kinerja individu",
        "col.target": "Target",
        "col.realisation": "Realisasi berdasarkan bukti dukung",
        "col.feedback": "Umpan balik berkelanjutan berdasarkan bukti dukung",
        "rhk": "RHK {n} ({kind}): {text}",
        "rhk.utama": "Utama",
        "rhk.tambahan": "Tambahan",
        "no_rhk": "Tidak ada rencana hasil kerja.",
        "no_iki": "Tidak ada indikator.",
        "no_realisation": "Belum ada realisasi",
        "evidence": "Bukti dukung: {n} berkas",
        "no_evidence": "Tanpa bukti dukung",
        "behaviour": "PERILAKU KERJA",
        "col.value": "Perilaku (BerAKHLAK)",
        "col.expectation": "Ekspektasi khusus pimpinan",
        "rating_hasil": "RATING HASIL KERJA",
        "rating_perilaku": "RATING PERILAKU KERJA",
        "predikat": "PREDIKAT KINERJA PEGAWAI",
        "not_rated": "Belum dinilai",
        "suggested": "Saran sistem: {rating}",
        "deviation": "Alasan berbeda dari saran: {reason}",
        "notes_title": "CATATAN DAN REKOMENDASI",
        "continuous": "UMPAN BALIK BERKELANJUTAN DAN BIMBINGAN KINERJA",
        "continuous_none": "Tidak ada umpan balik atau bimbingan yang tercatat untuk periode ini.",
        "continuous.feedback": "Umpan balik",
        "continuous.coaching": "Bimbingan kinerja",
        "continuous.rhk": "RHK: {rhk}",
        "continuous.value": "Perilaku: {value}",
        "notes": "Catatan",
        "recommendations": "Rekomendasi",
        "signatures": "PENGESAHAN",
        "sig.employee": "Pegawai yang dinilai",
        "sig.penilai": "Pejabat penilai kinerja",
        "sig.atasan": "Atasan pejabat penilai kinerja",
        "sig.acting": "{kind}. {position}",
        "signed_on": "Ditandatangani {date}",
        "unsigned": "belum ditandatangani",
        "annex": "LAMPIRAN: TEKS LENGKAP",
        "see_annex": "lihat lampiran",
        "annex.realisation": "Realisasi IKI {n}",
        "annex.feedback": "Umpan balik IKI {n}",
        "annex.iki": "Indikator {n}",
        "annex.rhk": "RHK {n}",
        "annex.expectation": "Ekspektasi - {value}",
        "annex.value_feedback": "Umpan balik - {value}",
        "annex.party": "Pihak - {what}",
        "footer.signed": "Versi dokumen {version} - SHA-256: {hash}",
        "footer.draft": "DRAF - belum ditandatangani",
        "page": "Halaman {n} dari {nb}",
        "draft_mark": "DRAF",
    },
    "en": {
        "title": "EMPLOYEE PERFORMANCE EVALUATION DOCUMENT",
        "period": "PERIOD: {period}",
        "kind.annual": "Annual performance evaluation",
        "kind.periodic": "Periodic performance evaluation",
        "doc_ref": "Evaluation no. {id} - document version {version}",
        "parties": "PARTIES",
        "employee": "EMPLOYEE EVALUATED",
        "penilai": "EVALUATING OFFICIAL",
        "atasan": "EVALUATING OFFICIAL'S SUPERIOR",
        "name": "Name",
        "nip": "NIP",
        "grade": "Rank/grade",
        "position": "Position",
        "unit": "Unit",
        "org_result": "ORGANISATION PERFORMANCE RESULT",
        "org_missing": "Not set yet",
        "distribution": "DISTRIBUTION PATTERN",
        "distribution_none": "No distribution constraint for this result.",
        "distribution_missing": "None yet: the organisation result has not been set.",
        "rule.max": "At most {amount} of employees with predikat {predikats}",
        "rule.min": "At least {amount} of employees with predikat {predikats}",
        "rule.none": "No employee with predikat {predikats}",
        "rule.people": "{n}",
        "or": " or ",
        "results": "WORK RESULTS",
        "col.no": "No",
        "col.aspect": "Aspect",
        "col.iki": "Individual performance indicator",
        "col.target": "Target",
        "col.realisation": "Realisation based on evidence",
        "col.feedback": "Continuous feedback based on evidence",
        "rhk": "RHK {n} ({kind}): {text}",
        "rhk.utama": "main",
        "rhk.tambahan": "additional",
        "no_rhk": "No planned work results.",
        "no_iki": "No indicators.",
        "no_realisation": "No realisation recorded",
        "evidence": "Evidence: {n} file(s)",
        "no_evidence": "No evidence",
        "behaviour": "WORK BEHAVIOUR",
        "col.value": "Behaviour (BerAKHLAK)",
        "col.expectation": "Leader's specific expectation",
        "rating_hasil": "WORK RESULTS RATING",
        "rating_perilaku": "WORK BEHAVIOUR RATING",
        "predikat": "PERFORMANCE PREDIKAT",
        "not_rated": "Not rated yet",
        "suggested": "System suggestion: {rating}",
        "deviation": "Reason for departing from it: {reason}",
        "notes_title": "NOTES AND RECOMMENDATIONS",
        "continuous": "CONTINUOUS FEEDBACK AND COACHING",
        "continuous_none": "No feedback or coaching was recorded for this period.",
        "continuous.feedback": "Feedback",
        "continuous.coaching": "Coaching (bimbingan kinerja)",
        "continuous.rhk": "RHK: {rhk}",
        "continuous.value": "Behaviour: {value}",
        "notes": "Notes",
        "recommendations": "Recommendations",
        "signatures": "SIGN-OFF",
        "sig.employee": "Employee evaluated",
        "sig.penilai": "Evaluating official",
        "sig.atasan": "Evaluating official's superior",
        "sig.acting": "{kind}. (acting) {position}",
        "signed_on": "Signed {date}",
        "unsigned": "not signed yet",
        "annex": "ANNEX: FULL TEXTS",
        "see_annex": "see annex",
        "annex.realisation": "Realisation of IKI {n}",
        "annex.feedback": "Feedback on IKI {n}",
        "annex.iki": "Indicator {n}",
        "annex.rhk": "RHK {n}",
        "annex.expectation": "Expectation - {value}",
        "annex.value_feedback": "Feedback - {value}",
        "annex.party": "Party - {what}",
        "footer.signed": "Document version {version} - SHA-256: {hash}",
        "footer.draft": "DRAFT - not signed yet",
        "page": "Page {n} of {nb}",
        "draft_mark": "DRAFT",
    },
}


@lru_cache(maxsize=1)
def _catalogue():
    return Catalogue(HERE / "messages")


def language(lang: str | None) -> str:
    return lang if lang in LABELS else "id"


# Used only when the service's message catalogue lacks a key (the catalogue is the source of truth).
_FALLBACK = {
    "id": {
        "rating.above": "Di atas ekspektasi",
        "rating.meets": "Sesuai ekspektasi",
        "rating.below": "Di bawah ekspektasi",
        "predikat.SANGAT_BAIK": "Sangat Baik",
        "predikat.BAIK": "Baik",
        "predikat.BUTUH_PERBAIKAN": "Butuh Perbaikan",
        "predikat.KURANG_MISCONDUCT": "Kurang/Misconduct",
        "predikat.SANGAT_KURANG": "Sangat Kurang",
        "org.ISTIMEWA": "Istimewa",
        "org.BAIK": "Baik",
        "org.BUTUH_PERBAIKAN": "Butuh Perbaikan",
        "org.KURANG": "Kurang",
        "org.SANGAT_KURANG": "Sangat Kurang",
    },
    "en": {
        "rating.above": "Above expectations",
        "rating.meets": "Meets expectations",
        "rating.below": "Below expectations",
    },
}


def label(key: str, lang: str) -> str:
    """The catalogue's text of ``key`` in ``lang`` (its fallback here when the catalogue lacks it)."""
    text = _catalogue().t(key, lang)
    if text == key:
        text = _FALLBACK[lang].get(key) or _FALLBACK["id"].get(key) or key.split(".", 1)[-1]
    return text


def rating_text(code, lang: str) -> str | None:
    return label(f"rating.{code}", lang) if code else None


def _official(prefix: str, code, lang: str) -> str | None:
    """The label of ``code``; in English followed by the official Indonesian term."""
    if not code:
        return None
    text, official = label(f"{prefix}.{code}", lang), label(f"{prefix}.{code}", "id")
    return text if lang == "id" or text == official else f"{text} ({official})"


def predikat_text(code, lang: str) -> str | None:
    return _official("predikat", code, lang)


def org_text(code, lang: str) -> str | None:
    return _official("org", code, lang)


def date_text(value, lang: str) -> str | None:
    if not value:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        return str(value)
    return long_date(value, lang)


def number(v) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return str(v)
    return str(int(f)) if f.is_integer() else f"{f:g}"


_TARGET_UNIT = re.compile(r"^\s*-?\d+(?:[.,]\d+)?\s*(.*)$")


def realisation_text(r, target: str, L: dict) -> str:
    if not r:
        return L["no_realisation"]
    parts = []
    if r.get("value") is not None:
        m = _TARGET_UNIT.match(target or "")
        unit = m.group(1).strip() if m else ""
        parts.append(f"{number(r['value'])} {unit}".strip())
    if r.get("text"):
        parts.append(str(r["text"]))
    n = r.get("evidence_count") or 0
    parts.append(L["evidence"].format(n=n) if n else L["no_evidence"])
    return "\n".join(parts)


def value_feedback_text(f, lang: str) -> str:
    if not f:
        return "-"
    if isinstance(f, str):
        return f
    level = rating_text(f.get("level"), lang)
    text = (f.get("text") or "").strip()
    if level and text:
        return f"[{level}] {text}"
    return level or text or "-"


def rule_text(rule: dict, lang: str, L: dict) -> str:
    predikats = L["or"].join(predikat_text(p, lang) or p for p in rule.get("predikats") or [])
    if rule.get("percent") is not None:
        amount = f"{number(rule['percent'])}%"
    else:
        count = int(rule.get("count") or 0)
        if rule.get("bound") == "max" and count == 0:
            return L["rule.none"].format(predikats=predikats)
        amount = L["rule.people"].format(n=count)
    key = "rule.max" if rule.get("bound") == "max" else "rule.min"
    return L[key].format(amount=amount, predikats=predikats)
