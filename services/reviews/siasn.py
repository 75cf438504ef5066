"""Export of evaluation results to SIASN, BKN's civil-service information system (DOMAIN.md §9).

Two web services take the results:

- ``POST /skp22/save`` — the annual result (our ``period_seq`` 0): ``tahun``, ``hasilKinerjaNilai``,
  ``perilakuKerjaNilai``, ``kuadranKinerjaNilai``, the penilai (``penilaiNama``, ``penilaiNipNrp``,
  ``penilaiGolongan``, ``penilaiJabatan``, ``penilaiUnorNama``), ``statusPenilai`` (ASN / NON ASN) and
  the employee (``pnsDinilaiOrang``);
- ``POST /kinerjaperiodik/save`` — a periodic result: ``pnsDinilaiId``, ``bulanMulaiPenilaian``,
  ``tahunMulaiPenilaian``, ``bulanSelesaiPenilaian``, ``tahunSelesaiPenilaian``, ``periodikId`` (the
  period type), ``tahun``, the two ratings and the quadrant, the penilai (``penilaiJabatanNama`` here)
  and ``statusPenilai``; ``koefisienId`` when known (functional positions).

Field names follow BKN's published API as used by agency integrations. Every call carries two
bearer tokens: ``Authorization: Bearer <API gateway token>`` and ``Auth: bearer <SSO token>``.

**Codes.** The numeric values SIASN stores (rating, quadrant, period type, golongan) come from
BKN's reference tables (``referensi perilakuDanKinerja``, ``kuadranNilai``, ``periodik``,
``golonganPns``) and must be configured per deployment (``SIASN_CODE_MAP``); :data:`DEFAULT_CODES`
is only the commonly published reading of those tables:

=============  ==========================================================================
table          default
=============  ==========================================================================
``rating``     above (di atas ekspektasi) → 1, meets (sesuai) → 2, below (di bawah) → 3;
               used for both hasil kerja and perilaku kerja
``kuadran``    SANGAT_BAIK → 1, BAIK → 2, BUTUH_PERBAIKAN → 3, KURANG_MISCONDUCT → 4,
               SANGAT_KURANG → 5 (the predikat, i.e. the quadrant of the DOMAIN.md §4 matrix)
``periodik``   monthly → 1 (bulanan), quarterly → 2 (triwulanan); **semester has no default**:
               configure it, or periodic pushes of a semester cycle fail with a mapping error
``golongan``   I/a → 11 … I/d → 14, II/a → 21 … II/d → 24, III/a → 31 … III/d → 34,
               IV/a → 41 … IV/e → 45 (read from the grade text, e.g. "Penata Tk. I (III/d)");
               a grade that maps to nothing is sent as written
``status``     asn → "ASN", non_asn → "NON ASN"
``pns_id``     NIP → SIASN employee id (empty: the NIP is sent as the employee id)
=============  ==========================================================================

``SIASN_CODE_MAP`` is a JSON file path or inline JSON (starting with ``{``) whose tables are
merged over the defaults entry by entry, e.g. ``{"periodik": {"semester": "3"}}``.
Numeric codes are sent as JSON integers in the integer fields (ratings, quadrant, months,
years) and as strings in the reference-id fields (``periodikId``, ``penilaiGolongan``,
``koefisienId``).

The export itself (the push use cases and the HTTP endpoints) is in ``siasn_export``.
"""

from __future__ import annotations

import calendar
import http.client
import json
import os
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

__all__ = [
    "DEFAULT_CODES",
    "PATHS",
    "REQUIRED",
    "SiasnClient",
    "SiasnConfig",
    "SiasnMappingError",
    "SiasnResult",
    "is_success",
    "merge_codes",
    "missing_fields",
    "periodic_payload",
    "skp22_payload",
]

KINDS = ("annual", "periodic")
PATHS = {"annual": "/skp22/save", "periodic": "/kinerjaperiodik/save"}

DEFAULT_CODES: dict[str, dict[str, str]] = {
    "rating": {"above": "1", "meets": "2", "below": "3"},
    "kuadran": {
        "SANGAT_BAIK": "1",
        "BAIK": "2",
        "BUTUH_PERBAIKAN": "3",
        "KURANG_MISCONDUCT": "4",
        "SANGAT_KURANG": "5",
    },
    "periodik": {"monthly": "1", "quarterly": "2"},
    "golongan": {
        "I/a": "11",
        "I/b": "12",
        "I/c": "13",
        "I/d": "14",
        "II/a": "21",
        "II/b": "22",
        "II/c": "23",
        "II/d": "24",
        "III/a": "31",
        "III/b": "32",
        "III/c": "33",
        "III/d": "34",
        "IV/a": "41",
        "IV/b": "42",
        "IV/c": "43",
        "IV/d": "44",
        "IV/e": "45",
    },
    "status": {"asn": "ASN", "non_asn": "NON ASN"},
    "pns_id": {},
}


