"""``kinerja hr cycle``: open an evaluation cycle, advance it one step, and its status (stages and
deadlines, plans and evaluations per unit, calibration against the curve)."""

from __future__ import annotations

from collections import Counter

import click

from . import report as rp
from .hr_api import HrError, api_errors, client_of
from .hr_output import bar, heading, progress, table
from .http import ApiError
from .report import P


@click.group()
def cycle():
    """Periode penilaian: buka, status, maju tahap (evaluation cycles)."""


def _periods_table(c: dict) -> str:
    headers, rows = rp.period_rows(c)
    return table([h.replace(" (", "\n(") for h in headers], rows)


def _period_title(c: dict, seq: int) -> tuple[str, str]:
    """A period's name in Bahasa and English, for headings."""
    if seq == 0:
        return "Tahunan", "annual"
    p = next((p for p in c.get("periods", []) if p["seq"] == seq), None)
    return (p["name_id"], p["name_en"]) if p else (f"Periode {seq}", f"period {seq}")


@cycle.command("open")
@click.option("--year", type=int, required=True)
@click.option("--period-type", type=click.Choice(["monthly", "quarterly", "semester"]), required=True)
@click.option(
    "--planning-deadline",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Batas penyusunan SKP (planning deadline), YYYY-MM-DD.",
)
@click.option("--name", default=None, help="Nama periode (default: Penilaian Kinerja <tahun>).")
@click.pass_context
@api_errors
def cycle_open(ctx, year, period_type, planning_deadline, name):
    """Buat periode penilaian dan masuk tahap perencanaan (create the cycle, draft → planning).
    Aman diulang (safe to repeat): an existing cycle of that year and name is reused."""
    client = client_of(ctx)
    body = {"year": year, "period_type": period_type}
    if planning_deadline:
        body["planning_deadline"] = planning_deadline.date().isoformat()
    if name:
        body["name"] = name
    try:
        c = client.post(f"{P}/cycles", body)
        click.echo(f"Periode penilaian dibuat (cycle created): #{c['id']} {c['name']}")
    except ApiError as exc:
        if exc.code != "cycle.exists":
            raise
        wanted = name or f"Penilaian Kinerja {year}"
        found = [x for x in client.paginate(f"{P}/cycles", {"year": year}) if x["name"] == wanted]
        if not found:
            raise
        c = found[0]
        click.echo(f"Periode penilaian sudah ada (cycle already exists): #{c['id']} {c['name']}")
    if c["state"] == "draft":
        try:
            after = client.post(f"{P}/cycles/{c['id']}/advance", {"expected": "draft"})
            click.echo(f"Tahap (stage): {rp.state_text(c)} → {rp.state_text(after)}")
            c = after
        except ApiError as exc:
            if exc.status != 409:
                raise
            c = client.get(f"{P}/cycles/{c['id']}")
            click.echo(f"Tahap saat ini (current stage): {rp.state_text(c)} [{c['state']}]")
    else:
        click.echo(f"Tahap saat ini (current stage): {rp.state_text(c)} [{c['state']}]; tidak diubah (unchanged)")
    heading("Tahapan dan tenggat", "stages and deadlines")
    click.echo(_periods_table(c))
    click.echo(f"\nID periode (cycle id): {c['id']}")


@cycle.command("advance")
@click.argument("cycle_id", type=int)
@click.option(
    "--expected",
    default=None,
    help="Tahap yang diharapkan, mis. planning atau monitoring:2:self_assessment (expected state); "
    "default: the state read just before.",
)
@click.pass_context
@api_errors
def cycle_advance(ctx, cycle_id, expected):
    """Majukan periode satu langkah (advance the cycle one step)."""
    client = client_of(ctx)
    before = client.get(f"{P}/cycles/{cycle_id}")
    expected = expected or before["state"]
    try:
        after = client.post(f"{P}/cycles/{cycle_id}/advance", {"expected": expected})
    except ApiError as exc:
        if exc.status != 409:
            raise
        now = client.get(f"{P}/cycles/{cycle_id}")
        raise HrError(
            f"tahap tidak sesuai (not at the expected stage): diharapkan (expected) {expected}; "
            f"tahap saat ini (current stage): {now['state']} — {rp.state_text(now)}. "
            f"Tidak ada yang diubah (nothing changed)."
        )
    click.echo(f"Periode #{cycle_id} {after['name']}: {before['state']} → {after['state']}")
    click.echo(f"  {rp.state_text(before)} → {rp.state_text(after)}")


