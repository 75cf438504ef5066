"""One request per endpoint of the matrix: given the world and the object (``own``, ``other``,
``agency``, or None for an endpoint without one), the method, path and a minimal valid body, so a
refusal is the access check's and not the body's.

Lists take their object through a filter and say, with ``seen``, whether the object is in the
answer: a list that answers 200 without the object hides it (a deny), one that shows it allows.
Writes that an allowed caller would spend (a webhook to delete) make a fresh object per case; the
other writes are idempotent or answer 409 once spent — after the access check, which every module
makes before the stage and state checks (a wrong order shows up as an unexpected allow)."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

from tests.authz.world import HOOK, NAPI, OTHER_PEERS, PDF, PEERS, PEOPLE, RAPI, SAPI, World
from tests.plans.support import API, NEW_A, STAFF_B

_seq = itertools.count(1)


@dataclass
class Req:
    path: str
    json: object = None
    data: object = None
    content_type: str | None = None
    headers: dict = field(default_factory=dict)
    seen: Callable | None = None  # lists: is the object in the 200 answer?
    missing_is_allow: bool = False  # static files: 404 is "no such file", not a refusal
    form: bool = False  # the public HTML form: fetch it first for its CSRF token
    etag_of: str | None = None  # a conditional write: send If-Match with this resource's current ETag
    real_server: bool = False  # through a real socket (the read-model rebuilds call this very server)


SPECS: dict[str, tuple[Callable[[World, str | None], Req], bool]] = {}


def spec(key: str, objects: bool = True):
    def deco(fn):
        SPECS[key] = (fn, objects)
        return fn

    return deco


def agency_of(obj: str) -> str:
    return "OTHER" if obj == "agency" else "PKMB"


def items_with(key: str, value) -> Callable:
    def seen(resp) -> bool:
        body = resp.get_json(silent=True) or {}
        items = body if isinstance(body, list) else body.get("items", [])
        return any(str(i.get(key)) == str(value) for i in items)

    return seen


def field_is(key: str, value) -> Callable:
    """An answer about one agency's settings: the one asked for (not the caller's own instead)."""

    def seen(resp) -> bool:
        return (resp.get_json(silent=True) or {}).get(key) == value

    return seen


AUDITED = {
    SAPI: ("campaign", "campaign"),
    RAPI: ("org_result", "org_result"),
    NAPI: ("webhook_subscription", "webhook"),
}


def audit(w, o, api: str) -> Req:
    """A service's audit log, filtered to the rows about the object: a person's (``subject``) in
    plans; in the others, whose rows name no person, an agency-level entity of the object's."""
    if api in AUDITED:
        entity, kind = AUDITED[api]
        eid = w.ids[kind][o]
        return Req(f"{api}/audit?limit=200&entity_type={entity}&entity_id={eid}", seen=items_with("entity_id", eid))
    return Req(f"{api}/audit?limit=200&subject={PEOPLE[o]}", seen=items_with("subject", PEOPLE[o]))


# ================================================================== public (every service)
for svc in ("plans", "reviews", "surveys", "notifications"):
    for name in ("healthz", "readyz", "metrics", "openapi.json", "asyncapi.json", "docs"):
        SPECS[f"GET /{svc}/{name}"] = ((lambda w, o, p=f"/{svc}/{name}": Req(p)), False)
SPECS["GET /static/<path:filename>"] = ((lambda w, o: Req("/static/none.css", missing_is_allow=True)), False)

# ================================================================== plans
P = API


@spec("POST /plans/api/v1/agencies", False)
def _(w, o):
    return Req(f"{P}/agencies", json={"code": f"AG{next(_seq)}", "name": "Instansi Uji"})


@spec("GET /plans/api/v1/agencies/<code>")
def _(w, o):
    return Req(f"{P}/agencies/{agency_of(o)}")


@spec("GET /plans/api/v1/audit")
def _(w, o):
    return audit(w, o, P)


