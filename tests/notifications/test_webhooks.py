"""Webhooks for agencies: subscriptions with a secret shown once, CloudEvent bodies signed as
Standard Webhooks (verified here by an independent implementation), only the agency's own
events, retries with exponential backoff for 24 hours on the injectable clock, disabling after
repeated failures with a notice to the owner and HR, the delivery log, manual redelivery, and
no loopback/private targets in production mode."""

from __future__ import annotations

from services.notifications.models import Delivery, WebhookSubscription
from tests.notifications.support import verify_standard_webhook
from tests.plans.support import HEAD, KASI_A, STAFF_A, problem

RINA = STAFF_A[0]
HR_MAIL = "kepegawaian@pkmb.go.id"
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


# what a machine client may receive (issue 14: no event about one person's records)
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


def _client(org, sub="bkd-sync", agency="PKMB"):
    return org.tokens.headers("agency", agency=agency, sub=sub, scope="webhooks:manage")


def _subscribe(notif, headers, url, types=("surveys.response.*",)):
    r = notif.post("/webhooks", headers, {"url": url, "event_types": list(types), "description": "BKD"})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def test_signed_cloudevents_reach_the_agency_and_only_its_own(notif, org, receiver, clock):
    client = _client(org)
    sub = _subscribe(notif, client, receiver.url, ("surveys.response.*", "plans.cycle.#"))
    assert sub["secret"].startswith("whsec_") and sub["active"] is True and sub["owner"] == "bkd-sync"
    shown = notif.get(f"/webhooks/{sub['id']}", client).get_json()
    assert "secret" not in shown and shown["url"] == receiver.url  # shown once only

    env = notif.publish("surveys.response.recorded", RESPONSE)
    notif.publish("surveys.response.recorded", {**RESPONSE, "agency_code": "OTHER", "campaign_id": 9})
    notif.publish(
        "plans.feedback.given",
        {
            "feedback_id": 1,
            "plan_id": 5,
            "cycle_id": 1,
            "employee_nip": RINA,
            "giver_nip": KASI_A,
            "rhk_id": None,
            "value_code": None,
            "period_seq": 1,
            "text": "Bagus.",
        },
    )  # not subscribed
    assert receiver.requests == []  # recorded, not sent
    assert notif.dispatch()["sent"] >= 1
    (req,) = receiver.requests
    assert verify_standard_webhook(sub["secret"], req.headers, req.body)
    assert not verify_standard_webhook(sub["secret"], req.headers, req.body + b" ")
    assert req.headers["webhook-id"] == env["id"]
    assert int(req.headers["webhook-timestamp"]) == int(clock.now.timestamp())
    assert req.headers["content-type"] == "application/cloudevents+json"  # CloudEvents structured mode
    event = req.json()
    assert event == env  # the CloudEvent itself
    assert (event["specversion"], event["type"], event["data"]["respondents"]) == (
        "1.0",
        "surveys.response.recorded",
        12,
    )
    (d,) = notif.rows(Delivery, Delivery.channel == "webhook")
    assert (d.status, d.attempts) == ("sent", 1)
    log = notif.get(f"/webhooks/{sub['id']}/deliveries", client).get_json()["items"]
    assert [(i["event_type"], i["status"]) for i in log] == [("surveys.response.recorded", "sent")]

    # visibility: the agency's HR sees it; another client of the agency and another agency's HR do not
    assert [w["id"] for w in notif.get("/webhooks", org.hr).get_json()["items"]] == [sub["id"]]
    assert notif.get("/webhooks", _client(org, sub="other-app")).get_json()["items"] == []
    problem(notif.get(f"/webhooks/{sub['id']}", _client(org, sub="other-app")), 404)
    problem(notif.get(f"/webhooks/{sub['id']}", org.other_hr), 404)
    problem(notif.get("/webhooks", org.as_(RINA)), 403)
    problem(notif.post("/webhooks", org.as_(RINA), {"url": receiver.url, "event_types": ["#"]}), 403)

    # a new secret signs from now on
    secret = notif.post(f"/webhooks/{sub['id']}/rotate-secret", client).get_json()["secret"]
    env2 = notif.publish("surveys.response.recorded", {**RESPONSE, "first_response_id": 42})
    notif.dispatch()
    req = receiver.requests[-1]
    assert req.headers["webhook-id"] == env2["id"]
    assert verify_standard_webhook(secret, req.headers, req.body)
    assert not verify_standard_webhook(sub["secret"], req.headers, req.body)