# The fields SIASN refuses empty, per kind, in the order the payload builders write them (the columns of
# the CSV file of a manual upload, after which come the optional ``koefisienId`` and ``id``).
REQUIRED: dict[str, tuple[str, ...]] = {
    "annual": (
        "tahun",
        "hasilKinerjaNilai",
        "perilakuKerjaNilai",
        "kuadranKinerjaNilai",
        "penilaiNama",
        "penilaiNipNrp",
        "penilaiGolongan",
        "penilaiJabatan",
        "penilaiUnorNama",
        "statusPenilai",
        "pnsDinilaiOrang",
    ),
    "periodic": (
        "pnsDinilaiId",
        "bulanMulaiPenilaian",
        "tahunMulaiPenilaian",
        "bulanSelesaiPenilaian",
        "tahunSelesaiPenilaian",
        "periodikId",
        "tahun",
        "hasilKinerjaNilai",
        "perilakuKerjaNilai",
        "kuadranKinerjaNilai",
        "penilaiNama",
        "penilaiNipNrp",
        "penilaiJabatanNama",
        "statusPenilai",
    ),
}


def missing_fields(kind: str, payload: Mapping) -> list[str]:
    """The required fields of ``kind`` that ``payload`` leaves empty (SIASN answers 400 to those)."""
    return [name for name in REQUIRED[kind] if payload.get(name) in (None, "")]


class SiasnMappingError(ValueError):
    """A value has no SIASN code (``table``/``key``) or a required field is unknown."""

    def __init__(self, table: str, key):
        super().__init__(f"no SIASN code for {table}={key!r}; configure it in SIASN_CODE_MAP")
        self.table = table
        self.key = key


# ------------------------------------------------------------------ configuration


def merge_codes(overrides: Mapping | None) -> dict[str, dict[str, str]]:
    codes = {table: dict(entries) for table, entries in DEFAULT_CODES.items()}
    for table, entries in (overrides or {}).items():
        if not isinstance(entries, Mapping):
            raise ValueError(f"SIASN_CODE_MAP: {table!r} must be an object of code → value")
        codes.setdefault(table, {}).update({str(k): (None if v is None else str(v)) for k, v in entries.items()})
    return codes


def _load_code_map(raw: str | None) -> dict:
    if not raw:
        return {}
    text = raw.strip()
    if not text.startswith("{"):
        text = Path(text).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("SIASN_CODE_MAP must be a JSON object")
    return data


@dataclass
class SiasnConfig:
    """Where SIASN is and how to call it. ``url`` is the API base including its path prefix
    (e.g. ``https://<gateway>/apisiasn/1.0``); the tokens are the API gateway's (WSO2) and
    the SSO's access tokens."""

    url: str | None = None
    gateway_token: str | None = None
    sso_token: str | None = None
    codes: dict = field(default_factory=lambda: merge_codes(None))
    max_attempts: int = 4
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 8.0
    timeout_seconds: float = 30.0

    @property
    def configured(self) -> bool:
        return bool(self.url and self.gateway_token and self.sso_token)

    @classmethod
    def from_env(cls, env: Mapping | None = None) -> "SiasnConfig":
        """``SIASN_URL``, ``SIASN_GATEWAY_TOKEN``, ``SIASN_SSO_TOKEN``, ``SIASN_CODE_MAP`` (file path or
        inline JSON), ``SIASN_MAX_ATTEMPTS`` (4), ``SIASN_BACKOFF_SECONDS`` (0.5, doubled per retry,
        at most ``SIASN_MAX_BACKOFF_SECONDS``, 8) and ``SIASN_TIMEOUT_SECONDS`` (30)."""
        env = os.environ if env is None else env

        def get(name, default=None):
            value = env.get(name)
            return value if value not in (None, "") else default

        return cls(
            url=get("SIASN_URL"),
            gateway_token=get("SIASN_GATEWAY_TOKEN"),
            sso_token=get("SIASN_SSO_TOKEN"),
            codes=merge_codes(_load_code_map(get("SIASN_CODE_MAP"))),
            max_attempts=max(1, int(get("SIASN_MAX_ATTEMPTS", 4))),
            backoff_seconds=float(get("SIASN_BACKOFF_SECONDS", 0.5)),
            max_backoff_seconds=float(get("SIASN_MAX_BACKOFF_SECONDS", 8.0)),
            timeout_seconds=float(get("SIASN_TIMEOUT_SECONDS", 30.0)),
        )


