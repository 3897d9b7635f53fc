"""Loading and validating the everyday consultation set (see package docstring)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError, field_validator

from rxassist.cases import Case
from rxassist.errors import ConfigError
import guardrails

CONSULTATIONS_FILE = Path(__file__).resolve().parent / "consultations.jsonl"
HOSPITAL_FILE = Path(__file__).resolve().parent / "hospital_consultations.jsonl"
MUST_ABSTAIN_FILE = Path(__file__).resolve().parent / "must_abstain.jsonl"


@lru_cache(maxsize=4096)
def ingredient_key(name: str) -> frozenset[str]:
    """A drug name -> its set of active ingredients (guardrails); empty when unreadable."""

    r = guardrails.normalize(name)
    return frozenset(" ".join(i.lower().split()) for i in r.ingredients) if r.known else frozenset()


def readable_names(names: list[str]) -> list[str]:
    """Field check shared by every case file: a drug name guardrails cannot read would make
    the case test nothing."""

    bad = [n for n in names if not ingredient_key(n)]
    if bad:
        raise ValueError(f"guardrails cannot read {bad}")
    return names


class Consultation(Case):
    message: str = Field(min_length=1, description="the consultation as a clinician types it")
    accepted: list[str] = Field(min_length=1, description="guideline-accepted first-line options")
    must_not_first: list[str] = Field(default_factory=list,
                                      description="critical-flagged for this patient")
    must_not_offer: list[str] = Field(default_factory=list,
                                      description="wrong for this diagnosis at any rank (worsens "
                                      "it, does not treat it, or the wrong setting's regimen)")
    guideline: str = Field(min_length=1, description="citation of the guideline")
    setting: Literal["primary care", "hospital"] = "primary care"

    @field_validator("accepted", "must_not_first", "must_not_offer")
    @classmethod
    def _readable(cls, names: list[str]) -> list[str]:
        return readable_names(names)

    def accepts(self, ingredients: Iterable[str]) -> bool:
        key = frozenset(" ".join(i.lower().split()) for i in ingredients)
        return any(key == ingredient_key(a) for a in self.accepted)

    def must_not_offer_hits(self, ingredients: Iterable[str]) -> list[str]:
        """The must-not-offer drugs a recommendation is (same ingredient set, as for
        `accepted`: azithromycin alone may be wrong where ceftriaxone with azithromycin is
        right; list a combination itself when it is wrong too)."""
        key = frozenset(" ".join(i.lower().split()) for i in ingredients)
        return [n for n in self.must_not_offer if ingredient_key(n) == key]

    def current_ingredients(self) -> frozenset[str]:
        out: set[str] = set()
        for m in self.patient.current_medications or []:
            out |= ingredient_key(m)
        return frozenset(out)


_CaseT = TypeVar("_CaseT", bound=BaseModel)


def read_case_file(path: str | Path, model: type[_CaseT]) -> list[_CaseT]:
    """One JSONL case per line, validated as `model`; ids unique (the model needs an `id`)."""

    out: list[_CaseT] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                c = model.model_validate(json.loads(raw))
            except (json.JSONDecodeError, ValidationError) as e:
                raise ConfigError(f"{path} line {lineno}: {e}") from None
            if c.id in seen:
                raise ConfigError(f"{path} line {lineno}: duplicate id {c.id}")
            seen.add(c.id)
            out.append(c)
    return out


def read_consultations(path: str | Path = CONSULTATIONS_FILE) -> list[Consultation]:
    return read_case_file(path, Consultation)