def test_a_failing_receiver_is_retried_for_24_hours_then_disabled_with_a_notice(notif, org, receiver, smtp, clock):
    notif.set_hr_contacts([{"name": "Kepegawaian", "email": HR_MAIL}])
    owner = org.tokens.headers("hr", agency="PKMB", nip=HEAD, sub="budi@pkmb")
    sub = _subscribe(notif, owner, receiver.url, ("plans.plan.*",))  # HR subscribes to anything
    receiver.status = 500
    env = notif.publish("plans.plan.returned", PLAN)
    start = clock.now
    delays = []
    while True:
        notif.dispatch(channels_=("webhook",))
        (d,) = notif.rows(Delivery, Delivery.event_id == env["id"], Delivery.channel == "webhook")
        if d.status != "queued":
            break
        nxt = d.next_attempt_at.replace(tzinfo=clock.now.tzinfo)
        delays.append((nxt - clock.now).total_seconds())
        clock.set(nxt)
    assert d.status == "failed" and d.last_error == "HTTP 500"
    assert delays[:3] == [30, 60, 120] and all(b >= a for a, b in zip(delays, delays[1:-1]))
    assert (clock.now - start).total_seconds() == 24 * 3600
    assert d.attempts == len(receiver.requests) == len(delays) + 1
    assert len({r.headers["webhook-id"] for r in receiver.requests}) == 1  # one message id across retries
    detail = notif.get(f"/deliveries/{d.id}", owner).get_json()
    assert [a["outcome"] for a in detail["attempt_log"]] == ["retry"] * len(delays) + ["failed"]
    assert {a["http_status"] for a in detail["attempt_log"]} == {500}

    (s,) = notif.rows(WebhookSubscription)
    assert (s.active, s.disabled_reason) == (False, "failing_24h")
    (disabled,) = notif.outbox("notifications.webhook.disabled")
    assert disabled["envelope"]["data"]["subscription_id"] == sub["id"]
    assert disabled["envelope"]["data"]["reason"] == "failing_24h"
    (notice,) = [n for n in notif.inbox(org.as_(HEAD)) if n["template"] == "webhook.disabled"]
    assert notice["title"] == f"Webhook dinonaktifkan: {receiver.url}"
    assert "gagal terus selama 24 jam" in notice["body"]
    notif.dispatch(channels_=("email",))
    (mail,) = smtp.to(HR_MAIL)
    assert mail["Subject"] == f"Webhook dinonaktifkan: {receiver.url}"
    failed = notif.get("/deliveries?status=failed&channel=webhook", org.hr).get_json()["items"]
    assert [i["id"] for i in failed] == [d.id]

    # nothing more is queued for a disabled subscription; redelivery needs it enabled again
    env2 = notif.publish("plans.plan.returned", {**PLAN, "plan_id": 6})
    assert notif.rows(Delivery, Delivery.event_id == env2["id"], Delivery.channel == "webhook") == []
    redeliver = f"/webhooks/{sub['id']}/deliveries/{d.id}/redeliver"
    problem(notif.post(redeliver, owner), 409, "webhook.inactive")
    r = notif.patch(f"/webhooks/{sub['id']}", owner, {"active": True})
    assert r.get_json()["active"] is True and r.get_json()["consecutive_failures"] == 0
    receiver.status = 200
    assert notif.post(redeliver, owner).get_json()["status"] == "queued"
    notif.dispatch()
    assert receiver.requests[-1].headers["webhook-id"] == env["id"]
    assert notif.rows(Delivery, Delivery.id == d.id)[0].status == "sent"
    problem(notif.post(f"/webhooks/{sub['id']}/deliveries/999999/redeliver", owner), 404)


def test_consecutive_failed_deliveries_or_410_gone_disable_the_subscription(notif, org, receiver, clock):
    notif.platform.settings.webhook_disable_after = 2
    client = _client(org)
    sub = _subscribe(notif, client, receiver.url)
    receiver.status = 410  # the receiver says: gone for good
    notif.publish("surveys.response.recorded", RESPONSE)
    notif.dispatch()
    (s,) = notif.rows(WebhookSubscription)
    assert (s.active, s.disabled_reason) == (False, "gone")
    assert len(receiver.requests) == 1
    # re-enabled; every attempt of two deliveries fails (a short retry window here) → disabled again
    notif.patch(f"/webhooks/{sub['id']}", client, {"active": True})
    notif.platform.settings.webhook_retry_hours = 1
    receiver.status = 503
    notif.publish("surveys.response.recorded", {**RESPONSE, "first_response_id": 7})
    notif.publish("surveys.response.recorded", {**RESPONSE, "first_response_id": 8})
    for _ in range(40):
        notif.dispatch()
        clock.advance(minutes=10)
        (s,) = notif.rows(WebhookSubscription)
        if not s.active:
            break
    assert s.disabled_reason in ("failed_deliveries", "failing_24h") and s.consecutive_failures >= 1
    assert len(notif.outbox("notifications.webhook.disabled")) == 2


