"""RHK (rencana hasil kerja) with IKI for cascaded SKP demos: the unit heads' goals per unit kind,
a position-specific result for everyone else, preferring the one closest to the parent RHK.
The texts are in rhk.json beside this module."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .agency import unit_kind
from .catalogue import load

# IKI option: (aspect, indicator, low, high, step, unit)
Iki = tuple[str, str, float, float, float, str]


@dataclass(frozen=True)
class Rhk:
    description: str
    iki: tuple[Iki, ...]
    topics: tuple[str, ...] = ()


def _rhk(d: dict) -> Rhk:
    return Rhk(d["description"], tuple(tuple(i) for i in d["iki"]), tuple(d.get("topics", ())))


_DATA = load("rhk.json")
ASPECTS: tuple[str, ...] = tuple(_DATA["aspects"])
HEAD_PREFIXES: tuple[str, ...] = tuple(_DATA["head_prefixes"])
STOPWORDS = frozenset(_DATA["stopwords"])
HEAD_RHK: dict[str, tuple[Rhk, ...]] = {kind: tuple(_rhk(t) for t in ts) for kind, ts in _DATA["head"].items()}
# Ordered: the first keyword contained in the (lower-case) position wins.
POSITION_RHK: tuple[tuple[str, tuple[Rhk, ...]], ...] = tuple(
    (p["keyword"], tuple(_rhk(t) for t in p["rhk"])) for p in _DATA["positions"]
)
FALLBACK: dict = _DATA["fallback"]


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9-]+", text.lower()) if len(w) >= 4 and w not in STOPWORDS}


def _best(templates: tuple[Rhk, ...], parent_rhk: str, rng: random.Random) -> Rhk:
    parent = _words(parent_rhk)
    scored = [(len(parent & (_words(t.description) | set(t.topics))), t) for t in templates]
    top = max(s for s, _ in scored)
    return rng.choice([t for s, t in scored if s == top])


def _value(lo: float, hi: float, step: float, rng: random.Random) -> int | float:
    n = int(round((hi - lo) / step))
    v = lo + step * rng.randint(0, n)
    if all(float(x).is_integer() for x in (lo, hi, step)):
        return int(round(v))
    return round(v, 2)


def _iki(template: Rhk, rng: random.Random) -> list[dict]:
    by_aspect: dict[str, list[Iki]] = {}
    for item in template.iki:
        by_aspect.setdefault(item[0], []).append(item)
    aspects = [a for a in ASPECTS if a in by_aspect]
    first = "kuantitas" if "kuantitas" in by_aspect else aspects[0]
    others = [a for a in aspects if a != first]
    k = min(len(others), rng.choice((1, 1, 2)) if others else 0)
    chosen = {first, *rng.sample(others, k)}
    out = []
    for aspect in ASPECTS:
        if aspect in chosen:
            _, indicator, lo, hi, step, unit = rng.choice(by_aspect[aspect])
            out.append(
                {
                    "aspect": aspect,
                    "indicator": indicator,
                    "target_value": _value(lo, hi, step, rng),
                    "target_unit": unit,
                }
            )
    return out


def head_goals(unit_code: str) -> list[str]:
    """Organisational goals (perjanjian kinerja) for the head of a unit."""
    return [t.description for t in HEAD_RHK.get(unit_kind(unit_code), HEAD_RHK["umum"])]


def rhk_for(position: str, unit_code: str, parent_rhk: str, rng: random.Random) -> dict:
    """An RHK with 1-3 IKI (distinct aspects) for ``position`` in ``unit_code`` supporting ``parent_rhk``.

    Unit heads get one of their unit's goals (the closest to ``parent_rhk``); other positions get a
    position-specific result, preferring the one that best matches the parent RHK.
    """
    pos = position.lower()
    kind = unit_kind(unit_code)
    if pos.startswith(HEAD_PREFIXES):
        template = _best(HEAD_RHK.get(kind, HEAD_RHK["umum"]), parent_rhk, rng)
    else:
        for keyword, templates in POSITION_RHK:
            if keyword in pos:
                template = _best(templates, parent_rhk, rng)
                break
        else:
            core = parent_rhk.strip().rstrip(".")
            target = FALLBACK["target"].format(core=core) if core else ""
            template = _rhk(
                {
                    "description": FALLBACK["description"].format(position=position, target=target),
                    "iki": FALLBACK["iki"],
                }
            )
    return {"description": template.description, "iki": _iki(template, rng)}