@spec("GET /plans/api/v1/cycles")
def _(w, o):
    return Req(f"{P}/cycles?limit=200", seen=items_with("id", w.ids["cycle"][o]))


@spec("POST /plans/api/v1/cycles", False)
def _(w, o):
    return Req(f"{P}/cycles", json={"year": 2040 + next(_seq), "period_type": "semester"})


@spec("GET /plans/api/v1/cycles/<int:cycle_id>")
def _(w, o):
    return Req(f"{P}/cycles/{w.ids['cycle'][o]}")


@spec("POST /plans/api/v1/cycles/<int:cycle_id>/advance")
def _(w, o):
    return Req(f"{P}/cycles/{w.ids['cycle_w'][o]}/advance", json={})


@spec("PATCH /plans/api/v1/cycles/<int:cycle_id>/periods/<int:seq>")
def _(w, o):
    path = f"{P}/cycles/{w.ids['cycle_w'][o]}"
    year = 2028 if o == "other" else 2027  # the cycles of world._directory
    return Req(f"{path}/periods/1", json={"deadline": f"{year}-04-15"}, etag_of=path)


@spec("GET /plans/api/v1/daily-logs")
def _(w, o):
    return Req(f"{P}/daily-logs?employee_nip={PEOPLE[o]}", seen=items_with("employee_nip", PEOPLE[o]))


@spec("POST /plans/api/v1/daily-logs", False)
def _(w, o):
    return Req(f"{P}/daily-logs", json={"date": "2026-01-05", "activity": "Rapat koordinasi", "minutes": 30})


@spec("POST /plans/api/v1/directory/import", False)
def _(w, o):
    return Req(
        f"{P}/directory/import?kind=units&dry_run=true",
        data=b"code,name,parent_code\nUJI,Unit Uji,\n",
        content_type="text/csv",
    )


@spec("GET /plans/api/v1/employees")
def _(w, o):
    return Req(f"{P}/employees?limit=200", seen=items_with("nip", PEOPLE[o]))


@spec("POST /plans/api/v1/employees", False)
def _(w, o):
    body = {"nip": NEW_A, "name": "Pegawai Baru", "position": "Analis", "unit_code": "UMUM"}
    return Req(f"{P}/employees", json=body)


@spec("GET /plans/api/v1/employees/<nip>")
def _(w, o):
    return Req(f"{P}/employees/{PEOPLE[o]}")


@spec("PATCH /plans/api/v1/employees/<nip>")
def _(w, o):
    path = f"{P}/employees/{PEOPLE[o]}"
    return Req(path, json={"phone": "081234567890"}, etag_of=path)


@spec("POST /plans/api/v1/acting")
def _(w, o):
    # a Plt for the object's person from next year, so nobody's reach changes during the run
    acting = {"own": STAFF_B[1], "other": STAFF_B[2], "agency": PEOPLE["agency"]}[o]
    body = {"acting_nip": acting, "for_nip": PEOPLE[o], "kind": "plt", "start_date": "2027-01-01"}
    return Req(f"{P}/acting", json=body | {"end_date": "2027-01-31"})


@spec("GET /plans/api/v1/acting")
def _(w, o):
    return Req(f"{P}/acting?limit=200&for_nip={PEOPLE[o]}", seen=items_with("id", w.ids["acting"][o]))


@spec("GET /plans/api/v1/grants")
def _(w, o):
    return Req(f"{P}/grants?limit=200", seen=items_with("id", w.ids["grant"][o]))


@spec("POST /plans/api/v1/grants", False)
def _(w, o):
    expires = (w.org.app.extensions["kinerja"].today() + timedelta(days=30)).isoformat()
    body = {"client_id": f"prov-{next(_seq)}", "client_agency": "OTHER", "scope": "results:read"}
    return Req(f"{P}/grants", json=body | {"expires_on": expires})


