"""A machine client of an agency (role ``agency``) receives by webhook only events that name no one's
plan, progress, appraisal or objection: the directory, the cycles, the calibration's verdict per
unit and the surveys' campaigns and index. A subscription (or a change of one) naming another
event type is refused field by field and nothing is saved; HR still subscribes to anything
(issue 14, defect 4)."""

from __future__ import annotations

from services.notifications.models import Delivery, WebhookSubscription
from tests.plans.support import KASI_A, STAFF_A, problem

PERSON_LEVEL_PATTERNS = [
    "#",
    "*.*.*",
    "plans.#",
    "plans.plan.*",
    "plans.plan.returned",
    "plans.realisation.recorded",
    "plans.feedback.given",
    "plans.*.given",
    "reviews.#",
    "reviews.evaluation.#",
    "reviews.self_assessment.submitted",
    "reviews.objection.*",
    "reviews.followup.planned",
]
MACHINE_PATTERNS = [
    "plans.unit.upserted",
    "plans.employee.#",
    "plans.cycle.*",
    "reviews.calibration.violation_found",
    "surveys.campaign.*",
    "surveys.response.recorded",
    "surveys.ikm.#",
]
FEEDBACK = {
    "feedback_id": 1,
    "plan_id": 5,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "employee_nip": STAFF_A[0],
    "giver_nip": KASI_A,
    "rhk_id": None,
    "value_code": "akuntabel",
    "period_seq": 1,
    "text": "Laporan Rina terlambat lagi.",
}
RESPONSE = {
    "campaign_id": 3,
    "agency_code": "PKMB",
    "unit_code": "SEK-A",
    "channel": "kiosk",
    "count": 1,
    "first_response_id": 41,
    "last_response_id": 41,
    "respondents": 12,
}


def _client(org, sub="bkd-sync"):
    return org.tokens.headers("agency", agency="PKMB", sub=sub, scope="webhooks:manage")


def test_a_machine_client_cannot_subscribe_to_person_level_events(notif, org, receiver):
    client = _client(org)
    body = problem(notif.post("/webhooks", client, {"url": receiver.url, "event_types": PERSON_LEVEL_PATTERNS}), 422)
    refused = {e["field"]: e["code"] for e in body["errors"]}
    assert refused == {f"event_types[{i}]": "webhook.person_data" for i in range(len(PERSON_LEVEL_PATTERNS))}
    assert "plans.cycle" in body["errors"][0]["detail"]  # the detail names what it may subscribe to
    assert notif.rows(WebhookSubscription) == []
    # one bad pattern among good ones is enough to refuse the lot
    mixed = [*MACHINE_PATTERNS, "reviews.objection.decided"]
    body = problem(notif.post("/webhooks", client, {"url": receiver.url, "event_types": mixed}), 422)
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        (f"event_types[{len(MACHINE_PATTERNS)}]", "webhook.person_data")
    ]
    assert notif.rows(WebhookSubscription) == []


def test_a_machine_client_subscribes_to_aggregates_and_receives_only_them(notif, org, receiver):
    client = _client(org)
    r = notif.post("/webhooks", client, {"url": receiver.url, "event_types": MACHINE_PATTERNS})
    assert r.status_code == 201, r.get_json()
    sub = r.get_json()
    # widening it later is refused too, and leaves it as it was
    body = problem(notif.patch(f"/webhooks/{sub['id']}", client, {"event_types": ["reviews.#"]}), 422)
    assert body["errors"][0] == body["errors"][0] | {"field": "event_types[0]", "code": "webhook.person_data"}
    assert notif.get(f"/webhooks/{sub['id']}", client).get_json()["event_types"] == MACHINE_PATTERNS
    notif.publish("plans.feedback.given", FEEDBACK)
    env = notif.publish("surveys.response.recorded", RESPONSE)
    notif.dispatch(channels_=("webhook",))
    assert [req.json()["id"] for req in receiver.requests] == [env["id"]]
    assert all("Rina" not in req.body.decode() for req in receiver.requests)


def test_hr_still_subscribes_to_every_event(notif, org, receiver):
    r = notif.post("/webhooks", org.hr, {"url": receiver.url, "event_types": ["#"]})
    assert r.status_code == 201, r.get_json()
    env = notif.publish("plans.feedback.given", FEEDBACK)
    notif.dispatch(channels_=("webhook",))
    assert [req.json()["id"] for req in receiver.requests] == [env["id"]]
    assert [d.event_type for d in notif.rows(Delivery, Delivery.channel == "webhook")] == ["plans.feedback.given"]
