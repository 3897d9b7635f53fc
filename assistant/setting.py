"""The care setting a consultation states: "admitted", "inpatient", "ICU", "ED" (English and
Korean), so the candidate index prefers that setting's guideline rows (IV ceftriaxone with
azithromycin on the ward, oral amoxicillin at home).

    read_setting(texts) -> 'icu' | 'inpatient' | 'outpatient' | None

The last stated setting wins (a patient "seen in clinic, now admitted" is an inpatient); ICU
words outrank ward words within one message. A negated mention ("not admitted", "no ICU")
does not count. None: nothing said, and the index assumes a setting from the diagnosis.
"""

from __future__ import annotations

import re
from typing import Iterable

_ICU = (r"\bicu\b|\bitu\b|intensive care|critical care|\bccu\b|\bmicu\b|\bsicu\b"
        r"|ventilated|on the ventilator|intubated|중환자실|집중치료실")
_INPATIENT = (r"\binpatient|\bin-patient|admitted|admission|hospitali[sz]ed|in hospital"
              r"|on the ward|\bward\b|emergency department|\b(?:in|to|from|at) (?:the )?(?:ed|er)\b"
              r"|\ba&e\b"
              r"|입원|응급실|병동")
_OUTPATIENT = (r"\boutpatient|\bout-patient|primary care|\bclinic\b|\bgp\b|at home"
               r"|office visit|외래|의원")
_NEGATION = r"(?:\bnot\b|\bno\b|\bwithout\b|\bnever\b|\bnon\b|\bavoid\w*)\W+(?:\w+\W+){0,2}$"

_KINDS = (("icu", re.compile(_ICU, re.I)), ("inpatient", re.compile(_INPATIENT, re.I)),
          ("outpatient", re.compile(_OUTPATIENT, re.I)))
_NEG = re.compile(_NEGATION, re.I)


def _in(text: str) -> str | None:
    for kind, pattern in _KINDS:
        for m in pattern.finditer(text):
            if not _NEG.search(text[max(0, m.start() - 30):m.start()]):
                return kind
    return None


def read_setting(texts: Iterable[str]) -> str | None:
    """The setting the clinician's messages state, the last one that states any."""
    found = None
    for text in texts:
        kind = _in(text or "")
        if kind is not None:
            found = kind
    return found


def user_texts(messages: list[dict]) -> list[str]:
    return [m.get("content") or "" for m in messages
            if m.get("role") == "user" and isinstance(m.get("content"), str)]