@cycle.command("status")
@click.argument("cycle_id", type=int)
@click.pass_context
@api_errors
def cycle_status(ctx, cycle_id):
    """Tahap, tenggat dan kelengkapan per unit (state, deadlines and completion per unit)."""
    client = client_of(ctx)
    ov = rp.gather_overview(client, cycle_id, progress=progress)
    c = ov["cycle"]
    click.secho(
        f"{ov['agency']['name']} ({ov['agency']['code']}) — #{c['id']} {c['name']} ({c['period_type']})", bold=True
    )
    click.echo(f"Tahap (stage): {rp.state_text(c)} [{c['state']}]")
    heading("Tahapan dan tenggat", "stages and deadlines")
    click.echo(_periods_table(c))

    heading("SKP per unit dan status", "plans per unit by status")
    shown = [
        s for s in rp.PLAN_STATUSES if s != "revised" or any(x.get("revised") for x in ov["plans_per_unit"].values())
    ]
    rows = []
    totals = Counter()
    for u in ov["units"]:
        counts = ov["plans_per_unit"].get(u["code"], Counter())
        staff = rp.staff_of(ov, u["code"])
        none = staff - sum(counts.values())
        totals.update(counts)
        totals["_none"] += none
        totals["_staff"] += staff
        rows.append(
            [
                "  " * u["depth"] + u["code"],
                u["name"][:32],
                *(counts.get(s, 0) for s in shown),
                none,
                bar(counts.get("approved", 0), staff),
            ]
        )
    rows.append(
        [
            "Jumlah",
            "(total)",
            *(totals.get(s, 0) for s in shown),
            totals["_none"],
            bar(totals.get("approved", 0), totals["_staff"]),
        ]
    )
    headers = [
        "Unit",
        "Nama\n(name)",
        *(f"{rp.LABELS[s][0]}\n({s})" for s in shown),
        "Belum ada\n(no plan)",
        "Disetujui/pegawai\n(approved/staff)",
    ]
    click.echo(table(headers, rows, right=set(range(2, 3 + len(shown)))))

    for seq in sorted(ov["evaluations"], key=lambda s: (s == 0, s)):
        evs = ov["evaluations"][seq]
        t_id, t_en = _period_title(c, seq)
        heading(f"Evaluasi per unit dan status — {t_id}", f"evaluations per unit by status, {t_en}")
        if not evs:
            click.echo("Belum ada evaluasi (no evaluations yet).")
            continue
        per_unit: dict[str, Counter] = {}
        for e in evs:
            per_unit.setdefault(e["unit_code"], Counter())[e["status"]] += 1
        order = [u["code"] for u in ov["units"] if u["code"] in per_unit] + sorted(
            set(per_unit) - {u["code"] for u in ov["units"]}
        )
        rows = []
        for code in order:
            cnt = per_unit[code]
            total = sum(cnt.values())
            rows.append(
                [
                    code,
                    *(cnt.get(s, 0) for s in rp.EVAL_STATUSES),
                    bar(sum(cnt.get(s, 0) for s in rp.EVAL_RATED), total, 12),
                ]
            )
        allc = Counter(e["status"] for e in evs)
        rows.append(
            [
                "Jumlah (total)",
                *(allc.get(s, 0) for s in rp.EVAL_STATUSES),
                bar(sum(allc.get(s, 0) for s in rp.EVAL_RATED), len(evs), 12),
            ]
        )
        click.echo(
            table(
                ["Unit", *(f"{rp.LABELS[s][0]}\n({s})" for s in rp.EVAL_STATUSES), "Dinilai/jumlah\n(rated/total)"],
                rows,
                right=set(range(1, 1 + len(rp.EVAL_STATUSES))),
            )
        )

    for seq, cal in sorted(ov["calibration"].items(), key=lambda kv: (kv[0] == 0, kv[0])):
        t_id, t_en = _period_title(c, seq)
        heading(f"Kalibrasi — {t_id}", f"calibration per unit, {t_en}")
        rows = []
        for u in cal.get("units", []):
            org = u.get("org_result") or "–"
            viol = "; ".join(rp.violation_text(v) for v in u["violations"]) or (
                "hasil organisasi belum ada (no org result)" if u.get("missing_org_result") else "sesuai (on the curve)"
            )
            rows.append(
                [
                    u["unit_code"],
                    org,
                    u["headcount"],
                    u.get("unrated", 0),
                    " ".join(f"{rp.PREDIKAT_SHORT[b['predikat']]}:{b['count']}" for b in u["bands"]),
                    "ya (yes)" if u.get("override") else "–",
                    "ya (yes)" if u.get("sign_off_blocked") else "tidak (no)",
                    viol,
                ]
            )
        click.echo(
            table(
                [
                    "Unit",
                    "Hasil org.\n(org result)",
                    "Pegawai\n(staff)",
                    "Belum dinilai\n(unrated)",
                    "Predikat\n(counts)",
                    "Pengecualian\n(override)",
                    "TTD diblokir\n(sign-off blocked)",
                    "Pelanggaran\n(violations)",
                ],
                rows,
                right={2, 3},
            )
        )
    for note in ov["notes"]:
        click.echo(f"\nCatatan (note): {note}")
