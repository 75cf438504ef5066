"""People of the sample agency: realistic Indonesian names with titles, unique e-mail addresses,
phone numbers and valid NIPs (birth date, appointment month, sex, serial), and the golongan a
career has reached. Every draw comes from the one ``random.Random`` the builder is given."""

from __future__ import annotations

import calendar
import random
import re

from .catalogue import EDU, EMAIL_DOMAIN, JF_LEVELS, NAME_GROUPS, PHONE_PREFIXES, PREFIX_TITLES, NameGroup

REFERENCE_YEAR = 2025  # "now" for seniority, fixed (no clock)
LAST_APPOINTMENT = (2024, 12)  # no appointment after this month


def given_name(full_name: str) -> str:
    """The first given name of a display name, ignoring prefix and suffix titles."""
    core = full_name.split(",", 1)[0]
    for token in core.split():
        if token not in PREFIX_TITLES:
            return token
    raise ValueError(f"no given name in {full_name!r}")


def jf_level(track: str, grade_idx: int) -> str:
    """The jabatan fungsional level ("Ahli Muda", "Mahir", ...) of a grade on a track."""
    levels = JF_LEVELS[track if track == "ahli" else "terampil"]
    for top, name in levels:
        if grade_idx <= top:
            return name
    return levels[-1][1]


class PeopleBuilder:
    """Draws people, keeping NIPs, e-mail addresses and phone numbers unique."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.nips: set[str] = set()
        self.emails: set[str] = set()
        self.phones: set[str] = set()

    def person(
        self,
        *,
        female_prob: float,
        birth: tuple[int, int],
        edu: str,
        prefix: str,
        suffix: str,
        religion: str | None = None,
    ) -> dict:
        rng = self.rng
        female = rng.random() < female_prob
        groups = [(k, g) for k, g in NAME_GROUPS.items() if religion is None or g.religion == religion]
        _, group = rng.choices(groups, weights=[g.weight for _, g in groups])[0]
        nip, birth_year, appt_year = self.nip(female, birth, edu)
        name, email_parts = self.name(group, female, prefix, suffix, birth_year)
        return {
            "nip": nip,
            "name": name,
            "email": self.email(email_parts),
            "phone": self.phone(),
            "female": female,
            "appointment_year": appt_year,
        }

    def name(self, group: NameGroup, female: bool, prefix: str, suffix: str, birth_year: int) -> tuple[str, list[str]]:
        rng = self.rng
        first = rng.choice(group.female_first if female else group.male_first)
        parts = [first]
        seconds = group.female_second if female else group.male_second
        if group.clan:
            if rng.random() < 0.35:
                parts.append(rng.choice(seconds))
            clan = rng.choice(group.clan)
            if female and rng.random() < group.boru_prob:
                parts.append("br.")
            parts.append(clan)
        elif rng.random() >= group.single_name_prob:
            second = rng.choice(seconds)
            if second != first:
                parts.append(second)
        prefixes = []
        if prefix == "Drs.":
            prefix = "Dra." if female else "Drs."
        if prefix:
            prefixes.append(prefix)
        if group.religion == "islam" and birth_year < 1978 and rng.random() < 0.25:
            prefixes.append("Hj." if female else "H.")
        display = " ".join(prefixes + parts)
        if suffix:
            display += ", " + suffix
        email_parts = [p for p in parts if p != "br."]
        email_parts = [email_parts[0], email_parts[-1]] if len(email_parts) > 1 else email_parts
        return display, email_parts

    def email(self, parts: list[str]) -> str:
        base = ".".join(re.sub(r"[^a-z0-9]", "", p.lower()) for p in parts)
        local, n = base, 1
        while f"{local}@{EMAIL_DOMAIN}" in self.emails:
            n += 1
            local = f"{base}{n}"
        address = f"{local}@{EMAIL_DOMAIN}"
        self.emails.add(address)
        return address

    def phone(self) -> str:
        rng = self.rng
        while True:
            prefix = rng.choice(PHONE_PREFIXES)
            rest = "".join(str(rng.randrange(10)) for _ in range(rng.choice((7, 8, 8))))
            phone = prefix + rest
            if phone not in self.phones:
                self.phones.add(phone)
                return phone

    def nip(self, female: bool, birth: tuple[int, int], edu: str) -> tuple[str, int, int]:
        rng = self.rng
        _, min_age = EDU[edu]
        lo, hi = birth
        last_y, last_m = LAST_APPOINTMENT
        hi = min(hi, 1998, last_y - min_age - 1)
        lo = max(lo, 1965)
        while True:
            # staff skew younger: max of two draws when the range is wide
            year = rng.randint(lo, hi)
            if hi - lo > 20:
                year = max(year, rng.randint(lo, hi))
            month = rng.randint(1, 12)
            day = rng.randint(1, calendar.monthrange(year, month)[1])
            max_age = min(35, last_y - year - 1)
            age = rng.randint(min_age, max(min_age, min(max_age, min_age + rng.choice((2, 4, 6, 10)))))
            # appointment: 1..11 months after the birthday in the year the person turns `age`
            total = (year + age) * 12 + (month - 1) + rng.randint(1, 11)
            appt_y, appt_m = divmod(total, 12)
            appt_m += 1
            if (appt_y, appt_m) > (last_y, last_m):
                appt_y, appt_m = last_y, last_m
            if (appt_y, appt_m, 1) < (year + 20, month, day) or appt_y - year > 36:
                continue
            nip = f"{year:04d}{month:02d}{day:02d}{appt_y:04d}{appt_m:02d}{2 if female else 1}{rng.randint(1, 999):03d}"
            if nip not in self.nips:
                self.nips.add(nip)
                return nip, year, appt_y

    @staticmethod
    def grade_index(edu: str, appointment_year: int, lo: int, hi: int) -> int:
        start, _ = EDU[edu]
        natural = start + max(0, REFERENCE_YEAR - appointment_year) // 4
        return max(lo, min(hi, natural))
