"""Drug names -> comparison keys, through the guardrails normaliser.

A recommended drug matches a prescribed one by *product name* when their normalised names are
equal (guardrails.normalize(x).name, or the lowercased, whitespace-collapsed text when the
normaliser does not know the name), and by *ingredients* when every active ingredient of the
recommendation is among the prescribed drugs' ingredients. A name guardrails cannot resolve
counts as its own single "ingredient" (its lowercased text), so a made-up drug never matches
a real one, but an exact repeat of an unresolved prescribed name still does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable

import guardrails


@dataclass(frozen=True)
class DrugKey:
    name: str
    ingredients: frozenset[str]
    known: bool  # the normaliser resolved it


def plain(text: str) -> str:
    return " ".join(text.split()).lower()


@lru_cache(maxsize=65536)
def drug_key(text: str) -> DrugKey:

    fallback = plain(text)
    result = guardrails.normalize(text)
    if result.name is None:
        return DrugKey(fallback, frozenset({fallback}), False)
    ingredients = frozenset(plain(i) for i in result.ingredients) or frozenset({plain(result.name)})
    return DrugKey(plain(result.name), ingredients, True)


def ingredient_set(drugs: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for d in drugs:
        out |= drug_key(d).ingredients
    return frozenset(out)