@spec("POST /plans/api/v1/grants/<int:grant_id>/revoke")
def _(w, o):
    return Req(f"{P}/grants/{w.ids['grant'][o]}/revoke")


@spec("POST /plans/api/v1/acting/<int:acting_id>/end")
def _(w, o):
    # ends on the day it was to end anyway: allowed calls change nothing
    return Req(f"{P}/acting/{w.ids['acting'][o]}/end", json={"end_date": "2027-02-28"})


@spec("GET /plans/api/v1/evidence/<int:evidence_id>")
def _(w, o):
    return Req(f"{P}/evidence/{w.ids['evidence'][o]}")


@spec("POST /plans/api/v1/evidence/<int:evidence_id>/review")
def _(w, o):
    return Req(f"{P}/evidence/{w.ids['evidence'][o]}/review", json={"status": "accepted"})


@spec("GET /plans/api/v1/plans")
def _(w, o):
    return Req(f"{P}/plans?limit=200&employee_nip={PEOPLE[o]}", seen=items_with("id", w.ids["plan"][o]))


@spec("POST /plans/api/v1/plans", False)
def _(w, o):
    body = {"cycle_id": w.ids["cycle"]["own"], "approach": "kuantitatif", "rhk": [], "behaviour": {}}
    return Req(f"{P}/plans", json=body)


def plan_path(w, o, tail=""):
    return f"{P}/plans/{w.ids['plan'][o]}{tail}"


for _tail in ("", "/versions", "/versions/1", "/coverage", "/realisations", "/feedback", "/skp.pdf"):
    _key = {"": "/plans/<int:plan_id>", "/versions/1": "/plans/<int:plan_id>/versions/<int:revision>"}.get(
        _tail, f"/plans/<int:plan_id>{_tail}"
    )
    SPECS[f"GET {P}{_key}"] = ((lambda w, o, t=_tail: Req(plan_path(w, o, t))), True)

for _action in ("submit", "approve", "revise"):
    SPECS[f"POST {P}/plans/<int:plan_id>/{_action}"] = ((lambda w, o, a=_action: Req(plan_path(w, o, f"/{a}"))), True)


@spec("POST /plans/api/v1/plans/<int:plan_id>/return")
def _(w, o):
    return Req(plan_path(w, o, "/return"), json={"note": "Perbaiki target indikator."})


@spec("PUT /plans/api/v1/plans/<int:plan_id>")
def _(w, o):
    plan = w.ids["plan_body"][o]
    body = {"approach": plan["approach"], "behaviour": plan["behaviour"], "rhk": plan["rhk"]}
    return Req(plan_path(w, o), json=body, etag_of=plan_path(w, o))


@spec("PUT /plans/api/v1/plans/<int:plan_id>/behaviour")
def _(w, o):
    return Req(
        plan_path(w, o, "/behaviour"),
        json={"behaviour": {"akuntabel": "Laporan tepat waktu."}},
        etag_of=plan_path(w, o),
    )


@spec("GET /plans/api/v1/plans/cascade-options", False)
def _(w, o):
    return Req(f"{P}/plans/cascade-options?cycle_id={w.ids['cycle']['own']}")


@spec("POST /plans/api/v1/plans/<int:plan_id>/feedback")
def _(w, o):
    return Req(plan_path(w, o, "/feedback"), json={"value_code": "akuntabel", "text": "Laporan tepat waktu."})


@spec("POST /plans/api/v1/plans/<int:plan_id>/feedback/<int:feedback_id>/replies")
def _(w, o):
    return Req(plan_path(w, o, f"/feedback/{w.ids['feedback'][o]}/replies"), json={"text": "Terima kasih."})


def _iki(w, o) -> str:
    return w.ids["plan_body"][o]["rhk"][0]["iki"][0]["id"]


@spec("POST /plans/api/v1/plans/<int:plan_id>/realisations")
def _(w, o):
    return Req(plan_path(w, o, "/realisations"), json={"iki_id": _iki(w, o), "period_seq": 1, "value": 3})


