"""Who a notification is addressed to: :class:`Target` (a person from the read model, or an HR
contact), found for a rule's audience from the event's payload and the reporting lines — with the
people, their preferences and the units loaded in bulk, once per event or batch
(:class:`Recipients`, which the :class:`~services.notifications.recording.Recorder` builds on)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from .models import AgencySettings, Person, Preference, UnitRef
from .rules import hr_contacts

# built once with bound parameters (building and hashing a select per event cost about as much as running it)
_NIPS = bindparam("nips", expanding=True)
_PEOPLE = select(Person).where(Person.nip.in_(_NIPS))
_PREFS = select(Preference).where(Preference.nip.in_(_NIPS))
_SUPERIORS = select(Person.superior_nip).where(Person.nip.in_(_NIPS), Person.superior_nip.is_not(None))
_PEOPLE_AND_SUPERIORS = select(Person).where(or_(Person.nip.in_(_NIPS), Person.nip.in_(_SUPERIORS)))
_PREFS_AND_SUPERIORS = select(Preference).where(or_(Preference.nip.in_(_NIPS), Preference.nip.in_(_SUPERIORS)))


@dataclass
class Target:
    key: str  # the NIP for people, hr:<id> for HR contacts without one
    nip: str | None
    name: str
    email: str | None
    phone: str | None
    language: str
    audience: str


class Recipients:
    """The lookups of one event (or batch) in one agency, each loaded once: people, preferences,
    units, the agency's Apprise URLs."""

    def __init__(self, s: Session, agency: str | None):
        self.s, self.agency = s, agency
        self.people: dict[str, Person | None] = {}
        self.prefs: dict[str, Preference | None] = {}
        self.units: dict[str, UnitRef | None] = {}
        self._agency_urls: list[str] | None = None

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
        if code not in self.units:
            with self.s.no_autoflush:
                self.units[code] = self.s.scalar(
                    select(UnitRef).where(UnitRef.agency_code == (self.agency or ""), UnitRef.code == code)
                )
        u = self.units[code]
        return {"code": code, "name": u.name if u else code}

    def agency_urls(self) -> list[str]:
        if self._agency_urls is None:
            with self.s.no_autoflush:
                row = self.s.get(AgencySettings, self.agency) if self.agency else None
            self._agency_urls = list(row.apprise_urls or []) if row else []
        return self._agency_urls

    # -- targets
    def person_target(self, nip: str | None, audience: str) -> Target | None:
        person = self.person(nip)
        if person is None or not person.active:
            return None
        return Target(
            person.nip, person.nip, person.name, person.email, person.phone, person.language or "id", audience
        )

    def hr_targets(self, audience: str = "hr") -> list[Target]:
        out = []
        for c in hr_contacts(self.s, self.agency or ""):
            person = self.person(c.nip) if c.nip else None
            if person is None:
                out.append(Target(f"hr:{c.id}", None, c.name, c.email, None, c.language or "id", audience))
                continue
            name, email, language = c.name or person.name, c.email or person.email, c.language or person.language
            out.append(Target(person.nip, person.nip, name, email, person.phone, language, audience))
        return out

    def agency_targets(self, audience: str) -> list[Target]:
        """Everyone active in the agency (a stage opening for all)."""
        people = list(
            self.s.scalars(
                select(Person)
                .where(Person.agency_code == (self.agency or ""), Person.active.is_(True))
                .order_by(Person.nip)
            )
        )
        for p in people:
            self.people[p.nip] = p
        self.preload([p.nip for p in people])
        return [t for t in (self.person_target(p.nip, audience) for p in people) if t]

    def audience(self, audience: str, data: dict) -> list[Target]:
        """The targets of a rule's ``audience`` for an event's payload: the parties it names, else
        (penilai, atasan) the reporting lines of the read model."""
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
        elif audience == "penilai":
            nip = data["penilai_nip"] if "penilai_nip" in data else self.superior_of(data.get("employee_nip"))
        elif audience == "atasan":
            if "atasan_nip" in data:
                nip = data["atasan_nip"]
            else:
                nip = self.superior_of(data.get("penilai_nip") or self.superior_of(data.get("employee_nip")))
        else:  # pragma: no cover - rules are validated
            return []
        target = self.person_target(nip if isinstance(nip, str) else None, audience)
        return [target] if target else []
