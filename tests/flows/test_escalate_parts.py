"""The cycle flow escalates a province's overdue list in parts the notifications API accepts."""

from flows import cycle_tasks


class FakeClient:
    def __init__(self):
        self.posts = []

    def post(self, url, body):
        self.posts.append((url, body))
        # the answer's counts cover the whole batch (its items only the part's people)
        counts = {"items": 20000, "done": 0, "escalations": {"superior": len(self.posts) * 10, "hr": 0}}
        return {"escalated": len(body["recipients"]), "counts": counts, "items": []}


def test_up_to_5000_overdue_go_in_one_call_that_marks_the_others_done():
    client = FakeClient()
    out = cycle_tasks.escalate_overdue.fn(client, "k", [f"{i:018d}" for i in range(5000)])
    ((url, body),) = client.posts
    assert url.endswith("/reminders/k/escalate") and len(body["recipients"]) == 5000 and "partial" not in body
    assert out == {"escalated": 5000, "levels": {"superior": 10}}


def test_more_than_5000_overdue_go_in_partial_parts_of_at_most_5000():
    client = FakeClient()
    nips = [f"{i:018d}" for i in range(12001)]
    out = cycle_tasks.escalate_overdue.fn(client, "k", nips)
    posts = sorted(client.posts, key=lambda post: post[1]["recipients"][0])  # parts go a few at once
    assert [len(b["recipients"]) for _, b in posts] == [5000, 5000, 2001]
    assert all(b["partial"] is True for _, b in posts)
    assert [n for _, b in posts for n in b["recipients"]] == nips
    assert out["escalated"] == 12001
    assert out["levels"] == {"superior": 30}  # the latest answer's counts: the batch so far