@spec("POST /plans/api/v1/plans/<int:plan_id>/realisations:batch")
def _(w, o):
    return Req(plan_path(w, o, "/realisations:batch"), json=[{"iki_id": _iki(w, o), "period_seq": 1, "value": 3}])


@spec("POST /plans/api/v1/plans/<int:plan_id>/realisations/<int:realisation_id>/evidence")
def _(w, o):
    return Req(
        plan_path(w, o, f"/realisations/{w.ids['realisation'][o]}/evidence"),
        data={"file": (io.BytesIO(PDF), "bukti.pdf", "application/pdf")},
        content_type="multipart/form-data",
    )


@spec("GET /plans/api/v1/units")
def _(w, o):
    code = {"own": "SEK-A", "other": "INSP", "agency": "BIRO"}[o]
    return Req(f"{P}/units?limit=200", seen=items_with("code", code))


@spec("POST /plans/api/v1/units", False)
def _(w, o):
    return Req(f"{P}/units", json={"code": f"U{next(_seq)}", "name": "Unit Uji", "parent_code": "UMUM"})


# ================================================================== reviews
R = RAPI


def ev(w, o, tail=""):
    return f"{R}/evaluations/{w.ids['evaluation'][o]}{tail}"


def cyc(w, o) -> int:
    return w.ids["cycle"]["agency" if o == "agency" else "own"]


def unit(o) -> str:
    return {"own": "SEK-A", "other": "INSP", "agency": "BIRO"}[o]


@spec("GET /reviews/api/v1/audit")
def _(w, o):
    return audit(w, o, R)


@spec("GET /reviews/api/v1/calibration")
def _(w, o):
    return Req(f"{R}/calibration?cycle_id={cyc(w, o)}&period_seq=1")


@spec("POST /reviews/api/v1/calibration/check")
def _(w, o):
    return Req(f"{R}/calibration/check?cycle_id={cyc(w, o)}&period_seq=1&unit_code={unit(o)}")


@spec("POST /reviews/api/v1/calibration/overrides")
def _(w, o):
    body = {"cycle_id": cyc(w, o), "period_seq": 1, "unit_code": unit(o), "reason": "Unit kecil, kurva tidak berlaku."}
    return Req(f"{R}/calibration/overrides", json=body)


@spec("GET /reviews/api/v1/distribution-rules", False)
def _(w, o):
    return Req(f"{R}/distribution-rules")


@spec("PUT /reviews/api/v1/distribution-rules", False)
def _(w, o):
    return Req(f"{R}/distribution-rules", json={"rules": w.ids["distribution_rules"]})


@spec("GET /reviews/api/v1/evaluations")
def _(w, o):
    return Req(f"{R}/evaluations?limit=200&employee_nip={PEOPLE[o]}", seen=items_with("id", w.ids["evaluation"][o]))


for _tail in ("", "/suggestion", "/documents", "/document.pdf", "/peer-feedback", "/peer-proposal", "/adjustments"):
    SPECS[f"GET {R}/evaluations/<int:evaluation_id>{_tail}"] = ((lambda w, o, t=_tail: Req(ev(w, o, t))), True)
for _action in ("acknowledge", "countersign", "sign"):
    SPECS[f"POST {R}/evaluations/<int:evaluation_id>/{_action}"] = (
        (lambda w, o, a=_action: Req(ev(w, o, f"/{a}"))),
        True,
    )


@spec("POST /reviews/api/v1/evaluations/documents:verify")
def _(w, o):
    """The object's stored PDF: an allowed caller is told it is authentic, a refused one that it is unknown."""
    pdf = w.ids["document_pdf"][o]
    return Req(
        f"{R}/evaluations/documents:verify",
        data={"file": (io.BytesIO(pdf), "penilaian.pdf", "application/pdf")},
        content_type="multipart/form-data",
        seen=lambda resp: (resp.get_json(silent=True) or {}).get("verdict") == "authentic",
    )


