"""Flags on a list of drugs for one patient (docs/formats.md#guardrails-check).

Kinds: duplicate_ingredient, allergy, contraindication (pregnancy, age), unknown_drug, plus
duplicate_class (two different ingredients of one class, e.g. an ACE inhibitor with an ARB),
unresolved_allergy (an allergy text that names no drug or class we know: it was not checked),
interaction (drug-drug, recommended drugs with each other and with current medications),
name_guess (a name read by similarity: the clinician must confirm the reading) and dose (a daily
dose above a documented maximum). Eye drops, ear drops and skin products are local: they are
not counted as systemic duplicates or interactions.
Every flag names the inputs involved, a message a clinician reads, and the basis (rule source).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from guardrails import _dose, _flags, _rules, _text
from guardrails._patient import most_severe_per_drug, patient_flags
from guardrails._normalize import normalize
from guardrails._types import SEVERITY_ORDER, CheckResult, Flag, NormalizedDrug
from rxassist.cases import Diagnosis, Patient
from rxassist.errors import InvalidInput, describe_validation

# The wording of a caution that asks to confirm a fact rather than states one (recommend's
# shortlist ranks such an option lower but still offers it).
PREGNANCY_UNKNOWN = "the patient's pregnancy status is unknown"
KB_BASIS = ("knowledge base: FDA UNII names reduced to active moieties + curated products "
            "(guardrails/data/SOURCES.md)")
_ALLERGY_NOISE_RE = re.compile(
    r"\b(?:allerg(?:y|ies|ic)\s+(?:to\s+)?|intoleran(?:ce|t)\s+(?:to\s+)?|\((?:substance|finding|"
    r"product|medication)\)|hx\s+of\s+|history\s+of\s+)", re.I)
KIND_ORDER = {"allergy": 0, "contraindication": 1, "withdrawn": 1, "renal": 1, "condition": 1,
              "older_adult": 1, "breastfeeding": 1, "add_on": 1, "interaction": 2,
              "cns_depressant": 2,
              "serotonergic": 2, "bleeding": 2, "hypotension": 2, "angioedema": 2, "electrolyte": 2,
              "reduced_effect": 2, "myopathy": 2, "kidney_injury": 2, "raised_level": 2,
              "dose": 3, "name_guess": 4,
              "duplicate_ingredient": 5, "duplicate_class": 6, "unknown_drug": 7,
              "unresolved_allergy": 8}


@dataclass(frozen=True)
class Item:
    """One input as check() sees it: its reading, its dose/form, whether it is a current
    medication."""
    drug: NormalizedDrug
    dose: _dose.Dose
    current: bool
    vascular_diagnosis: bool = False   # a new drug for one of aspirin's antiplatelet indications

    @property
    def low_dose_aspirin(self) -> bool:
        return _flags.low_dose_aspirin(self.dose, self.vascular_diagnosis and not self.current)

    @property
    def label(self) -> str:
        return _label(self.drug) + (" (current medication)" if self.current else "")


def _from_dict(model, value: Any, param: str, expected: str):
    """`value` (a dict by now) as `model`, or InvalidInput naming the field under `param`."""
    if isinstance(value, dict):
        try:
            return model.model_validate(value)
        except ValidationError as e:
            raise InvalidInput(describe_validation(e.errors(), prefix=f"{param}.")[0],
                               param=param) from None
    raise InvalidInput(f"{param} must be {expected}, got {type(value).__name__}", param=param)


def _patient(patient: Any):
    if patient is None:
        return Patient()
    if isinstance(patient, Patient):
        return patient
    return _from_dict(Patient, patient, "patient", "an object")


def _label(d: NormalizedDrug) -> str:
    if d.name is None or _text.key(d.input) == _text.key(d.name):
        return d.input
    return f"{d.input} ({d.name})"


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


@dataclass(frozen=True)
class Allergen:
    text: str
    classes: frozenset[str]       # classes the allergy names or its ingredients belong to
    named_classes: frozenset[str]  # classes the allergy text names directly ("penicillin")
    ingredients: frozenset[str]


def resolve_allergy(text: str) -> Allergen | None:
    rules = _rules.load()
    cleaned = _text.key(_ALLERGY_NOISE_RE.sub(" ", text))
    if not cleaned:
        return None
    term = rules.allergies.terms.get(cleaned)
    if term:
        return Allergen(text, frozenset({term}), frozenset({term}), frozenset())
    d = normalize(cleaned)
    if not d.known:
        return None
    classes = frozenset(c for i in d.ingredients for c in rules.classes_of.get(i, ()))
    return Allergen(text, classes, frozenset(), frozenset(d.ingredients))


def _allergy_findings(ing: str, al: Allergen, rules) -> list[tuple[str, str, str]]:
    """(severity, why, basis) of every reason ingredient `ing` conflicts with allergy `al`."""
    ar = rules.allergies
    d_classes = rules.classes_of.get(ing, frozenset())
    found: list[tuple[str, str, str]] = []
    if ing in al.ingredients:
        found.append((ar.ingredient_allergy.severity,
                      f"contains {ing}, which the patient is allergic to",
                      ar.ingredient_allergy.basis))
    for c in al.named_classes & d_classes:
        found.append((ar.class_allergy.severity, f"{ing} is one of the {rules.classes[c].label}",
                      ar.class_allergy.basis))
    if ing in al.ingredients:
        return found
    if not al.named_classes:
        for c in al.classes & d_classes & set(ar.same_class.classes):
            found.append((ar.same_class.severity,
                          f"{ing} and the allergen are both {rules.classes[c].label}",
                          ar.same_class.basis))
    for x in ar.cross_sensitivity:
        if x.allergy_class in al.classes and x.drug_class in d_classes:
            dl = rules.classes[x.drug_class].label
            why = (f"{ing} is, like the allergen, one of the {dl} (cross-sensitivity)"
                   if x.drug_class == x.allergy_class else
                   f"{ing} is one of the {dl} (cross-sensitivity with "
                   f"{rules.classes[x.allergy_class].label})")
            found.append((x.severity, why, x.basis))
    return found


def _allergy_flags(drugs: list[NormalizedDrug], allergies: list[str]) -> list[Flag]:
    rules = _rules.load()
    ar = rules.allergies
    flags: list[Flag] = []
    resolved: list[Allergen] = []
    none_terms = {_text.key(t) for t in ar.none_terms}
    for a in allergies:
        if _text.key(a) in none_terms:
            continue
        al = resolve_allergy(a)
        if al is None:
            flags.append(Flag(
                "unresolved_allergy", "info", None, [],
                f"Allergy '{a}' names no drug or drug class in the knowledge base; the list was "
                "not checked against it.", KB_BASIS))
        else:
            resolved.append(al)
    for d in drugs:
        for al in resolved:
            # (rank, severity, ingredient, why, basis) of the most severe finding
            best: tuple[int, str, str, str, str] | None = None
            for ing in d.ingredients:
                for sev, why, basis in _allergy_findings(ing, al, rules):
                    if best is None or SEVERITY_ORDER[sev] < best[0]:
                        best = (SEVERITY_ORDER[sev], sev, ing, why, basis)
            if best:
                _, sev, ing, why, basis = best
                flags.append(Flag("allergy", sev, ing, [d.input],
                                  f"{_label(d)}: {why} (allergy recorded: '{al.text}').", basis))
    return flags


def _duplicate_flags(items: list[Item]) -> list[Flag]:
    # Grouped by route too: timolol eye drops beside oral timolol are not one systemic dose.
    by_ing: dict[tuple[str, str], list[Item]] = {}
    for it in items:
        for ing in it.drug.ingredients:
            by_ing.setdefault((ing, it.dose.route), []).append(it)
    flags = []
    for (ing, _), group in by_ing.items():
        if len(group) < 2 or all(it.current for it in group):
            continue
        flags.append(Flag(
            "duplicate_ingredient", "warning", ing, [it.drug.input for it in group],
            f"{ing} appears {len(group)} times: in {_join([it.label for it in group])}. Giving "
            "it twice risks an overdose; keep one.",
            "same active moiety after normalisation of every name (" + KB_BASIS + ")"))
    return flags


def _class_duplicate_flags(items: list[Item]) -> list[Flag]:
    """Different ingredients of one class (an ingredient duplicate is flagged on its own).
    Local forms (eye drops, creams) and low-dose aspirin are not therapeutic duplicates."""
    rules = _rules.load()
    flags = []
    items = [it for it in items if not it.dose.local]
    for r in rules.therapeutic_duplication:
        members = frozenset().union(*(rules.class_members[c] for c in r.classes))
        hits = [(it, sorted(set(it.drug.ingredients) & members - _low_dose_exempt(it)))
                for it in items]
        hits = [(it, ings) for it, ings in hits if ings]
        distinct = {i for _, ings in hits for i in ings}
        if len(distinct) < 2 or all(it.current for it, _ in hits):
            continue
        flags.append(Flag(
            "duplicate_class", r.severity, None, [it.drug.input for it, _ in hits],
            f"{len(distinct)} {r.label} together ({', '.join(sorted(distinct))}): "
            f"{_join([it.label for it, _ in hits])}.", r.basis))
    return flags


def _low_dose_exempt(it: Item) -> set[str]:
    return {"aspirin"} if it.low_dose_aspirin else set()


def _contraindication_flags(items: list[Item], patient) -> list[Flag]:
    rules = _rules.load()
    flags = []
    may_be_pregnant = (patient.pregnant is None and patient.sex == "female"
                       and (patient.age is None or 12 <= patient.age <= 55))
    for it in items:
        d = it.drug
        if patient.pregnant or may_be_pregnant:
            for r in rules.pregnancy:
                # Low-dose aspirin is exempt from the NSAID rule (its basis says so).
                exempt = _low_dose_exempt(it) if r.cls == "nsaids" else set()
                hit = sorted(set(d.ingredients) & rules.members_of(r) - exempt)
                if not hit:
                    continue
                if patient.pregnant:
                    flags.append(Flag("contraindication", r.severity, hit[0], [d.input],
                                      f"{_label(d)} in pregnancy: {r.basis}.", r.basis))
                elif r.severity == "critical":
                    # A warning, not info: an unknown status must never hide a fetal risk.
                    flags.append(Flag(
                        "contraindication", "warning", hit[0], [d.input],
                        f"{_label(d)}: established fetal risk and {PREGNANCY_UNKNOWN}; "
                        "confirm she is not pregnant.", r.basis))
        if patient.age is not None:
            for r in rules.age:
                hit = sorted(set(d.ingredients) & rules.members_of(r))
                if hit and patient.age < r.max_age:
                    flags.append(Flag(
                        "contraindication", r.severity, hit[0], [d.input],
                        f"{_label(d)} at age {patient.age:g} (rule: under {r.max_age:g} "
                        f"years): {r.basis}.", r.basis))
    return flags


def _unknown_flags(drugs: list[NormalizedDrug], current: list[NormalizedDrug]) -> list[Flag]:
    flags = []
    for d, is_current in [*((d, False) for d in drugs), *((d, True) for d in current)]:
        if d.known:
            continue
        hint = f" Close names (not assumed): {', '.join(d.candidates)}." if d.candidates else ""
        what = "Current medication" if is_current else "Drug"
        flags.append(Flag(
            "unknown_drug", "info" if is_current else "warning", None, [d.input],
            f"{what} '{d.input}' was not recognised ({d.note or 'unknown name'}); it was not "
            f"checked for duplicates, allergies, contraindications or interactions.{hint}", KB_BASIS))
    return flags


def _diagnosis(diagnosis: Any):
    if diagnosis is None or isinstance(diagnosis, Diagnosis):
        return diagnosis
    if isinstance(diagnosis, str):
        diagnosis = {"text": diagnosis}
    return _from_dict(Diagnosis, diagnosis, "diagnosis", "an object or a string")


def check(drugs: list[str], patient: Any = None, diagnosis: Any = None) -> CheckResult:
    """Normalise `drugs` and flag safety problems for `patient` (Patient, dict or None) with
    `diagnosis` (Diagnosis, dict, text or None: the condition rules also judge each drug against
    the diagnosis itself, e.g. an antihypertensive for hypotension)."""

    if not isinstance(drugs, list) or not all(isinstance(d, str) for d in drugs):
        raise InvalidInput("drugs must be a list of strings", param="drugs")
    p = _patient(patient)
    dx = _diagnosis(diagnosis)
    checked = [normalize(d) for d in drugs]
    current = [normalize(m) for m in (p.current_medications or [])]
    for_vessels = _flags.vascular(dx.code if dx else None)
    items = [*(Item(d, _dose.parse(d.input), False, for_vessels) for d in checked),
             *(Item(d, _dose.parse(d.input), True) for d in current)]
    new = [it for it in items if not it.current]
    flags = [*_allergy_flags(checked, p.allergies or []),
             *most_severe_per_drug([*_contraindication_flags(new, p),
                                    *patient_flags(items, p, dx)], "contraindication"),
             *_flags.interaction_flags(items),
             *_flags.dose_flags(new),
             *_flags.name_guess_flags(items),
             *_duplicate_flags(items),
             *_class_duplicate_flags(items),
             *_unknown_flags(checked, current)]
    flags.sort(key=lambda f: (SEVERITY_ORDER[f.severity], KIND_ORDER.get(f.kind, 9)))
    return CheckResult(checked, flags)
