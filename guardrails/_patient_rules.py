"""Drug-versus-patient rules (guardrails/data/patient_rules.json), validated on load.

The file adds drug classes of its own (benzodiazepines, sulfonylureas, ...) beside those of
rules.json, which its rules may name too. Each rule names the drugs it covers as classes and/or
ingredients (minus `except_ingredients`), a severity, a short `advice` a clinician reads and the
`basis` (FDA label, AGS Beers 2023, a named guideline with year).
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from guardrails import _kb, _rules
from guardrails._rules import DrugClass, Sev

PATIENT_RULES_PATH = _kb.DATA_DIR / "patient_rules.json"
_CODE_RE = re.compile(r"\b([A-TV-Z][0-9][0-9AB](?:\.[0-9A-TV-Z]{1,4})?)\b")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Drugs(_Strict):
    """Which drugs a rule covers."""
    classes: list[str] = Field(default_factory=list)
    ingredients: list[str] = Field(default_factory=list)
    except_ingredients: list[str] = Field(default_factory=list)
    in_product_with: list[str] = Field(default_factory=list, description=(
        "only a product that also contains one of these: a combination product's own label "
        "(budesonide/formoterol from 6 years, mometasone/formoterol from 5)"))

    @model_validator(mode="after")
    def _some(self):
        if not (self.classes or self.ingredients):
            raise ValueError("name at least one class or ingredient")
        return self


class Match(_Strict):
    """A diagnosis or condition, by ICD-10-CM code prefix or by a term in its text."""
    codes: list[str] = Field(default_factory=list)
    terms: list[str] = Field(default_factory=list)

    @cached_property
    def _term_re(self) -> re.Pattern | None:
        if not self.terms:
            return None
        alts = "|".join(re.escape(t.lower()) for t in sorted(self.terms, key=len, reverse=True))
        return re.compile(rf"(?<![a-z0-9])(?:{alts})")

    def matches(self, text: str) -> bool:
        codes = {c.upper() for c in _CODE_RE.findall(text.upper())}
        if any(c.startswith(p) for c in codes for p in self.codes):
            return True
        return bool(self._term_re and self._term_re.search(text.lower()))


class Rule(_Strict):
    drugs: Drugs
    severity: Sev
    advice: str = Field(min_length=1)
    basis: str = Field(min_length=1)
    eye_drops: bool = Field(False, description="applies to eye drops too (timolol drops are "
                            "absorbed systemically); otherwise local forms are left out")


class KidneyRule(Rule):
    below: float = Field(gt=0, le=120, description="applies when kidney function < below")
    measure: str = Field(pattern="^(egfr|crcl)$", description="what the source states the "
                         "threshold in; the other measure is used when only it is known")
    only_diagnosis: Match | None = Field(None, description="applies only to this diagnosis "
                                           "(an SGLT2 inhibitor's weak glucose lowering matters "
                                           "for diabetes, not for heart failure or CKD)")


class AgeRule(Rule):
    unless_diagnosis: Match | None = None
    only_diagnosis: Match | None = None
    # A known coronary, cerebrovascular or peripheral arterial history makes the prevention
    # secondary (aspirin for primary prevention: Beers 2023): guardrails.vascular_history.
    unless_vascular_history: bool = False


class OlderAdultRule(AgeRule):
    min_age: float = Field(65, ge=65, le=130, description="applies at this age or older (a "
                           "label's caution for the oldest patients, e.g. 75)")


class ChildRule(AgeRule):
    max_age: float = Field(gt=0, le=18, description="applies when age < max_age (years)")
    min_age: float = Field(0, ge=0, le=18)


class Withdrawn(_Strict):
    ingredient: str
    date: str = Field(pattern=r"^\d{4}(-\d{2}){0,2}$")
    note: str


class Combination(Rule):
    name: str
    kind: str = Field(pattern="^(cns_depressant|serotonergic|bleeding|hypotension|angioedema|"
                      "electrolyte|reduced_effect|myopathy|kidney_injury|raised_level|"
                      "duplicate_class)$")
    a: Drugs
    b: Drugs
    severity_older: Sev | None = Field(None, description="severity at 65 or older")
    one_way: bool = Field(False, description="only a NEW drug of `a` with a current one of `b`; "
                          "the reverse is left to the interaction table")
    with_also: Drugs | None = Field(None, description=(
        "a third drug the risk needs: the pair counts only when another current medication "
        "is one of these too (an NSAID with an ACE inhibitor AND a diuretic)"))
    drugs: Drugs | None = None  # type: ignore[assignment]  (a pair: `a` with `b`)


class AddOnOnly(Rule):
    """A drug a guideline places on top of a background therapy, not instead of it (ezetimibe
    beside a statin): flagged for `only_diagnosis` unless a current medication or the product
    itself holds the background, or the patient cannot take it (an allergy to it, or
    `unless_condition` among the comorbidities, e.g. statin intolerance). Critical when the
    current medications are known, a warning when they are unknown (null)."""
    name: str
    only_diagnosis: Match
    background: Drugs
    unless_condition: Match | None = None


class DoseCriteria(Rule):
    """A lower dose when enough of a label's criteria hold (apixaban for atrial fibrillation:
    2.5 mg twice daily with 2 of age 80+, weight 60 kg or less, serum creatinine 1.5 mg/dL or
    more). The patient carries age and weight, not serum creatinine (`unmodelled`): the flag is
    `severity` when the known criteria reach `needed`, info when one more would, and nothing
    otherwise. A dose note, not a caution: the drug stays the right choice at that dose."""
    name: str
    only_diagnosis: Match | None = None
    min_age: float | None = Field(None, gt=0, le=130)
    max_weight_kg: float | None = Field(None, gt=0, le=500)
    unmodelled: list[str] = Field(default_factory=list, description="criteria the patient "
                                  "model does not carry, named in an info flag to check")
    needed: int = Field(ge=1)


class CnsBurden(_Strict):
    classes: list[str]
    min_age: float
    max_total: int = Field(ge=1)
    severity: Sev
    basis: str


class SameClass(_Strict):
    classes: list[str] = Field(min_length=1)
    label: str
    basis: str


class Condition(_Strict):
    name: str
    codes: list[str]
    terms: list[str]
    rules: list[Rule] = Field(min_length=1)
    min_age: float | None = None
    markers: Drugs | None = Field(None, description="current medications that imply the "
                                  "condition where no comorbidity says it (clopidogrel or a "
                                  "nitrate: coronary or other arterial disease)")

    @cached_property
    def match(self) -> Match:
        return Match(codes=self.codes, terms=self.terms)


class PatientRules(_Strict):
    version: str
    description: str
    classes: dict[str, DrugClass]
    kidney: list[KidneyRule]
    dialysis: list[Rule]
    older_adults: list[OlderAdultRule]
    children: list[ChildRule]
    breastfeeding: list[Rule]
    withdrawn: list[Withdrawn]
    combinations: list[Combination]
    cns_burden: CnsBurden
    same_class: list[SameClass]
    conditions: list[Condition]
    add_on_only: list[AddOnOnly] = Field(default_factory=list)
    dose_criteria: list[DoseCriteria] = Field(default_factory=list)

    def _drug_sets(self) -> list[Drugs]:
        out = [r.drugs for r in [*self.kidney, *self.dialysis, *self.older_adults,
                                 *self.children, *self.breastfeeding]]
        out += [d for c in self.combinations for d in (c.a, c.b)]
        out += [r.drugs for c in self.conditions for r in c.rules]
        out += [c.markers for c in self.conditions if c.markers is not None]
        out += [d for r in self.add_on_only for d in (r.drugs, r.background)]
        out += [r.drugs for r in self.dose_criteria]
        return out

    @model_validator(mode="after")
    def _classes_exist(self):
        known = set(self.classes) | set(_rules.load().classes)
        used = {c for d in self._drug_sets() for c in d.classes}
        used |= {c for s in self.same_class for c in s.classes} | set(self.cns_burden.classes)
        missing = sorted(used - known)
        if missing:
            raise ValueError(f"patient rules refer to undefined classes: {', '.join(missing)}")
        return self

    @cached_property
    def class_members(self) -> dict[str, frozenset[str]]:
        kb = _kb.load()
        out = dict(_rules.load().class_members)
        for cid, c in self.classes.items():
            epc = set(c.epc)
            out[cid] = frozenset(map(moiety, c.members)) | {m for m, cs in kb.epc.items()
                                                            if cs & epc}
        return out

    @cached_property
    def therapeutic_classes_of(self) -> dict[str, frozenset[str]]:
        """ingredient -> the treatment classes it belongs to (not the shared-risk groups)."""
        return _rules.classes_by_member({cid: m for cid, m in self.class_members.items()
                                         if cid not in _NOT_THERAPEUTIC})

    def members(self, drugs: Drugs) -> frozenset[str]:
        found = set(map(moiety, drugs.ingredients))
        for c in drugs.classes:
            found |= self.class_members[c]
        return frozenset(found - set(map(moiety, drugs.except_ingredients)))

    def label(self, cid: str) -> str:
        c = self.classes.get(cid) or _rules.load().classes[cid]
        return c.label

    def names_not_in_kb(self) -> list[str]:
        """Rule ingredients the knowledge base does not know (a test keeps this empty)."""
        kb = _kb.load()
        names = {m for c in self.classes.values() for m in c.members}
        names |= {i for d in self._drug_sets()
                  for i in (*d.ingredients, *d.except_ingredients, *d.in_product_with)}
        names |= {w.ingredient for w in self.withdrawn}
        return sorted(n for n in names if moiety(n) not in kb.ingredients)


def moiety(name: str) -> str:
    """A rule's drug name as the knowledge base's active moiety ("alendronate" -> "alendronic
    acid", "valproate" -> "valproic acid"), so rules are written in clinical names."""
    from guardrails._normalize import normalize

    if name in _kb.load().ingredients:
        return name
    d = normalize(name)
    exact = d.status in ("generic", "brand")
    return d.ingredients[0] if exact and len(d.ingredients) == 1 else name


_cache: dict[Path, PatientRules] = {}


def load(path: Path | str | None = None) -> PatientRules:
    return _rules.load_cached(_cache, PatientRules, path, PATIENT_RULES_PATH)


# Classes that gather unrelated drugs for one shared risk, not one treatment.
_NOT_THERAPEUTIC = frozenset({"systemic_antibiotics_common", "serotonergic_other",
                              "vasodilators_other"})


def drug_classes(ingredient: str) -> frozenset[str]:
    """The therapeutic classes (rules.json and the patient rules) an ingredient belongs to."""
    return load().therapeutic_classes_of.get(moiety(ingredient), frozenset())