SELF = {"achievements": "Dokumen selesai.", "challenges": "Data terlambat.", "improvement_plan": "Jadwal dimajukan."}


@spec("PUT /reviews/api/v1/evaluations/<int:evaluation_id>/self-assessment")
def _(w, o):
    return Req(ev(w, o, "/self-assessment"), json=SELF, etag_of=ev(w, o))


@spec("POST /reviews/api/v1/evaluations/<int:evaluation_id>/self-assessment/submit")
def _(w, o):
    return Req(ev(w, o, "/self-assessment/submit"), json=SELF)


@spec("PUT /reviews/api/v1/evaluations/<int:evaluation_id>/rating")
def _(w, o):
    body = {"rating_hasil": "meets", "rating_perilaku": "meets", "deviation_reason": "Sesuai bukti dukung."}
    return Req(ev(w, o, "/rating"), json=body, etag_of=ev(w, o))


@spec("POST /reviews/api/v1/evaluations/<int:evaluation_id>/adjust")
def _(w, o):
    return Req(ev(w, o, "/adjust"), json={"rating_hasil": "meets", "reason": "Kalibrasi unit."})


@spec("POST /reviews/api/v1/evaluations/<int:evaluation_id>/objections")
def _(w, o):
    return Req(ev(w, o, "/objections"), json={"reasons": "Bukti belum dipertimbangkan."})


@spec("POST /reviews/api/v1/evaluations/<int:evaluation_id>/peers")
def _(w, o):
    return Req(ev(w, o, "/peers"), json={"rater_nips": OTHER_PEERS} if o == "agency" else PEERS)


@spec("PUT /reviews/api/v1/evaluations/<int:evaluation_id>/peer-proposal")
def _(w, o):
    return Req(ev(w, o, "/peer-proposal"), json={"rater_nips": OTHER_PEERS} if o == "agency" else PEERS)


@spec("POST /reviews/api/v1/evaluations/<int:evaluation_id>/peer-feedback")
def _(w, o):
    return Req(ev(w, o, "/peer-feedback"), json={"answers": {"kolaboratif": "meets"}, "comment": "Rekan sigap."})


@spec("GET /reviews/api/v1/followups")
def _(w, o):
    return Req(f"{R}/followups?limit=200&cycle_id={cyc(w, o)}", seen=items_with("id", w.ids["followup"][o]))


@spec("GET /reviews/api/v1/followups/<int:followup_id>")
def _(w, o):
    return Req(f"{R}/followups/{w.ids['followup'][o]}")


@spec("PATCH /reviews/api/v1/followups/<int:followup_id>")
def _(w, o):
    path = f"{R}/followups/{w.ids['followup'][o]}"
    return Req(path, json={"recommendation": "Pelatihan analisis data."}, etag_of=path)


@spec("GET /reviews/api/v1/objections")
def _(w, o):
    return Req(f"{R}/objections?limit=200", seen=items_with("id", w.ids["objection"][o]))


@spec("GET /reviews/api/v1/objections/<int:objection_id>")
def _(w, o):
    return Req(f"{R}/objections/{w.ids['objection'][o]}")


@spec("POST /reviews/api/v1/objections/<int:objection_id>/decide")
def _(w, o):
    body = {"decision": "upheld", "reason": "Nilai sesuai bukti dukung."}
    return Req(f"{R}/objections/{w.ids['objection'][o]}/decide", json=body)


@spec("POST /reviews/api/v1/objections/<int:objection_id>/statements")
def _(w, o):
    return Req(f"{R}/objections/{w.ids['objection'][o]}/statements", json={"text": "Lampiran foto kegiatan."})


@spec("GET /reviews/api/v1/org-results")
def _(w, o):
    return Req(f"{R}/org-results?cycle_id={cyc(w, o)}&period_seq=1", seen=items_with("unit_code", unit(o)))