# ------------------------------------------------------------------ payloads


def _get(obj, name: str, default=None):
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _code(codes: Mapping, table: str, key):
    value = (codes.get(table) or {}).get(str(key)) if key is not None else None
    if value in (None, ""):
        raise SiasnMappingError(table, key)
    return value


def _int(value):
    """A numeric code as an integer (SIASN's integer fields); anything else unchanged."""
    return int(value) if isinstance(value, str) and value.isdigit() else value


_GOLONGAN = re.compile(r"\b(IV|III|II|I)\s*/\s*([a-eA-E])\b")


def golongan_code(grade: str | None, codes: Mapping) -> str | None:
    if not grade:
        return None
    m = _GOLONGAN.search(grade)
    if m:
        key = f"{m.group(1)}/{m.group(2).lower()}"
        value = (codes.get("golongan") or {}).get(key)
        if value:
            return value
    return (codes.get("golongan") or {}).get(grade) or grade


def _penilai(ev, extra: Mapping, codes: Mapping) -> dict:
    nip = extra.get("penilai_nip", _get(ev, "penilai_nip"))
    status = extra.get("penilai_status")
    if status is None:
        status = "asn" if nip and re.fullmatch(r"\d{18}", str(nip)) else "non_asn"
    status = (codes.get("status") or {}).get(status, status)
    return {
        "penilaiNama": extra.get("penilai_name", _get(ev, "penilai_name")),
        "penilaiNipNrp": nip,
        "penilaiGolongan": golongan_code(extra.get("penilai_grade", _get(ev, "penilai_grade")), codes),
        "penilaiJabatan": extra.get("penilai_position", _get(ev, "penilai_position")),
        "penilaiUnorNama": extra.get("penilai_unit", _get(ev, "penilai_unit_name")),
        "statusPenilai": status,
    }


def _ratings(ev, codes: Mapping) -> dict:
    return {
        "hasilKinerjaNilai": _int(_code(codes, "rating", _get(ev, "rating_hasil"))),
        "perilakuKerjaNilai": _int(_code(codes, "rating", _get(ev, "rating_perilaku"))),
        "kuadranKinerjaNilai": _int(_code(codes, "kuadran", _get(ev, "predikat"))),
    }


def _employee_id(ev, extra: Mapping, codes: Mapping) -> str:
    nip = _get(ev, "employee_nip")
    return str(extra.get("siasn_id") or (codes.get("pns_id") or {}).get(str(nip)) or nip)


def skp22_payload(
    evaluation_row, person_extra: Mapping | None = None, *, year: int | None = None, codes: Mapping | None = None
) -> dict:
    """The ``POST /skp22/save`` body of an annual evaluation. ``evaluation_row`` is an
    :class:`Evaluation` (or a mapping with its column names); ``person_extra`` may carry
    ``siasn_id`` (the employee's SIASN id — else the NIP is used), ``year``, ``record_id`` (an
    existing SIASN record to update), ``penilai_status`` (``asn``/``non_asn``) and ``penilai_name``
    / ``penilai_nip`` / ``penilai_grade`` / ``penilai_position`` / ``penilai_unit`` overrides.
    A value without a code → :class:`SiasnMappingError`."""
    extra = person_extra or {}
    codes = codes or DEFAULT_CODES
    year = year or extra.get("year")
    if not year:
        raise SiasnMappingError("tahun", None)
    body = {
        "tahun": int(year),
        **_ratings(evaluation_row, codes),
        **_penilai(evaluation_row, extra, codes),
        "pnsDinilaiOrang": _employee_id(evaluation_row, extra, codes),
    }
    if extra.get("record_id"):
        body["id"] = str(extra["record_id"])
    return body


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


_MONTHS_PER_PERIOD = {"monthly": 1, "quarterly": 3, "semester": 6}


