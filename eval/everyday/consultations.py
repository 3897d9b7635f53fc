"""Loading and validating the everyday consultation set (see package docstring)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal

from pydantic import Field, ValidationError, field_validator

from rxassist.cases import Case
from rxassist.errors import ConfigError

CONSULTATIONS_FILE = Path(__file__).resolve().parent / "consultations.jsonl"


@lru_cache(maxsize=4096)
def ingredient_key(name: str) -> frozenset[str]:
    """A drug name -> its set of active ingredients (guardrails); empty when unreadable."""
    import guardrails

    r = guardrails.normalize(name)
    return frozenset(" ".join(i.lower().split()) for i in r.ingredients) if r.known else frozenset()


class Consultation(Case):
    message: str = Field(min_length=1, description="the consultation as a clinician types it")
    accepted: list[str] = Field(min_length=1, description="guideline-accepted first-line options")
    must_not_first: list[str] = Field(default_factory=list,
                                      description="critical-flagged for this patient")
    must_not_offer: list[str] = Field(default_factory=list,
                                      description="must not appear at any rank for this patient "
                                                  "(guardrails exclude it)")
    guideline: str = Field(min_length=1, description="citation of the guideline")
    setting: Literal["primary care", "hospital"] = "primary care"

    @field_validator("accepted", "must_not_first", "must_not_offer")
    @classmethod
    def _readable(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if not ingredient_key(n)]
        if bad:
            raise ValueError(f"guardrails cannot read {bad}")
        return names

    def accepts(self, ingredients: Iterable[str]) -> bool:
        key = frozenset(" ".join(i.lower().split()) for i in ingredients)
        return any(key == ingredient_key(a) for a in self.accepted)

    def must_not(self, ingredients: Iterable[str]) -> bool:
        """Whether a recommendation is one of the drugs that must not be offered."""
        key = frozenset(" ".join(i.lower().split()) for i in ingredients)
        return any(key == ingredient_key(m) for m in self.must_not_offer)

    def current_ingredients(self) -> frozenset[str]:
        out: set[str] = set()
        for m in self.patient.current_medications or []:
            out |= ingredient_key(m)
        return frozenset(out)


def read_consultations(path: str | Path = CONSULTATIONS_FILE) -> list[Consultation]:
    out: list[Consultation] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                c = Consultation.model_validate(json.loads(raw))
            except (json.JSONDecodeError, ValidationError) as e:
                raise ConfigError(f"{path} line {lineno}: {e}") from None
            if c.id in seen:
                raise ConfigError(f"{path} line {lineno}: duplicate id {c.id}")
            seen.add(c.id)
            out.append(c)
    return out