@spec("PUT /reviews/api/v1/org-results")
def _(w, o):
    body = {"cycle_id": cyc(w, o), "period_seq": 1, "unit_code": unit(o), "result": "BAIK"}
    return Req(f"{R}/org-results", json=body)


@spec("GET /reviews/api/v1/rater-consistency")
def _(w, o):
    return Req(f"{R}/rater-consistency?cycle_id={cyc(w, o)}&period_seq=1")


@spec("GET /reviews/api/v1/results")
def _(w, o):
    return Req(f"{R}/results?limit=200&unit_code={unit(o)}", seen=items_with("evaluation_id", w.ids["result"][o]))


@spec("POST /reviews/api/v1/read-model/rebuild", False)
def _(w, o):
    return Req(f"{R}/read-model/rebuild", real_server=True)


@spec("POST /reviews/api/v1/siasn/push")
def _(w, o):
    return Req(f"{R}/siasn/push", json={"cycle_id": cyc(w, o), "kind": "periodic"})


@spec("GET /reviews/api/v1/siasn/pushes")
def _(w, o):
    return Req(f"{R}/siasn/pushes?cycle_id={cyc(w, o)}")


@spec("GET /reviews/api/v1/siasn/export")
def _(w, o):
    return Req(f"{R}/siasn/export?cycle_id={cyc(w, o)}&kind=skp22&format=csv")


@spec("GET /reviews/api/v1/siasn/status")
def _(w, o):
    return Req(f"{R}/siasn/status?cycle_id={cyc(w, o)}")


@spec("POST /reviews/api/v1/siasn/uploaded")
def _(w, o):
    body = {"cycle_id": cyc(w, o), "kind": "periodic", "evaluation_ids": [w.ids["evaluation"][o]], "note": "unggah"}
    return Req(f"{R}/siasn/uploaded", json=body)


# ================================================================== surveys
S = SAPI


def camp(w, o, tail="", kind="campaign"):
    return f"{S}/campaigns/{w.ids[kind][o]}{tail}"


ANSWERS = {f"U{i}": 4 for i in range(1, 10)}


@spec("GET /surveys/api/v1/audit")
def _(w, o):
    return audit(w, o, S)


@spec("GET /surveys/api/v1/campaigns")
def _(w, o):
    return Req(f"{S}/campaigns?limit=200", seen=items_with("id", w.ids["campaign"][o]))


@spec("POST /surveys/api/v1/campaigns", False)
def _(w, o):
    return Req(f"{S}/campaigns", json=w.ids["campaign_body"])


for _tail in ("", "/ikm", "/qr", "/report", "/report.html", "/report.pdf", "/suggestions", "/tokens"):
    SPECS[f"GET {S}/campaigns/<int:campaign_id>{_tail}"] = ((lambda w, o, t=_tail: Req(camp(w, o, t))), True)
for _action in ("open", "close", "ikm:publish"):
    SPECS[f"POST {S}/campaigns/<int:campaign_id>/{_action}"] = (
        (lambda w, o, a=_action: Req(camp(w, o, f"/{a}", "campaign_w"))),
        True,
    )


@spec("PATCH /surveys/api/v1/campaigns/<int:campaign_id>")
def _(w, o):
    return Req(camp(w, o), json={"title": "Survei kepuasan layanan"}, etag_of=camp(w, o))


@spec("POST /surveys/api/v1/campaigns/<int:campaign_id>/tokens")
def _(w, o):
    return Req(camp(w, o, "/tokens", "campaign_w"), json={"count": 1})  # tokens would close the open form


@spec("POST /surveys/api/v1/campaigns/<int:campaign_id>/responses")
def _(w, o):
    return Req(camp(w, o, "/responses"), json={"answers": ANSWERS, "profile": {}})