def period_bounds(cycle, seq: int) -> tuple[date, date]:
    """First and last day of period ``seq`` of ``cycle`` (a :class:`CycleRef` or mapping): from its
    ``periods`` list, else computed from ``year`` and ``period_type`` like the plans service does."""
    for pr in _get(cycle, "periods") or []:
        if _get(pr, "seq") == seq and _get(pr, "start") and _get(pr, "end"):
            return _as_date(_get(pr, "start")), _as_date(_get(pr, "end"))
    year, ptype = _get(cycle, "year"), _get(cycle, "period_type")
    months = _MONTHS_PER_PERIOD.get(ptype)
    if not year or not months or seq < 1 or seq * months > 12:
        raise SiasnMappingError("periode", seq)
    first, last = (seq - 1) * months + 1, seq * months
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def periodic_payload(
    evaluation_row, person_extra: Mapping | None = None, *, cycle=None, codes: Mapping | None = None
) -> dict:
    """The ``POST /kinerjaperiodik/save`` body of a periodic evaluation; ``cycle`` (a
    :class:`CycleRef` or mapping with ``year``, ``period_type``, ``periods``) gives the period's
    months and type. ``person_extra`` as for :func:`skp22_payload`, plus ``koefisien_id``."""
    extra = person_extra or {}
    codes = codes or DEFAULT_CODES
    if cycle is None:
        raise SiasnMappingError("periode", None)
    start, end = period_bounds(cycle, _get(evaluation_row, "period_seq"))
    penilai = _penilai(evaluation_row, extra, codes)
    penilai["penilaiJabatanNama"] = penilai.pop("penilaiJabatan")
    body = {
        "pnsDinilaiId": _employee_id(evaluation_row, extra, codes),
        "bulanMulaiPenilaian": start.month,
        "tahunMulaiPenilaian": start.year,
        "bulanSelesaiPenilaian": end.month,
        "tahunSelesaiPenilaian": end.year,
        "periodikId": str(_code(codes, "periodik", _get(cycle, "period_type"))),
        "tahun": end.year,
        **_ratings(evaluation_row, codes),
        **penilai,
    }
    if extra.get("koefisien_id"):
        body["koefisienId"] = str(extra["koefisien_id"])
    if extra.get("record_id"):
        body["id"] = str(extra["record_id"])
    return body


# ------------------------------------------------------------------ client

# (url, body, headers, timeout) -> (status, body text); raises on connection errors
Transport = Callable[[str, bytes, dict, float], tuple[int, str]]
RETRYABLE = (urllib.error.URLError, ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException, OSError)


def urllib_transport(url: str, body: bytes, headers: dict, timeout: float) -> tuple[int, str]:
    """POST with urllib; an HTTP error status is returned, a connection error raised."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        try:
            text = exc.read().decode("utf-8", "replace")
        finally:
            exc.close()
        return exc.code, text


@dataclass(frozen=True)
class SiasnResult:
    status: int | None  # None: no HTTP answer (connection error after the last attempt)
    body: str
    attempts: int

    @property
    def ok(self) -> bool:
        return is_success(self.status, self.body)


def is_success(status: int | None, body: str) -> bool:
    if status is None or not 200 <= status < 300:
        return False
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return True
    return not (isinstance(data, dict) and data.get("success") is False)


class SiasnClient:
    """POSTs JSON to SIASN with both bearer tokens; retries connection errors and 5xx with
    exponential backoff (``sleep`` is injectable), never a 4xx."""

    def __init__(self, config: SiasnConfig, http: Transport | None = None, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.http = http or urllib_transport
        self.sleep = sleep

    def headers(self) -> dict:
        return {
            "Authorization": f"Bearer {self.config.gateway_token}",
            "Auth": f"bearer {self.config.sso_token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def send(self, path: str, payload: dict) -> SiasnResult:
        url = (self.config.url or "").rstrip("/") + path
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        status, body = None, ""
        attempts = max(1, self.config.max_attempts)
        for attempt in range(1, attempts + 1):
            try:
                status, body = self.http(url, data, self.headers(), self.config.timeout_seconds)
            except ValueError as exc:  # a malformed SIASN_URL: retrying cannot help
                return SiasnResult(None, f"request error: {exc}", attempt)
            except RETRYABLE as exc:
                status, body = None, f"connection error: {type(exc).__name__}: {exc}"
            else:
                if status < 500:
                    return SiasnResult(status, body, attempt)
            if attempt < attempts:
                self.sleep(min(self.config.backoff_seconds * 2 ** (attempt - 1), self.config.max_backoff_seconds))
        return SiasnResult(status, body, attempts)

    def post(self, path: str, payload: dict) -> tuple[int | None, str]:
        result = self.send(path, payload)
        return result.status, result.body
