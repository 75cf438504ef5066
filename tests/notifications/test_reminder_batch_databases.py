"""A reminder batch sent in calls and escalated in parts does the same on PostgreSQL as on SQLite:
the same answers, the same items (ids in the order people were named), the same messages and
deliveries. PostgreSQL writes a call's new items with one ``INSERT … SELECT FROM unnest`` and
SQLite with an ``executemany``; the escalation reads a part's items by index probes on
PostgreSQL — so the two runs compared here take different paths to what must be one result."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from services.common.auth import issue_token
from services.common.config import Config
from services.notifications.app import create_app
from services.notifications.models import (
    ActingRef,
    Delivery,
    HrContact,
    Notification,
    Person,
    Preference,
    ReminderItem,
)
from tests.plans.support import FakeClock

pytestmark = pytest.mark.integration

T0 = datetime(2026, 4, 14, 2, 0, tzinfo=timezone.utc)
AGENCY = "PKMB"
N = "/notifications/api/v1"
KEY = "2026-planning-overdue"


def nip(i: int) -> str:
    return f"{199001012015031000 + i}"


PEOPLE = [nip(i) for i in range(1, 23)]  # 1 heads the agency; everyone else reports to (i - 1) // 3 + 1
INACTIVE, OTHER_AGENCY, UNKNOWN = nip(90), nip(91), nip(99)
ACTING = nip(5)  # stands in (Plt) for 3, superior of 8, 9 and 10


def superior(i: int) -> str | None:
    return nip((i - 2) // 3 + 1) if i > 1 else None


def scenario(url: str) -> dict:
    """The batch sent in three calls (repeats, outsiders and unknowns among them), escalated in two
    partial parts and then once more whole, and read back: everything a caller or a recipient sees."""
    config = Config.from_env("notifications", env={"NOTIFICATIONS_DATABASE_URL": url})
    app = create_app(config, clock=FakeClock(T0), migrate=True)
    k = app.extensions["kinerja"]
    with k.session_factory() as s:
        for i in range(1, 23):
            s.add(
                Person(
                    nip=nip(i),
                    agency_code=AGENCY,
                    name=f"Pegawai {i}",
                    email=f"p{i}@pkmb.go.id" if i != 7 else None,
                    language="en" if i % 4 == 0 else "id",
                    superior_nip=superior(i),
                    active=True,
                )
            )
        s.add(Person(nip=INACTIVE, agency_code=AGENCY, name="Pensiun", email="x@pkmb.go.id", active=False))
        s.add(Person(nip=OTHER_AGENCY, agency_code="LAIN", name="Instansi Lain", email="l@lain.go.id", active=True))
        s.add(Preference(nip=nip(9), language="en", digest=True, digest_hour=7, timezone="Asia/Jakarta", updated_at=T0))
        s.add(HrContact(agency_code=AGENCY, name="Kepegawaian", email="kepegawaian@pkmb.go.id", created_at=T0))
        day = T0.date()
        s.add(
            ActingRef(
                id=1,
                agency_code=AGENCY,
                acting_nip=ACTING,
                for_nip=nip(3),
                kind="plt",
                start_date=day - timedelta(days=3),
                end_date=date(day.year, 12, 31),
            )
        )
        s.commit()
    hr = {"Authorization": f"Bearer {issue_token(config.jwt_secret, sub='flow', roles=['hr'], agency=AGENCY)}"}
    client = app.test_client()
    answers = []

    def post(path: str, body: dict) -> dict:
        r = client.post(f"{N}{path}", json=body, headers=hr)
        assert r.status_code == 200, r.get_json()
        answers.append(r.get_json())
        return r.get_json()

    def remind(recipients: list) -> dict:
        body = {
            "batch_key": KEY,
            "template": "reminder.skp_submission",
            "recipients": recipients,
            "deadline": (T0 - timedelta(days=3)).isoformat(),
            "params": {"cycle_name": "Tahun 2026"},
        }
        return post("/reminders", body)

    first = remind(
        [{"nip": PEOPLE[4], "params": {"note": "pertama"}}, {"nip": PEOPLE[0]}]
        + [{"nip": PEOPLE[4]}, {"nip": INACTIVE}, {"nip": OTHER_AGENCY}, {"nip": UNKNOWN}, {"nip": PEOPLE[2]}]
    )
    assert first["created"] == [PEOPLE[4], PEOPLE[0], PEOPLE[2]]  # in the order named, each once
    assert first["already"] == [PEOPLE[4]] and first["unknown"] == [INACTIVE, OTHER_AGENCY, UNKNOWN]
    second = remind([{"nip": n} for n in PEOPLE[:10]])
    assert second["created"] == [n for n in PEOPLE[:10] if n not in (PEOPLE[0], PEOPLE[2], PEOPLE[4])]
    assert second["already"] == [PEOPLE[0], PEOPLE[2], PEOPLE[4]]
    assert [i["recipient_nip"] for i in second["items"]] == [PEOPLE[4], PEOPLE[0], PEOPLE[2]] + second["created"]
    remind([{"nip": n} for n in PEOPLE[8:]])
    part = post(f"/reminders/{KEY}/escalate", {"recipients": PEOPLE[:11], "partial": True})
    assert part["escalated"] == 2 * 11  # each level once a person (the head's superior level tells no one)
    post(f"/reminders/{KEY}/escalate", {"recipients": PEOPLE[11:], "partial": True})
    again = post(f"/reminders/{KEY}/escalate", {"recipients": PEOPLE[2:]})  # 1 and 2 are done now
    assert again["escalated"] == 0 and again["counts"]["done"] == 2
    assert again["counts"] == {"items": 22, "done": 2, "escalations": {"superior": 22, "hr": 22}}
    pages, cursor = [], None
    while True:
        r = client.get(
            f"{N}/reminders/{KEY}", headers=hr, query_string={"limit": 8, **({"cursor": cursor} if cursor else {})}
        )
        cursor = r.get_json()["next_cursor"]
        # the cursor names an item id, which is the database's own (PostgreSQL's sequence also
        # moves for the people a call names again): whether there is a next page is compared
        pages.append({**r.get_json(), "next_cursor": bool(cursor)})
        if not cursor:
            break
    with k.session_factory() as s:
        # in the order of their ids (the ids themselves are the database's own)
        items = [
            (i.recipient_nip, i.params, i.event_id, i.escalation_level, i.escalations, i.done_at is not None)
            for i in s.scalars(select(ReminderItem).order_by(ReminderItem.id))
        ]
        messages = [
            (n.event_id, n.template, n.recipient_key, n.audience, n.language, n.title, n.body_text, n.body_html)
            for n in s.scalars(select(Notification).order_by(Notification.id))
        ]
        deliveries = sorted(
            (d.event_id, d.recipient_key, d.channel, d.status, d.target, d.last_error, d.digest)
            for d in s.scalars(select(Delivery))
        )
    k.engine.dispose()
    return {"answers": answers, "pages": pages, "items": items, "messages": messages, "deliveries": deliveries}


def test_a_batch_and_its_escalation_are_the_same_on_postgresql_as_on_sqlite(tmp_path, postgres_url):
    on_sqlite = scenario(f"sqlite:///{tmp_path / 'notifications.db'}")
    on_postgres = scenario(postgres_url)
    for what in ("answers", "pages", "items", "messages", "deliveries"):
        assert on_postgres[what] == on_sqlite[what], what
    # and what that one result is: everyone reminded once, escalated once to each level, the items
    # in the order people were first named, the superior's stand-in told as well
    items = on_postgres["items"]
    assert [i[0] for i in items] == [PEOPLE[4], PEOPLE[0], PEOPLE[2]] + [
        n for n in PEOPLE if n not in (PEOPLE[0], PEOPLE[2], PEOPLE[4])
    ]
    assert items[0][1] == {"note": "pertama"} and all(i[1] == {} for i in items[1:])
    assert {i[0]: [e["to"] for e in i[4]] for i in items} == {n: ["superior", "hr"] for n in PEOPLE}
    assert {i[0] for i in items if i[5]} == {PEOPLE[0], PEOPLE[1]}  # marked done: not on the last list
    by_template: dict[str, int] = {}
    for m in on_postgres["messages"]:
        by_template[m[1]] = by_template.get(m[1], 0) + 1
    # 22 reminders; 21 superiors plus the Plt of nip(3) for nip(8), nip(9) and nip(10); 22 to HR
    assert by_template == {"reminder.skp_submission": 22, "escalation.superior": 24, "escalation.hr": 22}
    trail = {i[0]: i[4] for i in items}
    assert trail[nip(8)][0]["recipients"] == [nip(3), ACTING]