@spec("POST /surveys/api/v1/campaigns/<int:campaign_id>/responses:batch")
def _(w, o):
    return Req(camp(w, o, "/responses:batch"), json=[{"answers": ANSWERS, "profile": {}}])


@spec("POST /surveys/api/v1/campaigns/<int:campaign_id>/responses:import")
def _(w, o):
    csv = ",".join(ANSWERS) + "\n" + ",".join("4" for _ in ANSWERS) + "\n"
    return Req(camp(w, o, "/responses:import?dry_run=true"), data=csv.encode(), content_type="text/csv")


@spec("GET /surveys/api/v1/ikm", False)
def _(w, o):
    return Req(f"{S}/ikm")


@spec("GET /surveys/api/v1/sample-size", False)
def _(w, o):
    return Req(f"{S}/sample-size?population=1000")


@spec("GET /surveys/api/v1/public/<slug>")
def _(w, o):
    return Req(f"{S}/public/{w.ids['slug'][o]}")


@spec("POST /surveys/api/v1/public/<slug>/responses")
def _(w, o):
    return Req(f"{S}/public/{w.ids['slug'][o]}/responses", json={"answers": ANSWERS, "profile": {}})


@spec("GET /surveys/s/<slug>")
def _(w, o):
    return Req(f"/surveys/s/{w.ids['slug'][o]}")


@spec("POST /surveys/s/<slug>")
def _(w, o):
    return Req(f"/surveys/s/{w.ids['slug'][o]}", data={k: "4" for k in ANSWERS}, form=True)


@spec("GET /surveys/s/<slug>/qr.<kind>")
def _(w, o):
    return Req(f"/surveys/s/{w.ids['slug'][o]}/qr.svg")


@spec("GET /surveys/s/<slug>/thanks")
def _(w, o):
    return Req(f"/surveys/s/{w.ids['slug'][o]}/thanks")


@spec("POST /surveys/api/v1/read-model/rebuild", False)
def _(w, o):
    return Req(f"{S}/read-model/rebuild", real_server=True)


@spec("GET /surveys/results/<agency>")
def _(w, o):
    return Req(f"/surveys/results/{w.ids['campaign_closed'][o][0]}")


@spec("GET /surveys/results/<agency>/<int:campaign_id>")
def _(w, o):
    agency, campaign_id = w.ids["campaign_closed"][o]
    return Req(f"/surveys/results/{agency}/{campaign_id}")


# ================================================================== notifications
N = NAPI


def ag(o) -> str:
    return agency_of(o)


for _name in ("agency-settings", "hr-contacts", "rules"):
    SPECS[f"GET {N}/{_name}"] = (
        (lambda w, o, n=_name: Req(f"{N}/{n}?agency_code={ag(o)}", seen=field_is("agency_code", ag(o)))),
        True,
    )


@spec("PUT /notifications/api/v1/agency-settings")
def _(w, o):
    return Req(f"{N}/agency-settings?agency_code={ag(o)}", json={"apprise_urls": []})


@spec("PUT /notifications/api/v1/hr-contacts")
def _(w, o):
    contact = {"name": "Bagian Kepegawaian", "email": f"kepegawaian@{ag(o).lower()}.go.id"}
    return Req(f"{N}/hr-contacts?agency_code={ag(o)}", json={"contacts": [contact]})


@spec("PUT /notifications/api/v1/rules")
def _(w, o):
    return Req(f"{N}/rules?agency_code={ag(o)}", json={"rules": w.ids["rules"]})


@spec("DELETE /notifications/api/v1/rules")
def _(w, o):
    return Req(f"{N}/rules?agency_code={ag(o)}")


@spec("GET /notifications/api/v1/audit")
def _(w, o):
    return audit(w, o, N)


@spec("GET /notifications/api/v1/deliveries")
def _(w, o):
    return Req(f"{N}/deliveries?limit=200&recipient_nip={PEOPLE[o]}", seen=items_with("id", w.ids["delivery"][o]))