def test_a_hanging_receiver_times_out_and_its_other_deliveries_wait(notif, org, receiver, clock):
    receiver.hang = 2.5  # WEBHOOK_TIMEOUT=1 in these tests
    _subscribe(notif, _client(org), receiver.url)
    for i in range(3):
        notif.publish("surveys.response.recorded", {**RESPONSE, "first_response_id": 10 + i})
    counts = notif.dispatch()
    assert counts["retry"] == 1 and counts["postponed"] == 2
    rows = notif.rows(Delivery, Delivery.channel == "webhook")
    tried = [d for d in rows if d.attempts]
    assert len(tried) == 1 and "timed out" in tried[0].last_error
    assert all(d.status == "queued" for d in rows)
    receiver.hang = 0
    clock.advance(minutes=2)
    assert notif.dispatch()["sent"] == 3


def test_production_refuses_private_targets_unless_allowed(notif, org, receiver):
    client = _client(org)
    notif.platform.config.mode = "production"  # only the target checks read it here
    for url in (
        receiver.url,
        "http://localhost:9/x",
        "http://10.1.2.3/hook",
        "http://169.254.169.254/latest",
        "http://[::1]:8080/",
    ):
        body = problem(notif.post("/webhooks", client, {"url": url, "event_types": ["surveys.ikm.*"]}), 422)
        (err,) = body["errors"]
        assert err["field"] == "url" and err["code"] == "webhook.url_private", (url, err)
        assert "jaringan internal" in err["detail"]
    body = problem(
        notif.post("/webhooks", client, {"url": "http://no-such-host.invalid/", "event_types": ["surveys.ikm.*"]}), 422
    )
    assert body["errors"][0]["code"] == "webhook.url_unresolvable"
    notif.platform.settings.webhook_allow_private = True
    sub = _subscribe(notif, client, receiver.url)
    # allowed when created; refused at send time once the exception is withdrawn
    notif.platform.settings.webhook_allow_private = False
    notif.publish("surveys.response.recorded", RESPONSE)
    notif.dispatch()
    (d,) = notif.rows(Delivery, Delivery.subscription_id == sub["id"])
    assert d.status == "failed" and d.last_error.startswith("target refused") and receiver.requests == []
    notif.platform.config.mode = "embedded"


def test_bad_subscriptions_are_refused_with_field_errors(notif, org, receiver):
    client = _client(org)
    cases = [
        ({"url": "ftp://example.go.id/x", "event_types": ["#"]}, "url", "webhook.url_scheme"),
        ({"url": "http://user:pw@example.go.id/", "event_types": ["#"]}, "url", "webhook.url_scheme"),
        ({"url": "http://example.go.id:99999/", "event_types": ["#"]}, "url", "webhook.url_scheme"),
        ({"url": receiver.url, "event_types": ["plans..x"]}, "event_types[0]", "webhook.pattern"),
        ({"url": receiver.url, "event_types": []}, "event_types", "field.invalid"),
        ({"url": receiver.url}, "event_types", "field.required"),
        ({"url": receiver.url, "event_types": ["#"], "secret": "mine"}, "secret", "field.unknown"),
    ]
    for body, field_name, code in cases:
        errors = {e["field"]: e["code"] for e in problem(notif.post("/webhooks", client, body), 422)["errors"]}
        assert errors.get(field_name) == code, (body, errors)
    sub = _subscribe(notif, client, receiver.url)
    body = problem(notif.patch(f"/webhooks/{sub['id']}", client, {"event_types": ["a b"]}), 422)
    assert body["errors"][0]["field"] == "event_types[0]"
    assert notif.delete(f"/webhooks/{sub['id']}", client).status_code == 204
    problem(notif.get(f"/webhooks/{sub['id']}", client), 404)
    assert notif.get("/webhooks", org.hr).get_json()["items"] == []


def test_a_machine_client_subscribes_to_results_only_with_results_read(notif, org, receiver):
    """The results feed's events name people: an allowance system subscribes to them only when its
    token also reads the feed (``results:read``); without it the field says which families it may use."""
    body = {"url": receiver.url, "event_types": ["reviews.result.*"]}
    refused = problem(notif.post("/webhooks", _client(org), body), 422)
    (error,) = refused["errors"]
    assert (error["field"], error["code"]) == ("event_types[0]", "webhook.person_data")
    assert "reviews.result" not in error["params"]["allowed"]
    both = org.tokens.headers("agency", agency="PKMB", sub="bkd-tpp", scope="webhooks:manage results:read")
    assert notif.post("/webhooks", both, body).status_code == 201
    problem(notif.post("/webhooks", both, {**body, "event_types": ["reviews.evaluation.*"]}), 422)
