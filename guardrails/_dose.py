"""Strength, form and frequency from a drug string, where the text gives them.

    parse("aspirin 81 mg")                  -> Dose(mg=81.0, per_day=None, route="systemic")
    parse("timolol eye drops")              -> Dose(route="ophthalmic")
    parse("Tylenol 500 mg tablets 2 q6h")   -> Dose(mg=500.0, units=2, doses_per_day=4) -> 4000/day

Only plain patterns are read ("<number> mg|mcg|g", "<n> tablets/capsules", a frequency word such
as bid/q6h/"twice daily"/"weekly"); anything else stays None and no dose rule fires on it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guardrails import _text

_UNIT_MG = {"mg": 1.0, "milligram": 1.0, "milligrams": 1.0, "mcg": 0.001, "ug": 0.001,
            "microgram": 0.001, "micrograms": 0.001, "g": 1000.0, "gm": 1000.0, "gram": 1000.0,
            "grams": 1000.0}
_STRENGTH_RE = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?)\s*(mg|milligrams?|mcg|ug|micrograms?|g|gm|grams?)\b")
_UNITS_RE = re.compile(
    r"\b(\d+|one|two|three|four)\s*(?:x\s*)?(?:tablets?|tabs?|capsules?|caps?|caplets?|pills?)\b")
_WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4}
# doses per day (weekly: 1/7)
_FREQ = [
    (re.compile(r"\b(?:once\s+(?:a\s+)?week(?:ly)?|weekly|q\s?week|qwk|every\s+week|/\s?week|"
                r"per\s+week)\b"), 1 / 7),
    (re.compile(r"\bq\s?(\d+)\s?h(?:rs?|ours?)?\b|\bevery\s+(\d+)\s+hours?\b"), None),
    (re.compile(r"\b(?:qid|four\s+times\s+(?:a\s+|per\s+)?day|4\s*x\s*(?:/\s*)?(?:a\s+|per\s+)?"
                r"day|4\s+times\s+(?:a\s+|per\s+)?day)\b"), 4.0),
    (re.compile(r"\b(?:tid|three\s+times\s+(?:a\s+|per\s+)?day|3\s*x\s*(?:/\s*)?(?:a\s+|per\s+)?"
                r"day|3\s+times\s+(?:a\s+|per\s+)?day)\b"), 3.0),
    (re.compile(r"\b(?:bid|twice\s+(?:a\s+)?(?:day|daily)|2\s*x\s*(?:/\s*)?(?:a\s+|per\s+)?day|"
                r"2\s+times\s+(?:a\s+|per\s+)?day)\b"), 2.0),
    (re.compile(r"\b(?:qd|od|once\s+(?:a\s+)?(?:day|daily)|daily|qam|qpm|qhs|nightly|"
                r"at\s+bedtime|per\s+day|a\s+day|/\s?day)\b"), 1.0),
]
_PER_DAY_RE = re.compile(r"\b(\d+(?:\.\d+)?)\s*(mg|mcg|g)\s*(?:/|per|a)\s*(day|d|24\s*h)\b")
# Forms whose action stays local: never counted as a systemic duplicate or interaction.
_LOCAL = [
    ("ophthalmic", re.compile(r"\b(?:eye\s*drops?|ophthalmic|ophth|eye\s+(?:ointment|gel)|"
                              r"collyre|gtts?\s+o[usd])\b")),
    ("otic", re.compile(r"\b(?:ear\s*drops?|otic)\b")),
    ("topical", re.compile(r"\b(?:cream|ointment|lotion|topical|shampoo|cutaneous|dermal|"
                           r"skin\s+gel|gel\s+(?:\d|topical)|(?:\d+(?:\.\d+)?\s*%)\s*gel|"
                           r"foam)\b")),
]


@dataclass(frozen=True)
class Dose:
    mg: float | None = None            # strength of one unit, in mg
    units: float | None = None         # units per dose ("2 tablets")
    doses_per_day: float | None = None
    mg_per_day_text: float | None = None  # "4 g/day" written out
    route: str = "systemic"            # systemic | ophthalmic | otic | topical

    @property
    def local(self) -> bool:
        return self.route != "systemic"

    @property
    def mg_per_day(self) -> float | None:
        """Daily amount when the text gives it or gives strength and frequency."""
        if self.mg_per_day_text is not None:
            return self.mg_per_day_text
        if self.mg is None or self.doses_per_day is None:
            return None
        return self.mg * (self.units or 1) * self.doses_per_day

    @property
    def weekly(self) -> bool:
        return self.doses_per_day is not None and self.doses_per_day < 1


def parse(text: str) -> Dose:
    t = _text.fold(text)
    route = next((r for r, rx in _LOCAL if rx.search(t)), "systemic")
    m = _PER_DAY_RE.search(t)
    per_day = float(m.group(1)) * _UNIT_MG[m.group(2)] if m else None
    strengths = _STRENGTH_RE.findall(t)
    # A combination ("acetaminophen 325 mg / oxycodone 5 mg") has one strength per part; a
    # single strength is only read when there is exactly one.
    mg = float(strengths[0][0]) * _UNIT_MG[strengths[0][1]] if len(strengths) == 1 else None
    u = _UNITS_RE.search(t)
    units = float(_WORD_NUM.get(u.group(1)) or u.group(1)) if u else None
    if units is None:
        # "500 mg 2 q6h": a bare count right before the frequency is a number of units.
        bare = re.search(r"\b(?:mg|g|mcg|tablets?|tabs?)\s+(\d)\s+(?=q|bid|tid|qid|daily)", t)
        units = float(bare.group(1)) if bare else None
    freq = None
    for rx, n in _FREQ:
        fm = rx.search(t)
        if fm:
            if n is None:
                hours = float(next(g for g in fm.groups() if g))
                freq = 24.0 / hours if hours > 0 else None
            else:
                freq = n
            break
    return Dose(mg, units, freq, per_day, route)
