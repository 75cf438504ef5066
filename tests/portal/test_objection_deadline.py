"""Issue 15, bug 10: the objection closing date was only in the inbox notification. The evaluation
page states it, as the reviews API does (``objection_deadline``, a date in the agency's zone), to
each party of the evaluation and in both languages, once the employee has acknowledged receipt."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.plans.support import HEAD, KASI_A, STAFF_A
from tests.portal.test_evaluations import Team, plain


@pytest.fixture
def team(stack) -> Team:
    return Team(stack).to_annual()


def test_every_party_reads_the_last_day_to_object_on_the_evaluation_page(team):
    clock = team.stack.clock
    team.signed(STAFF_A[0])
    ev = team.evaluation(STAFF_A[0])
    kasi = team.stack.browser()
    kasi.login(KASI_A)
    assert "Batas akhir keberatan" not in plain(kasi.get(f"/evaluasi/{ev['id']}"))  # not received yet
    clock.set(clock.now.replace(hour=20, minute=0))  # 03:00 WIB the next day
    team.act(STAFF_A[0], "acknowledge", STAFF_A[0])
    closing = (clock.now.date() + timedelta(days=15)).isoformat()  # 14 days after the Jakarta date
    assert team.evaluation(STAFF_A[0])["objection_deadline"] == closing
    for who in (STAFF_A[0], KASI_A, HEAD):
        b = team.stack.browser()
        b.login(who)
        assert f"Batas akhir keberatan {closing}" in plain(b.get(f"/evaluasi/{ev['id']}")), who
        assert f"Last day to object {closing}" in plain(b.get(f"/evaluasi/{ev['id']}?lang=en")), who
