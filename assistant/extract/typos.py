"""Misspelt cue words ("femal", "pregant", "alergic", "allergys"), corrected before reading.

Only the words the reader keys on are corrected (sex, pregnancy, allergy and medication words):
a typo there would otherwise hide a whole field. Diagnosis and drug names are matched by
similarity where they are looked up (coding.py, the guardrails normaliser), and flagged there.
A word is corrected when it is one edit from a cue word (two for words of eight letters or
more; at least five letters) and is not itself a cue word or a listed real word.
"""

from __future__ import annotations

import re
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

CUE_WORDS = ("female", "male", "woman", "pregnant", "pregnancy", "allergic", "allergy",
             "allergies", "medications", "medication", "history", "diagnosis", "postmenopausal",
             "breastfeeding", "unknown")
# Short misspellings an edit distance cannot tell from other words.
_SHORT = {"mle": "male", "fem": "female", "femal": "female"}
# Real words one edit from a cue word.
_KEEP = frozenset({"allergen", "allergens", "females", "males", "medicine", "medicines",
                   "history's", "mystery", "pregnancies", "wombat", "women", "diagnosed",
                   "diagnoses", "allergist", "medicated", "historic", "femoral", "malignant"})
_WORD = re.compile(r"\b[A-Za-z]{5,}\b")


@lru_cache(maxsize=4096)
def _correct(word: str) -> str | None:
    low = word.lower()
    if low in CUE_WORDS or low in _KEEP:
        return None
    limit = 2 if len(low) >= 7 else 1
    best = min(CUE_WORDS, key=lambda c: Levenshtein.distance(low, c))
    if Levenshtein.distance(low, best) <= limit and low[0] == best[0]:
        return best
    return None


def fix_cue_typos(text: str) -> str:
    text = re.sub(r"\b(?:mle|fem)\b", lambda m: _SHORT[m.group(0).lower()], text, flags=re.I)

    def sub(m: re.Match) -> str:
        fixed = _correct(m.group(0))
        return fixed if fixed else m.group(0)
    return _WORD.sub(sub, text)