@spec("GET /notifications/api/v1/deliveries/<int:delivery_id>")
def _(w, o):
    return Req(f"{N}/deliveries/{w.ids['delivery'][o]}")


@spec("POST /notifications/api/v1/dispatch", False)
def _(w, o):
    return Req(f"{N}/dispatch")


@spec("GET /notifications/api/v1/inbox")
def _(w, o):
    return Req(f"{N}/inbox?limit=200", seen=items_with("id", w.ids["notification"][o]))


@spec("GET /notifications/api/v1/inbox/<int:notification_id>")
def _(w, o):
    return Req(f"{N}/inbox/{w.ids['notification'][o]}")


@spec("POST /notifications/api/v1/inbox/<int:notification_id>/read")
def _(w, o):
    return Req(f"{N}/inbox/{w.ids['notification'][o]}/read")


@spec("POST /notifications/api/v1/inbox/read-all", False)
def _(w, o):
    return Req(f"{N}/inbox/read-all")


@spec("GET /notifications/api/v1/inbox/unread-count", False)
def _(w, o):
    return Req(f"{N}/inbox/unread-count")


@spec("GET /notifications/api/v1/preferences", False)
def _(w, o):
    return Req(f"{N}/preferences")


@spec("PATCH /notifications/api/v1/preferences", False)
def _(w, o):
    return Req(f"{N}/preferences", json={"digest": False})


@spec("POST /notifications/api/v1/read-model/rebuild", False)
def _(w, o):
    return Req(f"{N}/read-model/rebuild", real_server=True)


@spec("POST /notifications/api/v1/reminders")
def _(w, o):
    body = {
        "batch_key": f"authz-{next(_seq)}",
        "template": "reminder.generic",
        "recipients": [{"nip": PEOPLE[o]}],
        "params": {"task": "Mengisi realisasi SKP"},
        "agency_code": ag(o),
    }
    return Req(f"{N}/reminders", json=body)


@spec("GET /notifications/api/v1/reminders/<batch_key>")
def _(w, o):
    return Req(f"{N}/reminders/{w.ids['batch'][o]}?agency_code={ag(o)}")


@spec("POST /notifications/api/v1/reminders/<batch_key>/escalate")
def _(w, o):
    return Req(f"{N}/reminders/{w.ids['batch'][o]}/escalate?agency_code={ag(o)}", json={"to": "none"})


@spec("GET /notifications/api/v1/webhooks")
def _(w, o):
    return Req(f"{N}/webhooks?limit=200", seen=items_with("id", w.ids["webhook"][o]))


@spec("POST /notifications/api/v1/webhooks")
def _(w, o):
    return Req(f"{N}/webhooks", json=HOOK | {"agency_code": ag(o)})


def hook(w, o, tail=""):
    return f"{N}/webhooks/{w.ids['webhook'][o]}{tail}"


@spec("GET /notifications/api/v1/webhooks/<int:subscription_id>")
def _(w, o):
    return Req(hook(w, o))


@spec("PATCH /notifications/api/v1/webhooks/<int:subscription_id>")
def _(w, o):
    return Req(hook(w, o), json={"description": "Sinkronisasi BKD"})


@spec("DELETE /notifications/api/v1/webhooks/<int:subscription_id>")
def _(w, o):
    return Req(f"{N}/webhooks/{w.fresh_webhook(o)}")  # an allowed delete spends it


@spec("GET /notifications/api/v1/webhooks/<int:subscription_id>/deliveries")
def _(w, o):
    return Req(hook(w, o, "/deliveries?limit=200"))


@spec("POST /notifications/api/v1/webhooks/<int:subscription_id>/rotate-secret")
def _(w, o):
    return Req(hook(w, o, "/rotate-secret"))


@spec("POST /notifications/api/v1/webhooks/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
def _(w, o):
    return Req(hook(w, o, f"/deliveries/{w.ids['hook_delivery'][o]}/redeliver"))
