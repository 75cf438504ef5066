"""Apprise URLs (a per-person or per-agency setting, here ``json://`` to a local receiver: no
internet), the metrics per channel and status, the catalogue's events, and the rule that
nothing a client sends causes a 500."""

from __future__ import annotations

import itertools

from services.notifications.events import CONSUMES, PUBLISHES
from services.notifications.models import Delivery
from tests.plans.support import KASI_A, STAFF_A, problem

RINA = STAFF_A[0]
PLAN = {
    "plan_id": 5,
    "cycle_id": 1,
    "agency_code": "PKMB",
    "employee_nip": RINA,
    "penilai_nip": KASI_A,
    "unit_code": "SEK-A",
    "status": "returned",
    "revision": 0,
    "note": "Lengkapi IKI.",
}


def _rina_phone(notif, phone="0812-1111-2222"):
    notif.publish(
        "plans.employee.upserted",
        {
            "nip": RINA,
            "agency_code": "PKMB",
            "name": "Rina Wati",
            "email": None,
            "phone": phone,
            "position": "Analis",
            "grade": None,
            "unit_code": "SEK-A",
            "unit_name": "Seksi Perencanaan",
            "superior_nip": KASI_A,
            "language": "id",
            "active": True,
        },
    )


def test_a_persons_apprise_url_gets_the_message(notif, org, receiver):
    notif.set_prefs(RINA, apprise_urls=[f"json://127.0.0.1:{receiver.port}/telegram-bot"])
    env = notif.publish("plans.plan.returned", PLAN)
    (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "apprise")
    assert d.status == "queued"
    assert notif.dispatch()["sent"] == 1
    (req,) = receiver.requests
    assert req.path == "/telegram-bot"
    body = req.json()
    assert body["title"] == "SKP Anda dikembalikan untuk diperbaiki"
    assert '"Lengkapi IKI."' in body["message"]
    log = notif.get("/deliveries?channel=apprise", org.hr).get_json()["items"]
    assert log[0]["status"] == "sent" and log[0]["target"] == "json://127.0.0.1/***"  # tokens never shown
    notif.set_prefs(RINA, apprise=False)
    env = notif.publish("plans.plan.returned", {**PLAN, "plan_id": 6})
    (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "apprise")
    assert (d.status, d.last_error) == ("skipped", "delivery.preference")


def test_an_agency_routes_everyone_to_a_chat_gateway_without_code(notif, org, receiver, clock):
    url = f"json://127.0.0.1:{receiver.port}/wa/{{phone}}"
    r = notif.put("/agency-settings", org.hr, {"apprise_urls": [url]})
    assert r.status_code == 200 and r.get_json()["apprise_urls"] == [url]
    _rina_phone(notif)
    notif.publish("plans.plan.returned", PLAN)
    notif.publish("plans.plan.submitted", {**PLAN, "status": "submitted"})  # to Siti, who has no phone: no URL
    notif.dispatch()
    assert [r.path for r in receiver.requests] == ["/wa/6281211112222"]
    assert notif.rows(Delivery, Delivery.channel == "apprise", Delivery.recipient_nip == KASI_A) == []
    problem(notif.put("/agency-settings", org.hr, {"apprise_urls": ["nonsense"]}), 422)
    problem(notif.put("/agency-settings", org.as_(RINA), {"apprise_urls": []}), 403)
    assert notif.get("/agency-settings", org.other_hr).get_json()["apprise_urls"] == []


def test_a_dead_apprise_target_is_retried_then_failed(notif, org, clock):
    notif.set_prefs(RINA, apprise_urls=["json://127.0.0.1:1/hook"])
    env = notif.publish("plans.plan.returned", PLAN)
    for minutes in (0, 1, 5, 15, 60):
        clock.advance(minutes=minutes)
        notif.dispatch()
    (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "apprise")
    assert (d.status, d.attempts) == ("failed", 5)
    assert "Connection error" in d.last_error or "connect" in d.last_error.lower()


