"""Who a notification is addressed to: :class:`Target` (a person from the read model, or an HR
contact), found for a rule's audience from the event's payload and the reporting lines — with the
people, their preferences and the units loaded in bulk, once per event or batch
(:class:`Recipients`, which the :class:`~services.notifications.recorder.Recorder` builds on).

What is addressed to a penilai or an atasan also reaches whoever stands in for them today (an
acting official, Plt/Plh, of the read model): they rate, sign, countersign and decide in the
official's place, so they hear what the official hears, each as a separate recipient."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, event, select, union_all
from sqlalchemy.orm import Session

from services.common.usecase import today

from . import domain
from .models import ActingRef, AgencySettings, Person, Preference, UnitRef
from .rules import hr_contacts

# built once with bound parameters (building and hashing a select per event cost about as much as running it)
_NIPS = bindparam("nips", expanding=True)
_PEOPLE = select(Person).where(Person.nip.in_(_NIPS))
_PREFS = select(Preference).where(Preference.nip.in_(_NIPS))
_SUPERIORS = select(Person.superior_nip).where(Person.nip.in_(_NIPS), Person.superior_nip.is_not(None))
# UNION ALL, not OR: PostgreSQL cannot use the primary key for ``nip IN (…) OR nip IN (subquery)`` and
# scanned the whole read model per event (9 ms at 10,000 people, growing with the agency)
_PEOPLE_AND_SUPERIORS = select(Person).from_statement(
    union_all(select(Person).where(Person.nip.in_(_NIPS)), select(Person).where(Person.nip.in_(_SUPERIORS)))
)
_PREFS_AND_SUPERIORS = select(Preference).from_statement(
    union_all(
        select(Preference).where(Preference.nip.in_(_NIPS)), select(Preference).where(Preference.nip.in_(_SUPERIORS))
    )
)
_AGENCY = bindparam("agency")
# a province's 100,000 people as plain rows with what a message needs, not as ORM objects (building
# them was a fifth of the notifications worker's time on a stage opening)
_AGENCY_PEOPLE = (
    select(
        Person.nip,
        Person.agency_code,
        Person.name,
        Person.email,
        Person.phone,
        Person.superior_nip,
        Person.language,
        Person.active,
    )
    .where(Person.agency_code == _AGENCY, Person.active.is_(True))
    .order_by(Person.nip)
)
_AGENCY_PREFS = (
    select(Preference)
    .join(Person, Person.nip == Preference.nip)
    .where(Person.agency_code == _AGENCY, Person.active.is_(True))
)
#: key in ``Session.info``: the agency's units, today's acting appointments and Apprise URLs, read
#: once per session (the consumer's batch of events); writing a unit or an appointment, or the
#: agency's settings, in that session forgets them
DIRECTORY_MEMO = "notifications.directory"
PEOPLE_MEMO = "notifications.people"
"""Key in ``Session.info``: the people and preferences looked up in this transaction, shared by its
events' recorders (a batch's events name the same superiors); forgotten at the transaction's end
and when the session writes a person or a preference (:func:`forget_people`)."""
_UNIT_NAME = select(UnitRef.name).where(UnitRef.agency_code == _AGENCY, UnitRef.code == bindparam("code"))
_ON = bindparam("on", type_=ActingRef.start_date.type)
_ACTING_ON = (
    select(ActingRef)
    .where(ActingRef.agency_code == bindparam("agency"), ActingRef.start_date <= _ON, ActingRef.end_date >= _ON)
    .order_by(ActingRef.id)
)


def forget_people(s: Session) -> None:
    """The session wrote a person or a preference: its next recorder reads them afresh."""
    s.info.pop(PEOPLE_MEMO, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_end(session: Session, transaction) -> None:
    if transaction.parent is None:  # another transaction may have changed them since
        session.info.pop(PEOPLE_MEMO, None)


@dataclass
class Target:
    key: str  # the NIP for people, hr:<id> for HR contacts without one
    nip: str | None
    name: str
    email: str | None
    phone: str | None
    language: str
    audience: str
    #: an acting official's: whom they stand in for (``kind``, ``nip``, ``name``), for the message's note
    acting_for: dict | None = None


class Recipients:
    """The lookups of one event (or batch) in one agency, each loaded once: people, preferences,
    units, the agency's Apprise URLs."""

    def __init__(self, s: Session, agency: str | None):
        self.s, self.agency = s, agency
        # a Person, or for everyone of a stage opening a row with its lookup columns (read, never
        # changed), and their preferences: the transaction's, shared by its recorders (PEOPLE_MEMO)
        people, prefs = s.info.setdefault(PEOPLE_MEMO, ({}, {}))
        self.people: dict[str, Person | None] = people
        self.prefs: dict[str, Preference | None] = prefs
        self._agency_urls: list[str] | None = None
        self._acting: dict[str, list[ActingRef]] | None = None  # for_nip → today's appointments
        self._hr_contacts: list | None = None

    # -- lookups
    def person(self, nip: str | None) -> Person | None:
        if not nip:
            return None
        if nip not in self.people:
            with self.s.no_autoflush:  # a lookup: the pending notifications are inserted together later
                self.people[nip] = self.s.get(Person, nip)
        return self.people[nip]

    def superior_of(self, nip: str | None) -> str | None:
        return getattr(self.person(nip), "superior_nip", None)

    def preload(self, nips, *, superiors: bool = False) -> None:
        """People and their preferences, two queries per 500 (``superiors``: their superiors as
        well, in the same two queries)."""
        missing = sorted({n for n in nips if n and (n not in self.people or n not in self.prefs)})
        people_q, prefs_q = (_PEOPLE_AND_SUPERIORS, _PREFS_AND_SUPERIORS) if superiors else (_PEOPLE, _PREFS)
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            with self.s.no_autoflush:
                found = {p.nip: p for p in self.s.scalars(people_q, {"nips": chunk})}
                prefs = {p.nip: p for p in self.s.scalars(prefs_q, {"nips": chunk})}
            for nip in chunk:
                self.people.setdefault(nip, found.get(nip))
                self.prefs[nip] = prefs.get(nip)
            for nip, person in found.items():  # the superiors
                if nip not in self.people or nip not in self.prefs:
                    self.people.setdefault(nip, person)
                    self.prefs[nip] = prefs.get(nip)

    def pref(self, nip: str | None) -> Preference | None:
        if not nip:
            return None
        if nip not in self.prefs:
            with self.s.no_autoflush:
                self.prefs[nip] = self.s.get(Preference, nip)
        return self.prefs[nip]

    def unit(self, code: str) -> dict:
        memo = self.s.info.setdefault(DIRECTORY_MEMO, {})
        key = ("unit", self.agency or "", code)
        if key not in memo:
            with self.s.no_autoflush:
                memo[key] = self.s.scalar(_UNIT_NAME, {"agency": self.agency or "", "code": code})
        return {"code": code, "name": memo[key] or code}

    def acting_for(self, nip: str | None) -> list[ActingRef]:
        """The appointments (Plt/Plh) standing in for ``nip`` today (the agency's zone, as reviews
        lets them act), oldest first — all of the agency's loaded once, with their acting officials."""
        if not nip or not self.agency:
            return []
        if self._acting is None:
            memo, on = self.s.info.setdefault(DIRECTORY_MEMO, {}), today()
            if ("acting", self.agency, on) not in memo:
                with self.s.no_autoflush:
                    memo["acting", self.agency, on] = list(
                        self.s.scalars(_ACTING_ON, {"agency": self.agency, "on": on})
                    )
            rows = memo["acting", self.agency, on]
            self._acting = {}
            for a in rows:
                self._acting.setdefault(a.for_nip, []).append(a)
            self.preload([a.acting_nip for a in rows])
        return self._acting.get(nip, [])

    def agency_urls(self) -> list[str]:
        if self._agency_urls is None:
            memo = self.s.info.setdefault(DIRECTORY_MEMO, {})
            if ("urls", self.agency) not in memo:
                with self.s.no_autoflush:
                    row = self.s.get(AgencySettings, self.agency) if self.agency else None
                memo["urls", self.agency] = list(row.apprise_urls or []) if row else []
            self._agency_urls = list(memo["urls", self.agency])
        return self._agency_urls

    # -- targets
    def person_target(self, nip: str | None, audience: str) -> Target | None:
        person = self.person(nip)
        if person is None or not person.active:
            return None
        return Target(
            person.nip, person.nip, person.name, person.email, person.phone, person.language or "id", audience
        )

    def acting_targets(self, nip: str | None, audience: str, exclude=()) -> list[Target]:
        """Whoever stands in for ``nip`` today, each once (an inactive one, or one in ``exclude``, is
        skipped), addressed as ``audience``."""
        out: list[Target] = []
        official = self.person(nip)
        for a in self.acting_for(nip):
            if a.acting_nip == nip or a.acting_nip in exclude or any(t.key == a.acting_nip for t in out):
                continue
            target = self.person_target(a.acting_nip, audience)
            if target is not None:
                target.acting_for = {"kind": a.kind, "nip": nip, "name": official.name if official else nip}
                out.append(target)
        return out

    def official_targets(self, nip: str | None, audience: str, exclude=()) -> list[Target]:
        """The official (when active) and whoever stands in for them today, each once."""
        first = self.person_target(nip, audience)
        stand_ins = [t for t in self.acting_targets(nip, audience, exclude) if first is None or t.key != first.key]
        return ([first] if first else []) + stand_ins

    def hr_targets(self, audience: str = "hr") -> list[Target]:
        # the agency's HR contacts read once per request or event (an escalation call asked for them
        # once per overdue person: a query each, and an autoflush of the item just escalated)
        if self._hr_contacts is None:
            self._hr_contacts = hr_contacts(self.s, self.agency or "")
        out = []
        for c in self._hr_contacts:
            person = self.person(c.nip) if c.nip else None
            if person is None:
                out.append(Target(f"hr:{c.id}", None, c.name, c.email, None, c.language or "id", audience))
                continue
            name, email, language = c.name or person.name, c.email or person.email, c.language or person.language
            out.append(Target(person.nip, person.nip, name, email, person.phone, language, audience))
        return out

    def agency_targets(self, audience: str) -> list[Target]:
        """Everyone active in the agency (a stage opening for all)."""
        with self.s.no_autoflush:
            people = self.s.execute(_AGENCY_PEOPLE, {"agency": self.agency or ""}).all()
            # their preferences in one query (loading them by NIP, 500 at a time, read the people a
            # second time: 400 queries for a province, 40 % of a stage opening's lookups)
            prefs = {p.nip: p for p in self.s.scalars(_AGENCY_PREFS, {"agency": self.agency or ""})}
        for p in people:
            self.people[p.nip] = p
            if p.nip not in self.prefs:
                self.prefs[p.nip] = prefs.get(p.nip)
        return [t for t in (self.person_target(p.nip, audience) for p in people) if t]

    def audience(self, audience: str, data: dict) -> list[Target]:
        """The targets of a rule's ``audience`` for an event's payload: the parties it names, else
        (penilai, atasan) the reporting lines of the read model — and for penilai and atasan, whoever
        stands in for them today (never the employee the event is about: a Plh rates nobody's
        plan of their own)."""
        if audience == "hr":
            return self.hr_targets()
        if audience == "agency_all":
            return self.agency_targets(audience)
        if audience == "employee":
            nip = data.get("employee_nip")
        elif audience == "owner":
            nip = data.get("owner_nip")
        elif audience == "rater":  # a colleague asked for peer feedback
            nip = data.get("rater_nip")
        elif audience == "giver":  # the superior who wrote the feedback an employee replied to
            nip = data.get("giver_nip")
        elif audience == "acting":  # the acting official an appointment names
            nip = data.get("acting_nip")
        elif audience == "penilai":
            nip = data["penilai_nip"] if "penilai_nip" in data else self.superior_of(data.get("employee_nip"))
        elif audience == "atasan":
            if "atasan_nip" in data:
                nip = data["atasan_nip"]
            else:
                nip = self.superior_of(data.get("penilai_nip") or self.superior_of(data.get("employee_nip")))
        else:  # pragma: no cover - rules are validated
            return []
        nip = nip if isinstance(nip, str) else None
        if audience in domain.ACTING_AUDIENCES:
            employee = data.get("employee_nip")
            return self.official_targets(nip, audience, exclude=(employee,) if isinstance(employee, str) else ())
        target = self.person_target(nip, audience)
        return [target] if target else []
