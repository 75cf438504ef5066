"""Deterministic sample agency for demos and tests.

Generates a fictional city government ("Pemerintah Kota Teluk Damar") with a
tree of units (Sekretariat Daerah at the root, dinas/badan below it, puskesmas,
a school and a civil-registration service unit below their dinas) and about
200 employees with realistic Indonesian names, valid NIPs, golongan, positions
and reporting lines.  It also provides RHK/IKI text for cascaded SKP demos.

Everything is driven by ``random.Random(seed)``: no I/O beyond reading this package's JSON
data (people.json, units.json, rhk.json), no clock. The modules: ``catalogue`` (the data as
dataclasses), ``people`` (names, NIPs, contacts), ``agency`` (``build`` and the CSV), ``rhk``.
"""

from __future__ import annotations

from .agency import SampleAgency, SampleEmployee, SampleUnit, build, employees_csv, unit_kind, units_csv
from .catalogue import (
    AGENCY_CODE,
    AGENCY_NAME,
    CITY_NAME,
    EMAIL_DOMAIN,
    FEMALE_FIRST_NAMES,
    GRADES,
    MALE_FIRST_NAMES,
    PREFIX_TITLES,
)
from .people import given_name
from .rhk import head_goals, rhk_for

__all__ = [
    "AGENCY_CODE",
    "AGENCY_NAME",
    "CITY_NAME",
    "EMAIL_DOMAIN",
    "GRADES",
    "PREFIX_TITLES",
    "MALE_FIRST_NAMES",
    "FEMALE_FIRST_NAMES",
    "SampleUnit",
    "SampleEmployee",
    "SampleAgency",
    "build",
    "units_csv",
    "employees_csv",
    "unit_kind",
    "head_goals",
    "rhk_for",
    "given_name",
]
