"""Flags on a list of drugs for one patient (docs/formats.md#guardrails-check).

Kinds: duplicate_ingredient, allergy, contraindication (pregnancy, age), unknown_drug, plus
duplicate_class (two different ingredients of one class, e.g. an ACE inhibitor with an ARB) and
unresolved_allergy (an allergy text that names no drug or class we know: it was not checked).
Every flag names the inputs involved, a message a clinician reads, and the basis (rule source).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from guardrails import _rules, _text
from guardrails._normalize import normalize
from guardrails._types import SEVERITY_ORDER, CheckResult, Flag, NormalizedDrug

KB_BASIS = ("knowledge base: FDA UNII names reduced to active moieties + curated products "
            "(guardrails/data/SOURCES.md)")
_ALLERGY_NOISE_RE = re.compile(
    r"\b(?:allerg(?:y|ies|ic)\s+(?:to\s+)?|intoleran(?:ce|t)\s+(?:to\s+)?|\((?:substance|finding|"
    r"product|medication)\)|hx\s+of\s+|history\s+of\s+)", re.I)
KIND_ORDER = {"allergy": 0, "contraindication": 1, "duplicate_ingredient": 2,
              "duplicate_class": 3, "unknown_drug": 4, "unresolved_allergy": 5}


def _patient(patient: Any):
    from rxassist.cases import Patient
    from rxassist.errors import InvalidInput, describe_validation
    from pydantic import ValidationError

    if patient is None:
        return Patient()
    if isinstance(patient, Patient):
        return patient
    if isinstance(patient, dict):
        try:
            return Patient.model_validate(patient)
        except ValidationError as e:
            raise InvalidInput(describe_validation(e.errors(), prefix="patient.")[0],
                               param="patient") from None
    raise InvalidInput(f"patient must be an object, got {type(patient).__name__}",
                       param="patient")


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


def _duplicate_flags(drugs: list[NormalizedDrug], current: list[NormalizedDrug]) -> list[Flag]:
    by_ing: dict[str, list[tuple[NormalizedDrug, bool]]] = {}
    for d, is_current in [*((d, False) for d in drugs), *((d, True) for d in current)]:
        for ing in d.ingredients:
            by_ing.setdefault(ing, []).append((d, is_current))
    flags = []
    for ing, items in by_ing.items():
        if len(items) < 2 or all(cur for _, cur in items):
            continue
        labels = [_label(d) + (" (current medication)" if cur else "") for d, cur in items]
        flags.append(Flag(
            "duplicate_ingredient", "warning", ing, [d.input for d, _ in items],
            f"{ing} appears {len(items)} times: in {_join(labels)}. Giving it twice risks "
            "an overdose; keep one.",
            "same active moiety after normalisation of every name (" + KB_BASIS + ")"))
    return flags


def _class_duplicate_flags(drugs: list[NormalizedDrug],
                           current: list[NormalizedDrug]) -> list[Flag]:
    """Different ingredients of one class (an ingredient duplicate is flagged on its own)."""
    rules = _rules.load()
    flags = []
    items = [*((d, False) for d in drugs), *((d, True) for d in current)]
    for r in rules.therapeutic_duplication:
        members = frozenset().union(*(rules.class_members[c] for c in r.classes))
        hits = [(d, cur, sorted(set(d.ingredients) & members)) for d, cur in items]
        hits = [(d, cur, ings) for d, cur, ings in hits if ings]
        distinct = {i for _, _, ings in hits for i in ings}
        if len(distinct) < 2 or all(cur for _, cur, _ in hits):
            continue
        labels = [_label(d) + (" (current medication)" if cur else "") for d, cur, _ in hits]
        flags.append(Flag(
            "duplicate_class", r.severity, None, [d.input for d, _, _ in hits],
            f"{len(distinct)} {r.label} together ({', '.join(sorted(distinct))}): "
            f"{_join(labels)}.", r.basis))
    return flags


def _contraindication_flags(drugs: list[NormalizedDrug], patient) -> list[Flag]:
    rules = _rules.load()
    flags = []
    may_be_pregnant = (patient.pregnant is None and patient.sex == "female"
                       and (patient.age is None or 12 <= patient.age <= 55))
    for d in drugs:
        if patient.pregnant or may_be_pregnant:
            for r in rules.pregnancy:
                hit = sorted(set(d.ingredients) & rules.members_of(r))
                if not hit:
                    continue
                if patient.pregnant:
                    flags.append(Flag("contraindication", r.severity, hit[0], [d.input],
                                      f"{_label(d)} in pregnancy: {r.basis}.", r.basis))
                elif r.severity == "critical":
                    # A warning, not info: an unknown status must never hide a fetal risk.
                    flags.append(Flag(
                        "contraindication", "warning", hit[0], [d.input],
                        f"{_label(d)}: established fetal risk and the patient's pregnancy "
                        "status is unknown; confirm she is not pregnant.", r.basis))
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
            f"checked for duplicates, allergies or contraindications.{hint}", KB_BASIS))
    return flags


def check(drugs: list[str], patient: Any = None) -> CheckResult:
    """Normalise `drugs` and flag safety problems for `patient` (Patient, dict or None)."""
    from rxassist.errors import InvalidInput

    if not isinstance(drugs, list) or not all(isinstance(d, str) for d in drugs):
        raise InvalidInput("drugs must be a list of strings", param="drugs")
    p = _patient(patient)
    checked = [normalize(d) for d in drugs]
    current = [normalize(m) for m in (p.current_medications or [])]
    flags = [*_allergy_flags(checked, p.allergies or []),
             *_contraindication_flags(checked, p),
             *_duplicate_flags(checked, current),
             *_class_duplicate_flags(checked, current),
             *_unknown_flags(checked, current)]
    flags.sort(key=lambda f: (SEVERITY_ORDER[f.severity], KIND_ORDER.get(f.kind, 9)))
    return CheckResult(checked, flags)
