"""The report's vocabulary: plan and evaluation statuses, the bilingual labels of statuses,
stages, predikat, unsur and organisation results, the IKM bands and chart colours, and the
texts made from them (``bi``, ``state_text``, ``violation_text``, ``period_name``).
Texts are in Bahasa Indonesia with English in parentheses."""

from __future__ import annotations

PLAN_STATUSES = ("draft", "submitted", "returned", "approved", "revised")
EVAL_STATUSES = ("open", "self_assessed", "rated", "signed", "acknowledged", "countersigned")
EVAL_RATED = frozenset({"rated", "signed", "acknowledged", "countersigned"})
UNSUR = ("U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9")

LABELS: dict[str, tuple[str, str]] = {
    # plan statuses
    "draft": ("Draf", "draft"),
    "submitted": ("Diajukan", "submitted"),
    "returned": ("Dikembalikan", "returned"),
    "approved": ("Disetujui", "approved"),
    "revised": ("Direvisi", "revised"),
    # evaluation statuses
    "open": ("Terbuka", "open"),
    "self_assessed": ("Penilaian diri", "self-assessed"),
    "rated": ("Dinilai", "rated"),
    "signed": ("Ditandatangani", "signed"),
    "acknowledged": ("Diterima pegawai", "acknowledged"),
    "countersigned": ("Disahkan atasan", "countersigned"),
    # stages and phases
    "planning": ("Perencanaan SKP", "planning"),
    "monitoring": ("Pemantauan", "monitoring"),
    "annual_evaluation": ("Evaluasi tahunan", "annual evaluation"),
    "calibration": ("Kalibrasi", "calibration"),
    "sign_off": ("Penandatanganan", "sign-off"),
    "objections": ("Keberatan", "objections"),
    "closed": ("Ditutup", "closed"),
    "check_in": ("Check-in", "check-in"),
    "self_assessment": ("Penilaian diri", "self-assessment"),
    "supervisor_evaluation": ("Evaluasi oleh atasan", "supervisor evaluation"),
    # predikat
    "SANGAT_BAIK": ("Sangat Baik", "very good"),
    "BAIK": ("Baik", "good"),
    "BUTUH_PERBAIKAN": ("Butuh Perbaikan", "needs improvement"),
    "KURANG_MISCONDUCT": ("Kurang/Misconduct", "poor/misconduct"),
    "SANGAT_KURANG": ("Sangat Kurang", "very poor"),
    # follow-up
    "development": ("Rencana pengembangan", "development plan"),
    "recognition": ("Penghargaan", "recognition"),
    # objections
    "upheld": ("Ditolak, nilai tetap", "upheld"),
    "changed": ("Diubah", "changed"),
    "filed": ("Diajukan", "filed"),
    "under_review": ("Sedang ditinjau", "under review"),
}
PREDIKAT_SHORT = {
    "SANGAT_BAIK": "SB",
    "BAIK": "B",
    "BUTUH_PERBAIKAN": "BP",
    "KURANG_MISCONDUCT": "K",
    "SANGAT_KURANG": "SK",
}
UNSUR_LABELS = {
    "U1": ("Persyaratan", "requirements"),
    "U2": ("Sistem, mekanisme, dan prosedur", "procedures"),
    "U3": ("Waktu penyelesaian", "completion time"),
    "U4": ("Biaya/tarif", "cost/fee"),
    "U5": ("Produk spesifikasi jenis pelayanan", "service products"),
    "U6": ("Kompetensi pelaksana", "competence"),
    "U7": ("Perilaku pelaksana", "staff behaviour"),
    "U8": ("Penanganan pengaduan", "complaints handling"),
    "U9": ("Sarana dan prasarana", "facilities"),
}
ORG_RESULTS = {
    "ISTIMEWA": ("Istimewa", "outstanding"),
    "BAIK": ("Baik", "good"),
    "BUTUH_PERBAIKAN": ("Butuh Perbaikan", "needs improvement"),
    "KURANG": ("Kurang", "poor"),
    "SANGAT_KURANG": ("Sangat Kurang", "very poor"),
}
ORG_RESULT_UNSET = ("belum ditetapkan", "not set")
# the IKM bands on the 1–4 scale (PermenPANRB 14/2017: unit index ≥ 88.31 A, ≥ 76.61 B, ≥ 65.00 C)
IKM_BANDS = (("A", 88.31 / 25), ("B", 76.61 / 25), ("C", 65.00 / 25))

STATUS_COLOURS = {
    "draft": "#b0b7c3",
    "submitted": "#f2c14e",
    "returned": "#e4572e",
    "approved": "#2e9e5b",
    "revised": "#7d5ba6",
    "none": "#eceff3",
    "open": "#b0b7c3",
    "self_assessed": "#8fb8de",
    "rated": "#f2c14e",
    "signed": "#5b8def",
    "acknowledged": "#7d5ba6",
    "countersigned": "#2e9e5b",
}


def bi(key: str) -> str:
    """``Bahasa (English)`` for a known code, else the code itself."""
    if key in LABELS:
        i, e = LABELS[key]
        return i if i.lower() == e.lower() else f"{i} ({e})"
    return key


def label_id(key: str) -> str:
    return LABELS.get(key, (key, key))[0]


def state_text(cycle: dict) -> str:
    """``Pemantauan periode 2 · Penilaian diri (monitoring period 2 · self-assessment)``."""
    stage = cycle.get("stage")
    if stage == "monitoring":
        seq, phase = cycle.get("period_seq"), cycle.get("phase")
        name = next((p["name_id"] for p in cycle.get("periods", []) if p["seq"] == seq), f"periode {seq}")
        ph_i, ph_e = LABELS.get(phase, (phase, phase))
        return f"Pemantauan {name} · {ph_i} (monitoring period {seq} · {ph_e})"
    return bi(stage or "?")


def period_name(cycle: dict, seq: int) -> str:
    if seq == 0:
        return "Tahunan (annual)"
    return next((p["name_id"] for p in cycle.get("periods", []) if p["seq"] == seq), f"Periode {seq}")


def violation_text(v: dict) -> str:
    rule = v.get("rule") or {}
    preds = "+".join(PREDIKAT_SHORT.get(p, p) for p in rule.get("predikats", []))
    req, act = v.get("required"), v.get("actual")
    if v.get("code") == "curve.max_exceeded":
        return f"{preds} maks. {req}, ada {act} (max {req}, actual {act})"
    if v.get("code") == "curve.min_missing":
        return f"{preds} min. {req}, ada {act} (min {req}, actual {act})"
    return f"{v.get('code')}: {preds} {req} / {act}"
