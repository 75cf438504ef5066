"""The notifications rule book (pure): default rules, matching, quiet hours, digest time, retry
schedules, the Standard Webhooks signature (against the spec's published example), target
addresses and the escalation ladder."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from services.notifications import domain as d
from services.notifications.render import TEMPLATES_DIR

WIB = ZoneInfo("Asia/Jakarta")
WIT = ZoneInfo("Asia/Jayapura")


def at(y, m, day, hh=0, mm=0, tz=WIB) -> datetime:
    return datetime(y, m, day, hh, mm, tzinfo=tz).astimezone(timezone.utc)


# --------------------------------------------------------------------------- rules

EXPECTED = {  # the issue's table: event → audiences
    "plans.plan.submitted": ["penilai"],
    "plans.plan.returned": ["employee"],
    "plans.plan.approved": ["employee"],
    "plans.plan.revised": ["penilai"],
    "plans.feedback.given": ["employee"],
    "plans.feedback.replied": ["giver"],
    "reviews.evaluation.opened": ["employee"],
    "reviews.self_assessment.submitted": ["penilai"],
    "reviews.evaluation.rated": ["employee"],
    "reviews.evaluation.signed": ["employee"],
    "reviews.evaluation.acknowledged": ["atasan", "employee"],
    "reviews.evaluation.countersigned": ["employee"],
    "reviews.objection.filed": ["atasan", "penilai", "hr"],
    "reviews.objection.decided": ["employee", "penilai"],
    "reviews.calibration.violation_found": ["hr"],
    "reviews.followup.planned": ["employee", "owner"],
    "reviews.peers.proposed": ["penilai"],
    "reviews.peer.requested": ["rater"],
    "surveys.ikm.computed": ["hr"],
}


@pytest.mark.parametrize("event_type,audiences", sorted(EXPECTED.items()))
def test_default_rules_notify_whom_the_issue_says(event_type, audiences):
    assert [a for a, _ in d.audiences_for(d.DEFAULT_RULES, event_type, {})] == audiences


@pytest.mark.parametrize(
    "state,everyone",
    [
        ("planning", True),
        ("monitoring:1:check_in", True),
        ("monitoring:3:self_assessment", True),
        ("monitoring:2:supervisor_evaluation", False),
        ("annual_evaluation", True),
        ("calibration", False),
        ("closed", False),
    ],
)
def test_stage_changes_tell_hr_always_and_everyone_only_when_something_opens(state, everyone):
    picks = dict(d.audiences_for(d.DEFAULT_RULES, "plans.cycle.stage_changed", {"state": state}))
    assert picks["hr"] == "cycle.stage_changed"
    assert ("agency_all" in picks) is everyone


def test_an_acting_appointment_tells_the_acting_official_when_made_not_when_ended_early():
    made = {"acting_nip": "1", "for_nip": "2", "kind": "plt", "ended_early": False}
    assert d.audiences_for(d.DEFAULT_RULES, "plans.acting.upserted", made) == [("acting", "acting.appointed")]
    assert d.audiences_for(d.DEFAULT_RULES, "plans.acting.upserted", {**made, "ended_early": True}) == []
    assert d.link_path({"id": 4, **made}, "plans.acting.upserted") == "/tim"


def test_every_template_exists_in_both_languages():
    for template in d.TEMPLATES:
        for lang in ("id", "en"):
            assert (TEMPLATES_DIR / lang / f"{template}.txt").exists(), (lang, template)
    for rule in d.DEFAULT_RULES:
        assert rule.template in d.TEMPLATES


def test_rule_validation_names_the_field():
    assert d.rule_from_dict({"event_type": "reviews.#", "audience": "hr", "template": "objection.filed"}).enabled
    for bad, field_name in [
        ({"event_type": "a..b", "audience": "hr", "template": "digest"}, "event_type"),
        ({"event_type": "a.b", "audience": "boss", "template": "digest"}, "audience"),
        ({"event_type": "a.b", "audience": "hr", "template": "nope"}, "template"),
        ({"event_type": "a.b", "audience": "hr", "template": "digest", "when": {"x": "y"}}, "when"),
    ]:
        with pytest.raises(d.DomainError) as exc:
            d.rule_from_dict(bad)
        assert exc.value.field == field_name
    rule = d.Rule("plans.plan.*", "employee", "plan.returned", enabled=False)
    assert d.audiences_for([rule], "plans.plan.returned", {}) == []
    assert d.rule_from_dict(d.rule_to_dict(d.DEFAULT_RULES[6])) == d.DEFAULT_RULES[6]


@pytest.mark.parametrize(
    "pattern,key,match",
    [
        ("plans.#", "plans.plan.approved", True),
        ("plans.*", "plans.plan.approved", False),
        ("*.plan.*", "plans.plan.approved", True),
        ("#", "x", True),
        ("reviews.evaluation.*", "reviews.evaluation", False),
        ("plans.plan.approved", "plans.plan.approved", True),
        ("#.approved", "plans.plan.approved", True),
    ],
)
def test_topic_patterns(pattern, key, match):
    assert d.event_matches(pattern, key) is match


# --------------------------------------------------------------------------- quiet hours and digest


def test_quiet_hours_across_midnight_end_in_the_persons_zone():
    start, end = time(21, 0), time(7, 0)
    assert d.quiet_until(at(2026, 3, 2, 22, 30), WIB, start, end) == at(2026, 3, 3, 7, 0)
    assert d.quiet_until(at(2026, 3, 3, 6, 59), WIB, start, end) == at(2026, 3, 3, 7, 0)
    assert d.quiet_until(at(2026, 3, 3, 7, 0), WIB, start, end) is None
    assert d.quiet_until(at(2026, 3, 3, 20, 59), WIB, start, end) is None
    # the same instant is 00:30 in Jayapura (WIT, UTC+9): quiet there until 07:00 WIT
    assert d.quiet_until(at(2026, 3, 2, 22, 30), WIT, start, end) == at(2026, 3, 3, 7, 0, tz=WIT)


def test_quiet_hours_within_a_day_and_none():
    assert d.quiet_until(at(2026, 3, 2, 12, 15), WIB, time(12), time(13)) == at(2026, 3, 2, 13)
    assert d.quiet_until(at(2026, 3, 2, 13), WIB, time(12), time(13)) is None
    assert d.quiet_until(at(2026, 3, 2, 12, 15), WIB, None, None) is None
    assert d.quiet_until(at(2026, 3, 2, 12, 15), WIB, time(9), time(9)) is None
    assert d.parse_hhmm("07:05") == time(7, 5)
    for bad in ("7:05", "24:00", "12:60", None, "noon"):
        with pytest.raises(d.DomainError):
            d.parse_hhmm(bad)


def test_digest_runs_at_the_next_local_hour():
    assert d.digest_due_at(at(2026, 3, 2, 6, 0), WIB, 7) == at(2026, 3, 2, 7, 0)
    assert d.digest_due_at(at(2026, 3, 2, 7, 0), WIB, 7) == at(2026, 3, 3, 7, 0)
    assert d.digest_due_at(at(2026, 3, 2, 15, 0), WIB, 7) == at(2026, 3, 3, 7, 0)


# --------------------------------------------------------------------------- retries


def test_email_retries_back_off_then_stop():
    now = at(2026, 3, 2, 9)
    assert [d.next_email_attempt(n, now) - now for n in (1, 2, 3, 4)] == [
        timedelta(minutes=1),
        timedelta(minutes=5),
        timedelta(minutes=15),
        timedelta(hours=1),
    ]
    assert d.next_email_attempt(5, now) is None


def test_webhook_retries_double_and_stop_after_24_hours():
    first = at(2026, 3, 2, 9)
    now, attempts, delays = first, 0, []
    while True:
        attempts += 1
        nxt = d.next_webhook_attempt(first, attempts, now)
        if nxt is None:
            break
        delays.append(nxt - now)
        now = nxt
    assert delays[:4] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
    assert all(b >= a for a, b in zip(delays, delays[1:-1]))  # never shorter (the last one is clipped)
    assert max(delays) <= timedelta(hours=4)
    assert now == first + timedelta(hours=24)  # the last attempt lands on the 24-hour mark
    assert 12 <= attempts <= 20


def test_disable_after_consecutive_failed_deliveries_or_a_day_of_failures():
    now = at(2026, 3, 2, 9)
    assert d.should_disable(5, now - timedelta(hours=1), now, after_deliveries=5) == "failed_deliveries"
    assert d.should_disable(1, now - timedelta(hours=24), now, after_deliveries=5) == "failing_24h"
    assert d.should_disable(4, now - timedelta(hours=23), now, after_deliveries=5) is None
    assert d.should_disable(0, None, now, after_deliveries=5) is None


# --------------------------------------------------------------------------- signatures and targets


def test_signature_matches_the_standard_webhooks_example():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = '{"test": 2432232314}'
    sig = d.sign_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body)
    assert sig == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert d.verify_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, f"v1,bogus {sig}")
    assert not d.verify_webhook(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, sig)
    fresh = d.new_webhook_secret(bytes(range(32)))
    assert fresh.startswith("whsec_") and len(d.webhook_key(fresh)) == 32


@pytest.mark.parametrize(
    "ip,public",
    [
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.9", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:10.0.0.1", False),
        ("224.0.0.1", False),
        ("8.8.8.8", True),
        ("203.0.113.5", False),
        ("2001:4860:4860::8888", True),
        ("not-an-ip", False),
    ],
)
def test_public_addresses(ip, public):
    assert d.is_public_address(ip) is public


@pytest.mark.parametrize(
    "address,ok",
    [
        ("siti@pkmb.go.id", True),
        ("a.b+c@mail.example.com", True),
        ("not-an-address", False),
        ("a@b", False),
        ("a..b@x.id", False),
        ("@x.id", False),
        ("a b@x.id", False),
        ("Siti <siti@pkmb.go.id>", False),
        (None, False),
        ("x@" + "a" * 250 + ".id", False),
    ],
)
def test_email_addresses(address, ok):
    assert d.valid_email(address) is ok


def test_phone_numbers_become_international_digits():
    assert d.normalise_phone("0812-3456-7890") == "6281234567890"
    assert d.normalise_phone("+62 812 3456") == "628123456"
    assert d.normalise_phone("") is None and d.normalise_phone(None) is None


def test_escalation_ladder():
    deadline = at(2026, 3, 10, 23, 59)
    hr_after = timedelta(hours=48)
    assert d.escalation_level(deadline - timedelta(minutes=1), deadline, hr_after=hr_after) == 0
    assert d.escalation_level(deadline, deadline, hr_after=hr_after) == 1
    assert d.escalation_level(deadline + hr_after, deadline, hr_after=hr_after) == 2
    assert d.escalation_level(deadline + hr_after, deadline, hr_after=hr_after, target="superior") == 1
    assert d.escalation_level(deadline + hr_after, deadline, hr_after=hr_after, target="none") == 0
    assert d.escalation_level(deadline + hr_after, None, hr_after=hr_after) == 0


def test_links_point_to_the_most_specific_page():
    assert d.link_path({"evaluation_id": 4, "plan_id": 2}) == "/evaluasi/4"  # the portal's pages
    assert d.link_path({"objection_id": 1, "evaluation_id": 4}) == "/keberatan/1"
    assert d.link_path({"plan_id": "7"}) == "/skp/7"
    assert d.link_path({"plan_id": "../x"}) == "/"
    assert d.link_path({"plan_id": 7, "cycle_id": 1}, "plans.feedback.replied") == "/tim/skp/7/umpan-balik"
    assert d.link_path({"plan_id": "../x"}, "plans.feedback.replied") == "/"
