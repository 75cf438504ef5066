"""What the demo shows of its summary: the headline keys an HR reader (and a script) looks for
first, and the printed account (bars of plans and predikat, calibration, objections, notifications,
flow runs)."""

from __future__ import annotations

from collections import Counter


def headline(summary: dict) -> dict:
    """The keys an HR reader (and a script) looks for first."""
    r = summary["reviews"]
    return {
        "employees": summary["agency"]["employees"],
        "plans": summary["plans_by_status"],
        "evaluations": r["status"],
        "predikat": r["predikat_by_unit"],
        "objections": {k: v for k, v in r["objections"].items() if k != "filed"} | {"filed": r["objections"]["filed"]},
        "ikm": [
            {
                "campaign": v["campaign"],
                "unit": unit,
                "respondents": v["respondents"],
                "ikm_unit": v["ikm_unit"],
                "mutu": v["mutu"],
            }
            for unit, v in r["surveys"]["units"].items()
        ],
        "notifications": {
            ch: sum(v.values()) if ch != "email" else v.get("queued", 0) for ch, v in r["notifications"].items()
        },
        "flow_runs": summary["flow_runs"],
        "daily_logs": summary["daily_logs"],
        "seconds": summary["elapsed_seconds"],
    }


def print_summary(summary: dict, say) -> None:
    say("\nSKP per status / plans by status:")
    _histogram(summary["plans_by_status"], 10, say)
    c = summary["cascade"]
    say(
        f"\nCascading (RHK pimpinan yang diintervensi): {c['superior_rhk_supported']}/{c['superior_rhk']} RHK atasan "
        f"didukung ({c['coverage_percent']} %), {c['supervisors_fully_covered']}/{c['supervisors']} atasan penuh"
    )
    say(
        f"  bawahan tanpa dukungan / idle subordinates: {c['idle_subordinates']}; "
        f"belum punya SKP / without plan: {c['subordinates_without_plan']}"
    )
    r = summary["reviews"]
    say(
        f"\nPenilaian tahunan / annual evaluations: {r['annual_evaluations']} "
        f"({', '.join(f'{k} {v}' for k, v in r['status'].items())})"
    )
    _histogram(r["predikat"], 18, say)
    c = r["calibration"]
    say(
        f"Kalibrasi / calibration: {c['units_in_violation']}/{c['units']} unit melanggar kurva "
        f"({c['violations']} pelanggaran), {c['overrides']} pengecualian HR / overrides"
    )
    o = r["objections"]
    say(f"Keberatan / objections: {o['filed']} diajukan, {o.get('changed', 0)} diubah, {o.get('upheld', 0)} ditolak")
    say(f"Tindak lanjut / follow-up: {r['followups']}")
    n = r["notifications"]
    say(
        "Notifikasi / notifications: "
        + ", ".join(
            f"{ch} {sum(v.values())} ({', '.join(f'{k} {c}' for k, c in sorted(v.items()))})"
            for ch, v in sorted(n.items())
        )
    )
    runs = summary["flow_runs"]
    states = ", ".join(f"{k} {v}" for k, v in Counter(r["state"] for r in runs).items())
    say(f"Alur Prefect / flow runs: {len(runs)} ({states}); siklus / cycle: {summary['cycle']['state']}")
    say(f"Catatan harian / daily logs: {summary['daily_logs']}")
    say(f"\nPeristiwa / events published: {summary['events']['published']} (pending {summary['events']['pending']})")
    say(f"Waktu / time: {summary['elapsed_seconds']} s, {summary['http_calls']} HTTP calls")


def _histogram(counts: dict[str, int], width: int, say) -> None:
    """One line per key: the key, its count and a bar (a block per five)."""
    for key, n in counts.items():
        say(f"  {key:<{width}} {n:>4}  {'█' * max(1, round(n / 5))}")
