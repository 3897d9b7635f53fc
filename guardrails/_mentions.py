"""Drug names in free text ("on levothyroxine and lisinopril"): exact matches only.

Spans of 1-4 words are looked up, longest first, left to right, without overlap. A span is
reported when it names clinical ingredients (those the clinical sources name) and is not in
data/mention_stoplist.json. Brands need at least 5 letters unless they are curated products,
since short brand coinages collide with ordinary words. No fuzzy matching: free text is full
of words that look like drug names.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache

from guardrails import _kb, _text
from guardrails._normalize import normalize
from guardrails._types import NormalizedDrug
from rxassist.errors import InvalidInput

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-'][A-Za-z0-9]+)*")
MAX_WORDS = 4


@lru_cache(maxsize=1)
def _stoplist() -> frozenset[str]:
    raw = json.loads((_kb.DATA_DIR / "mention_stoplist.json").read_text(encoding="utf-8"))
    return frozenset(_text.key(w) for w in raw["words"])


@lru_cache(maxsize=1)
def _curated_products() -> frozenset[str]:
    raw = json.loads((_kb.DATA_DIR / "products.json").read_text(encoding="utf-8"))
    return frozenset(_text.key(p) for p in raw["products"])


def _acceptable(k: str, kb: _kb.KnowledgeBase) -> bool:
    e = kb.lookup(k)
    if e is None or k in _stoplist() or len(k) < 4:
        return False
    if not all(i in kb.clinical for i in e.ingredients):
        return False
    return (not e.brand) or k in _curated_products() or len(k.replace(" ", "")) >= 5


def find_drug_mentions(text: str) -> list[NormalizedDrug]:
    """Drug names found in `text`, in order of appearance, each normalised."""
    if not isinstance(text, str):
        raise InvalidInput(f"text must be a string, got {type(text).__name__}")
    kb = _kb.load()
    words = list(_WORD_RE.finditer(text))
    out: list[NormalizedDrug] = []
    i = 0
    while i < len(words):
        for n in range(min(MAX_WORDS, len(words) - i), 0, -1):
            start, end = words[i].start(), words[i + n - 1].end()
            span = text[start:end]
            if _acceptable(_text.key(span), kb):
                out.append(normalize(span))
                i += n
                break
        else:
            out += _hyphenated_parts(words[i].group(0), kb)
            i += 1
    return out


def _hyphenated_parts(word: str, kb: _kb.KnowledgeBase) -> list[NormalizedDrug]:
    """"hydrocodone-acetaminophen", "carbidopa-levodopa": a combination written with a hyphen
    names each of its drugs, as "hydrocodone/acetaminophen" does."""
    parts = word.split("-")
    if len(parts) < 2 or not all(_acceptable(_text.key(p), kb) for p in parts):
        return []
    return [normalize(p) for p in parts]