def test_metrics_count_deliveries_per_channel_and_status(notif, org, smtp):
    notif.publish("plans.plan.submitted", {**PLAN, "status": "submitted"})
    notif.dispatch()
    text = notif.client.get("/notifications/metrics").get_data(as_text=True)
    assert 'kinerja_notifications_deliveries_total{channel="inapp",status="sent"}' in text
    assert 'kinerja_notifications_deliveries_total{channel="email",status="queued"}' in text
    assert 'kinerja_notifications_deliveries_total{channel="email",status="sent"}' in text
    assert 'kinerja_notifications_deliveries_total{channel="email",status="skipped"}' in text  # staff without e-mail
    assert 'kinerja_notifications_attempts_total{channel="email",outcome="sent"}' in text
    assert "kinerja_notifications_smtp_connections_total" in text


def test_events_declared_for_the_catalogue():
    assert [s.type for s in PUBLISHES] == [
        "notifications.notification.sent",
        "notifications.notification.failed",
        "notifications.webhook.disabled",
    ]
    for key in (
        "plans.plan.submitted",
        "plans.plan.returned",
        "plans.plan.approved",
        "plans.plan.revised",
        "plans.feedback.given",
        "plans.feedback.replied",
        "plans.cycle.stage_changed",
        "reviews.objection.filed",
        "surveys.ikm.computed",
        "plans.employee.upserted",
        "plans.unit.upserted",
        "plans.#",
    ):
        assert key in CONSUMES


def test_the_dispatch_endpoint_is_for_admins(notif, org, smtp):
    notif.publish("plans.plan.submitted", {**PLAN, "status": "submitted"})
    problem(notif.post("/dispatch", org.hr), 403)
    r = notif.post("/dispatch", org.admin)
    assert r.status_code == 200 and r.get_json()["counts"]["sent"] == 1
    assert smtp.to("siti@pkmb.go.id")


def test_nothing_a_client_sends_causes_a_500(notif, org, receiver):
    bodies = [
        None,
        [],
        "x",
        0,
        True,
        {},
        {"a": 1},
        {"url": 5, "event_types": "#"},
        {"rules": [1]},
        {"contacts": [{"name": None}]},
        {"recipients": [{"nip": 5}], "batch_key": [], "template": {}},
        {"apprise_urls": [None]},
        {"overrides": {"x": "email"}},
        {"timezone": "\x00"},
        {"deadline": "not a date", "batch_key": "k", "template": "reminder.generic", "recipients": [{"nip": "1"}]},
        {"url": "http://" + "a" * 3000, "event_types": ["#"]},
        {"quiet_start": "\u0661\u0662:00", "quiet_end": "x"},
        {"active": "maybe"},
        {"to": "ceo"},
        {"recipients": "all"},
    ]
    paths = [
        ("POST", "/inbox/read-all"),
        ("POST", "/inbox/1/read"),
        ("PATCH", "/preferences"),
        ("PUT", "/hr-contacts"),
        ("PUT", "/rules"),
        ("PUT", "/agency-settings"),
        ("POST", "/reminders"),
        ("POST", "/reminders/x/escalate"),
        ("POST", "/webhooks"),
        ("PATCH", "/webhooks/1"),
        ("POST", "/webhooks/1/rotate-secret"),
        ("POST", "/webhooks/1/deliveries/1/redeliver"),
        ("POST", "/read-model/rebuild"),
        ("POST", "/dispatch"),
    ]
    who = [org.hr, org.as_(RINA), org.tokens.headers("agency", agency="PKMB", sub="x"), org.admin]
    notif.platform.settings.plans_url = "http://127.0.0.1:1"
    for (method, path), body, headers in itertools.product(paths, bodies, who):
        r = notif.client.open("/notifications/api/v1" + path, method=method, headers=headers, json=body)
        assert r.status_code < 500 or r.status_code == 503, (
            method,
            path,
            body,
            r.status_code,
            r.get_data(as_text=True)[:300],
        )
    for query in (
        "/deliveries?status=x",
        "/deliveries?subscription_id=x",
        "/inbox?unread=maybe",
        "/inbox?cursor=%00",
        "/webhooks?limit=1000",
        "/reminders/%00",
        "/rules?agency_code=",
    ):
        for headers in who:
            assert notif.get(query, headers).status_code < 500, query
