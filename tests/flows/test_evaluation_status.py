"""The cycle flow's look at a period's evaluations: who has an approved SKP but no evaluation, among
the active employees, reading the directory only when someone is missing one."""

from flows import cycle_tasks

PLANS, REVIEWS = cycle_tasks.PLANS, cycle_tasks.REVIEWS


class FakeClient:
    """The plans and reviews lists the task pages through, counting what it reads."""

    def __init__(self, plans, evaluations, active):
        self.plans, self.evaluations, self.active = plans, evaluations, active
        self.reads: list[str] = []

    def pages(self, path, **params):
        self.reads.append(path)
        if path == f"{PLANS}/plans":
            assert params == {"cycle_id": 7}
            return iter([{"employee_nip": nip, "status": status} for nip, status in self.plans.items()])
        if path == f"{PLANS}/employees":
            assert params == {"active": "true"}
            return iter([{"nip": nip} for nip in self.active])
        raise AssertionError(path)

    def all(self, path, **params):
        assert path == f"{REVIEWS}/evaluations" and params == {"cycle_id": 7, "period_seq": 2}
        self.reads.append(path)
        return [{"employee_nip": nip, "status": "open"} for nip in self.evaluations]


def status(client, settle=0.0):
    return cycle_tasks.evaluation_status.fn(client, 7, 2, settle)


def test_an_active_skp_holder_without_an_evaluation_is_not_opened():
    client = FakeClient(
        plans={"A": "approved", "B": "revised", "C": "approved", "D": "draft", "E": "approved"},
        evaluations=["A"],
        active=["A", "B", "C", "D"],  # E left the agency: no evaluation is owed to them
    )
    out = status(client)
    assert out["not_opened"] == ["B", "C"]
    assert [e["employee_nip"] for e in out["evaluations"]] == ["A"]


def test_when_every_skp_holder_has_an_evaluation_the_directory_is_not_read():
    client = FakeClient(plans={"A": "approved", "B": "revised", "D": "draft"}, evaluations=["A", "B"], active=["A"])
    assert status(client)["not_opened"] == []
    assert f"{PLANS}/employees" not in client.reads


def test_nobody_with_an_skp_nothing_is_owed_and_the_directory_is_not_read():
    client = FakeClient(plans={"D": "draft", "F": "submitted"}, evaluations=[], active=["D", "F"])
    assert status(client) == {"evaluations": [], "not_opened": []}
    assert client.reads == [f"{PLANS}/plans", f"{REVIEWS}/evaluations"]


def test_while_waiting_for_evaluations_in_flight_the_directory_is_read_once():
    client = FakeClient(plans={"A": "approved", "B": "approved"}, evaluations=[], active=["A", "B"])
    opened = iter([[], ["A"], ["A", "B"]])
    plain_all = client.all

    def arriving(path, **params):
        plain_all(path, **params)
        return [{"employee_nip": nip, "status": "open"} for nip in next(opened)]

    client.all = arriving
    out = status(client, settle=5.0)
    assert out["not_opened"] == [] and len(out["evaluations"]) == 2
    assert client.reads.count(f"{REVIEWS}/evaluations") == 3
    assert client.reads.count(f"{PLANS}/employees") == 1


def test_only_inactive_holders_missing_ends_the_wait_at_once():
    client = FakeClient(plans={"A": "approved", "E": "approved"}, evaluations=["A"], active=["A"])
    out = status(client, settle=30.0)  # E owes nothing: no wait for an evaluation that never comes
    assert out["not_opened"] == []
    assert client.reads.count(f"{REVIEWS}/evaluations") == 1
