"""A province's overdue list is escalated a few parts at once: each part still goes once, no more
than the limit run at once, the batch's counts come from the latest answer, and a failure stops the
sending and is raised once the parts in flight have ended."""

from __future__ import annotations

import threading
import time

import pytest

from flows import cycle_tasks
from flows.client import ServiceError


class SlowClient:
    """Answers each POST after a short pause, noting when each call started and ended and how many
    were in flight at most; ``fail_on`` names a part (by its first NIP // 10) that fails."""

    def __init__(self, fail_on: int | None = None, pause: float = 0.03):
        self.fail_on, self.pause = fail_on, pause
        self.lock = threading.Lock()
        self.events: list[tuple[str, int]] = []  # ("start" | "end", call number)
        self.in_flight = self.most = 0
        self.escalated = 0

    def post(self, url, body):
        recipients = body["recipients"]
        n = int(recipients[0]) // 10  # the part's first NIP, by tens
        with self.lock:
            self.events.append(("start", n))
            self.in_flight += 1
            self.most = max(self.most, self.in_flight)
        try:
            time.sleep(self.pause)
            if n == self.fail_on:
                raise ServiceError(422, "reminder.params", "refused")
            with self.lock:
                self.escalated += len(recipients)
                counts = {"items": 100, "done": 0, "escalations": {"superior": self.escalated, "hr": 0}}
            return {"escalated": len(recipients), "counts": counts, "items": []}
        finally:
            with self.lock:
                self.events.append(("end", n))
                self.in_flight -= 1


def nips(n: int) -> list[str]:
    return [f"{i:018d}" for i in range(n)]


def test_a_long_overdue_list_goes_in_parts_a_few_at_once_each_once():
    client = SlowClient()
    overdue = nips(cycle_tasks.ESCALATE_MAX * 3 + 10)
    out = cycle_tasks.escalate_overdue.fn(client, "k", overdue)
    starts = [n for kind, n in client.events if kind == "start"]
    assert sorted(starts) == [0, 500, 1000, 1500]  # the parts start at NIP 0, 5,000, 10,000, 15,000
    assert client.most == cycle_tasks.ESCALATIONS_IN_FLIGHT > 1
    # every escalation counted once; the batch's counts from the answer committed last
    assert out == {"escalated": len(overdue), "levels": {"superior": len(overdue)}}


def test_a_failed_part_stops_the_escalation_and_is_raised():
    client = SlowClient(fail_on=500)  # the second part
    with pytest.raises(ServiceError):
        cycle_tasks.escalate_overdue.fn(client, "k", nips(cycle_tasks.ESCALATE_MAX * 5))
    starts = [n for kind, n in client.events if kind == "start"]
    assert 500 in starts and len(starts) <= 1 + cycle_tasks.ESCALATIONS_IN_FLIGHT
    assert client.in_flight == 0
