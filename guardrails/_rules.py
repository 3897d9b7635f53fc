"""Safety rules (guardrails/data/rules.json), validated on load and resolved against the KB."""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guardrails import _kb

RULES_PATH = _kb.DATA_DIR / "rules.json"
Sev = Literal["critical", "warning", "info"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FuzzyConfig(_Strict):
    min_score: float = Field(ge=50, le=100)
    min_margin: float = Field(ge=0, le=50)
    min_score_brand: float = Field(ge=50, le=100)
    min_margin_brand: float = Field(ge=0, le=50)
    lookalike_margin: float = Field(ge=0, le=50)
    min_length: int = Field(ge=3, le=20)
    # Edit distance (optimal string alignment) to the best name: a reading must be near a known
    # spelling, and clearly nearer than any other drug.
    max_edits: int = Field(2, ge=0, le=4, description="generic names")
    max_edits_brand: int = Field(1, ge=0, le=4, description="brand names (coinages)")
    min_length_two_edits: int = Field(10, ge=5, le=30,
                                      description="two edits only on names this long")
    edit_lead: int = Field(1, ge=0, le=4, description="other drugs at least this many edits "
                           "further (or the ratio margin above)")
    min_length_edit_rules: int = Field(7, ge=4, le=30, description="the single-edit and "
                                       "edit-lead allowances apply to names this long only")
    basis: str


class DrugClass(_Strict):
    label: str
    epc: list[str]
    members: list[str]
    # Members of an EPC that lack the class's clinical risk (loperamide is an opioid agonist
    # that stays in the gut at labelled doses: no sedation or respiratory depression).
    except_members: list[str] = Field(default_factory=list)


class RuleTarget(_Strict):
    """A rule applies to one class or to listed ingredients."""
    cls: str | None = Field(None, alias="class")
    ingredients: list[str] = Field(default_factory=list)
    severity: Sev
    basis: str

    @model_validator(mode="after")
    def _one_target(self):
        if (self.cls is None) == (not self.ingredients):
            raise ValueError("give exactly one of 'class' or 'ingredients'")
        return self


class PregnancyRule(RuleTarget):
    childbearing: str | None = Field(None, description=(
        "advice for a woman who could become pregnant (12-50, not known to be pregnant): a "
        "warning of its own that ranks the drug below safer options, where the label limits it "
        "to when other treatments failed (valproate's boxed warning)"))


class AgeRule(RuleTarget):
    max_age: float = Field(gt=0, le=130, description="applies when age < max_age (years)")


class SeverityBasis(_Strict):
    severity: Sev
    basis: str


class SameClass(SeverityBasis):
    classes: list[str]


class CrossSensitivity(_Strict):
    allergy_class: str
    drug_class: str
    severity: Sev
    basis: str


class AllergyRules(_Strict):
    description: str
    terms: dict[str, str]
    none_terms: list[str] = Field(description="texts meaning 'no known allergies'")
    class_allergy: SeverityBasis
    ingredient_allergy: SeverityBasis
    same_class: SameClass
    cross_sensitivity: list[CrossSensitivity]


class DuplicationRule(_Strict):
    """Two different ingredients of these classes in one list (current medications included)."""
    classes: list[str] = Field(min_length=1)
    label: str
    severity: Sev
    basis: str


class LowDoseAspirin(_Strict):
    max_mg_per_day: float = Field(gt=0, le=1000)
    max_strength_without_frequency_mg: float = Field(gt=0, le=1000)
    # ICD-10-CM prefixes of the vascular indications: aspirin without a dose for one of them
    # is an antiplatelet dose (an MI's aspirin is not an anti-inflammatory course).
    vascular_codes: list[str] = Field(default_factory=list)
    # A vascular history among the comorbidities (words; the codes are vascular_codes) or
    # implied by a current drug used only for it: prevention is then secondary
    # (guardrails.vascular_history).
    history_terms: list[str] = Field(default_factory=list)
    history_codes: list[str] = Field(default_factory=list)   # beyond vascular_codes
    history_markers: list[str] = Field(default_factory=list)
    history_basis: str = ""
    basis: str


class MaxDose(_Strict):
    """A documented maximum; per day, or per week for a drug given once weekly."""
    ingredient: str
    max_mg_per_day: float | None = Field(None, gt=0)
    max_mg_per_week: float | None = Field(None, gt=0)
    weekly_only: bool = False
    severity: Sev
    basis: str

    @model_validator(mode="after")
    def _one_limit(self):
        if (self.max_mg_per_day is None) == (self.max_mg_per_week is None):
            raise ValueError("give exactly one of max_mg_per_day or max_mg_per_week")
        return self


class DoseRules(_Strict):
    low_dose_aspirin: LowDoseAspirin
    max_dose: list[MaxDose]


class Rules(_Strict):
    version: str
    description: str
    fuzzy: FuzzyConfig
    classes: dict[str, DrugClass]
    allergies: AllergyRules
    pregnancy: list[PregnancyRule]
    age: list[AgeRule]
    therapeutic_duplication: list[DuplicationRule]
    doses: DoseRules

    @model_validator(mode="after")
    def _class_names_exist(self):
        used = [r.cls for r in [*self.pregnancy, *self.age] if r.cls]
        used += [c for r in self.therapeutic_duplication for c in r.classes]
        used += list(self.allergies.terms.values()) + self.allergies.same_class.classes
        used += [c for x in self.allergies.cross_sensitivity for c in (x.allergy_class, x.drug_class)]
        missing = sorted({c for c in used if c not in self.classes})
        if missing:
            raise ValueError(f"rules refer to undefined classes: {', '.join(missing)}")
        return self

    @cached_property
    def class_members(self) -> dict[str, frozenset[str]]:
        kb = _kb.load()
        out = {}
        for cid, c in self.classes.items():
            epc = set(c.epc)
            out[cid] = (frozenset(c.members) | {m for m, cs in kb.epc.items() if cs & epc}) \
                - set(c.except_members)
        return out

    @cached_property
    def classes_of(self) -> dict[str, frozenset[str]]:
        """ingredient -> class ids"""
        return classes_by_member(self.class_members)

    def members_of(self, rule: RuleTarget) -> frozenset[str]:
        return self.class_members[rule.cls] if rule.cls else frozenset(rule.ingredients)

    def names_not_in_kb(self) -> list[str]:
        """Rule ingredients the knowledge base does not know (a test keeps this empty)."""
        kb = _kb.load()
        names = {m for c in self.classes.values() for m in c.members}
        names |= {m for r in [*self.pregnancy, *self.age] for m in r.ingredients}
        names |= {r.ingredient for r in self.doses.max_dose}
        return sorted(n for n in names if n not in kb.ingredients)


_cache: dict[Path, Rules] = {}


def classes_by_member(class_members: dict[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """class id -> its ingredients, turned into ingredient -> its class ids."""
    inv: dict[str, set[str]] = {}
    for cid, members in class_members.items():
        for m in members:
            inv.setdefault(m, set()).add(cid)
    return {m: frozenset(c) for m, c in inv.items()}


def load(path: Path | str | None = None) -> Rules:
    return load_cached(_cache, Rules, path, RULES_PATH)


def load_cached(cache: dict, model: type[BaseModel], path: Path | str | None, default: Path):
    """A rule file read and validated once per path (each rule module keeps its own cache)."""
    p = Path(path) if path else default
    if p not in cache:
        cache[p] = model.model_validate(json.loads(p.read_text(encoding="utf-8")))
    return cache[p]
