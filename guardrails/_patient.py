"""Drug-versus-patient flags: what this patient's kidneys, age, conditions, breastfeeding and
current medications say about each new drug (rules in data/patient_rules.json).

    patient_flags(items, patient, diagnosis) -> list[Flag]

Kinds (each flag names its source in `basis`):
    renal           eGFR/CrCl/CKD stage/dialysis below a label or Beers threshold
    older_adult     AGS Beers 2023 potentially inappropriate medication at 65 or older
    contraindication  a minimum age or "not for children" (as the age rules of rules.json)
    breastfeeding   not during breastfeeding
    withdrawn       withdrawn or discontinued in the US (never offered)
    condition       against the diagnosis itself or a comorbidity (one table, one check)
    cns_depressant, serotonergic, bleeding, hypotension, angioedema, electrolyte,
    reduced_effect, myopathy, kidney_injury, raised_level
                    a new drug with a current one
    duplicate_class a new drug of the same therapeutic class as another (sulfonylureas, SSRIs, ...)
    add_on          a drug a guideline adds to a background therapy the patient does not take
                    (ezetimibe without a statin for hypercholesterolaemia)
    dose            a label's lower dose for this patient (apixaban at 80+ and 60 kg or less);
                    not a caution, so the shortlist does not demote the drug

Only new drugs are judged, each against the patient: the pairs and the same class are a new drug
with a CURRENT medication (two new drugs together are the interaction table's and rules.json's
duplicate classes' business: ranked alternatives are choices, not a regimen). Local forms
(eye drops, creams) are left out of the systemic rules. Kidney function known only as a CKD
stage is a range: a threshold inside the range gives at most a warning, with the range shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from guardrails import _flags, _patient_rules
from guardrails._patient_rules import PatientRules
from guardrails._types import SEVERITY_ORDER, Flag

# The kinds of a new drug with a current medication (the combinations of the rules file).
PAIR_KINDS = frozenset({"cns_depressant", "serotonergic", "bleeding", "hypotension",
                        "angioedema", "electrolyte", "reduced_effect", "myopathy",
                        "kidney_injury", "raised_level"})
PATIENT_KINDS = frozenset({"renal", "older_adult", "contraindication", "breastfeeding",
                           "withdrawn", "condition", "add_on"}) | PAIR_KINDS
OLDER_ADULT_AGE = 65
# KDIGO GFR categories, mL/min/1.73 m2: G1 >= 90, G2 60-89, G3 30-59, G4 15-29, G5 < 15.
STAGE_RANGE = {1: (90.0, 200.0), 2: (60.0, 89.9), 3: (30.0, 59.9), 4: (15.0, 29.9),
               5: (0.0, 14.9)}
_STAGE_RE = re.compile(r"\b(?:ckd|chronic kidney disease|stage)\s*(?:stage\s*)?(?:g)?([1-5])"
                       r"(?:[ab])?\b|\bn18\.([1-5])\b", re.I)
_ESKD_RE = re.compile(r"\b(?:esrd|eskd|end[- ]stage (?:renal|kidney)|n18\.6)\b", re.I)
_DIALYSIS_RE = re.compile(r"\b(?:dialysis|ha?emodialysis|z99\.2|capd)\b", re.I)


@dataclass(frozen=True)
class Kidney:
    low: float
    high: float
    text: str              # "eGFR 25 mL/min/1.73 m2", "CKD stage 3 (eGFR 30-59)"
    dialysis: bool


def diagnosis_text(diagnosis) -> str | None:
    """The diagnosis as one text to match: its words and its code."""
    if diagnosis is None:
        return None
    return f"{diagnosis.text} {diagnosis.code or ''}".strip()


def condition_texts(patient, diagnosis) -> list[str]:
    """The diagnosis (text and code) and every comorbidity, as texts to match."""
    dx = diagnosis_text(diagnosis)
    return [*([dx] if dx else []), *(c for c in (patient.comorbidities or []) if c)]


def kidney_of(patient, conditions: list[str], measure: str) -> Kidney | None:
    """Kidney function in the rule's measure where known, else the other one, else a stage
    (stated, or read from a condition such as "CKD stage 4" or N18.4), else dialysis."""
    dialysis = bool(patient.dialysis) or any(_DIALYSIS_RE.search(c) for c in conditions)
    values = {"egfr": (patient.egfr, "eGFR {:g} mL/min/1.73 m2"),
              "crcl": (patient.crcl, "CrCl {:g} mL/min")}
    order = [measure, "crcl" if measure == "egfr" else "egfr"]
    for m in order:
        v, fmt = values[m]
        if v is not None:
            return Kidney(v, v, fmt.format(v), dialysis)
    stage = patient.ckd_stage
    if stage is None:
        for c in conditions:
            if _ESKD_RE.search(c):
                stage = 5
                break
            m = _STAGE_RE.search(c)
            if m and re.search(r"ckd|kidney|renal|n18", c, re.I):
                stage = int(m.group(1) or m.group(2))
                break
    if stage is None and dialysis:
        stage = 5
    if stage is None:
        return None
    lo, hi = STAGE_RANGE[stage]
    return Kidney(lo, hi, f"CKD stage {stage} (eGFR {lo:g}-{hi:g})"
                  + (", on dialysis" if dialysis else ""), dialysis)


def _hit(rules: PatientRules, drugs, ingredients) -> str | None:
    if drugs.in_product_with and not set(ingredients) & set(
            map(_patient_rules.moiety, drugs.in_product_with)):
        return None
    members = rules.members(drugs)
    found = sorted(set(ingredients) & members)
    return found[0] if found else None


def _flag(kind: str, sev: str, ing: str, it, why: str, basis: str) -> Flag:
    return Flag(kind, sev, ing, [it.drug.input], f"{it.label}: {why}.", basis)


def _best(flags: list[Flag]) -> list[Flag]:
    """The most severe flag per (kind, drug): metformin at eGFR 20 is "contraindicated", not
    also "not to be started"."""
    best: dict[tuple[str, str], Flag] = {}
    for f in flags:
        key = (f.kind, f.drugs[0])
        if key not in best or SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[best[key].severity]:
            best[key] = f
    return list(best.values())


def most_severe_per_drug(flags: list[Flag], kind: str) -> list[Flag]:
    """One `kind` flag per drug and ingredient, the most severe: rules.json's "aspirin under 19:
    warning" beside this file's "aspirin under 16: critical" is one flag at 10 years."""
    keep: dict[tuple[str, str | None], Flag] = {}
    for f in flags:
        if f.kind != kind:
            continue
        key = (f.drugs[0], f.ingredient)
        if key not in keep or SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[keep[key].severity]:
            keep[key] = f
    return [f for f in flags if f.kind != kind or keep[(f.drugs[0], f.ingredient)] is f]


def _renal(new, patient, conditions, dx, rules) -> list[Flag]:
    flags = []
    for it in new:
        for r in rules.kidney:
            if r.only_diagnosis is not None and not _dx_matches(r.only_diagnosis, dx):
                continue
            ing = _hit(rules, r.drugs, it.drug.ingredients)
            k = kidney_of(patient, conditions, r.measure) if ing else None
            if k is None or k.low >= r.below:
                continue
            sev = r.severity
            why = f"{r.advice} ({k.text}; threshold {r.below:g})"
            if k.high >= r.below and sev == "critical":
                sev = "warning"
                why += "; the stage spans the threshold, check a measured value"
            flags.append(_flag("renal", sev, ing, it, why, r.basis))
        k = kidney_of(patient, conditions, "egfr")
        if k is not None and k.dialysis:
            for r in rules.dialysis:
                ing = _hit(rules, r.drugs, it.drug.ingredients)
                if ing:
                    flags.append(_flag("renal", r.severity, ing, it, r.advice, r.basis))
    return _best(flags)


def _dx_matches(m, dx: str | None) -> bool:
    return m is not None and dx is not None and m.matches(dx)


def _age_rules(new, patient, dx, rules) -> list[Flag]:
    flags = []
    if patient.age is None:
        return flags
    for it in new:
        if patient.age >= OLDER_ADULT_AGE:
            for r in rules.older_adults:
                ing = _hit(rules, r.drugs, it.drug.ingredients)
                if not ing or _dx_matches(r.unless_diagnosis, dx) or patient.age < r.min_age:
                    continue
                if r.only_diagnosis is not None and not _dx_matches(r.only_diagnosis, dx):
                    continue
                if r.unless_vascular_history and _flags.vascular_history(patient):
                    continue
                flags.append(_flag("older_adult", r.severity, ing, it,
                                   f"{r.advice} (age {patient.age:g})", r.basis))
        for r in rules.children:
            ing = _hit(rules, r.drugs, it.drug.ingredients)
            if not ing or not (r.min_age <= patient.age < r.max_age):
                continue
            if _dx_matches(r.unless_diagnosis, dx):
                continue
            if r.only_diagnosis is not None and not _dx_matches(r.only_diagnosis, dx):
                continue
            flags.append(_flag("contraindication", r.severity, ing, it,
                               f"{r.advice} (age {patient.age:g}; rule: under {r.max_age:g})",
                               r.basis))
    return _best(flags)


def _breastfeeding(new, patient, rules) -> list[Flag]:
    if not patient.breastfeeding:
        return []
    return [_flag("breastfeeding", r.severity, ing, it, r.advice, r.basis)
            for it in new for r in rules.breastfeeding
            if (ing := _hit(rules, r.drugs, it.drug.ingredients))]


def _withdrawn(new, rules) -> list[Flag]:
    by_ing = {_patient_rules.moiety(w.ingredient): w for w in rules.withdrawn}
    flags = []
    for it in new:
        for ing in it.drug.ingredients:
            w = by_ing.get(ing)
            if w:
                flags.append(_flag("withdrawn", "critical", ing, it,
                                   f"{ing} is no longer marketed: {w.note}",
                                   f"FDA market withdrawal or discontinuation ({w.date})"))
    return flags


def _marker(rules: PatientRules, cond, items) -> str | None:
    """A current medication that implies the condition (clopidogrel: arterial disease)."""
    if cond.markers is None:
        return None
    for it in items:
        if it.current and it.drug.known and not it.dose.local:
            ing = _hit(rules, cond.markers, it.drug.ingredients)
            if ing:
                return it.drug.input
    return None


def _conditions(new, items, patient, dx, others, rules) -> list[Flag]:
    # Of two equally severe flags on one drug, the one about another condition of this patient
    # is kept (febuxostat with heart disease over its line-of-therapy limit in gout).
    about_patient: list[Flag] = []
    about_diagnosis: list[Flag] = []
    for cond in rules.conditions:
        if cond.min_age is not None and (patient.age is None or patient.age < cond.min_age):
            continue
        if dx is not None and cond.match.matches(dx):
            said = "the diagnosis"
        elif any(cond.match.matches(c) for c in others):
            said = "a known condition"
        elif marker := _marker(rules, cond, items):
            said = f"implied by the current {marker}"
        else:
            continue
        flags = about_diagnosis if said == "the diagnosis" else about_patient
        for it in new:
            for r in cond.rules:
                ing = _hit(rules, r.drugs, it.drug.ingredients)
                if it.dose.local and not (r.eye_drops and it.dose.route == "ophthalmic"):
                    continue
                if ing:
                    flags.append(_flag("condition", r.severity, ing, it,
                                       f"{r.advice} ({said}: {cond.name})", r.basis))
    return _best(about_patient + about_diagnosis)


def _pairs(new, items, patient, rules) -> list[Flag]:
    older = patient.age is not None and patient.age >= OLDER_ADULT_AGE
    found: dict[tuple[str, str, str], Flag] = {}
    systemic = [it for it in items if it.drug.known and not it.dose.local]
    current = [it for it in systemic if it.current]
    for x in systemic:
        if x.current:
            continue
        for y in current:
            if set(x.drug.ingredients) & set(y.drug.ingredients):
                continue
            for c in rules.combinations:
                for p, q in ((c.a, c.b),) if c.one_way else ((c.a, c.b), (c.b, c.a)):
                    ix = _hit(rules, p, x.drug.ingredients)
                    iy = _hit(rules, q, y.drug.ingredients)
                    if not (ix and iy) or _antiplatelet_aspirin(ix, x, p):
                        continue
                    third = _third(rules, c, current, y)
                    if c.with_also and third is None:
                        continue
                    sev = c.severity_older if older and c.severity_older else c.severity
                    key = (c.kind, x.drug.input, y.drug.input)
                    with_ = (f"{y.label} and {third.label}" if third not in (None, y)
                             else y.label)
                    f = Flag(c.kind, sev, ix, [x.drug.input, y.drug.input],
                             f"{x.label} with {with_}: {c.name}; {c.advice}.", c.basis)
                    old = found.get(key)
                    if old is None or SEVERITY_ORDER[sev] < SEVERITY_ORDER[old.severity]:
                        found[key] = f
    return list(found.values())


def _antiplatelet_aspirin(ing: str, it, drugs) -> bool:
    """Low-dose aspirin (a stated antiplatelet dose, or none for a vascular diagnosis) is not
    an NSAID for a pair rule: the NSAID risks (kidneys, bleeding with an ulcer) are of
    analgesic doses; aspirin for pain stays one."""
    return ing == "aspirin" and "nsaids" in drugs.classes and it.low_dose_aspirin


def _third(rules, c, current, y):
    """The current medication a three-drug combination also needs (`with_also`): another one,
    or `y` itself when it is a combination product holding both (hydrochlorothiazide;
    lisinopril); None when there is none."""
    if not c.with_also:
        return None
    return next((z for z in sorted(current, key=lambda z: z is y)
                 if _hit(rules, c.with_also, z.drug.ingredients)), None)


def _cns_burden(new, items, patient, rules) -> list[Flag]:
    b = rules.cns_burden
    if patient.age is None or patient.age < b.min_age:
        return []
    members = frozenset().union(*(rules.class_members[c] for c in b.classes))
    taken = {i for it in items if it.current and not it.dose.local
             for i in it.drug.ingredients if i in members}
    flags = []
    for it in new:
        mine = set(it.drug.ingredients) & members
        active = taken | mine
        if it.dose.local or not mine - taken or len(active) <= b.max_total:
            continue
        flags.append(_flag("cns_depressant", b.severity, sorted(mine)[0], it,
                           f"{len(active)} CNS-active drugs with the current medications "
                           f"({', '.join(sorted(active))})", b.basis))
    return flags


def _same_class(new, items, rules) -> list[Flag]:
    """A new drug of the class of a current medication (a different ingredient: the same one is
    a duplicate_ingredient)."""
    flags = []
    current = [it for it in items if it.current and not it.dose.local]
    for r in rules.same_class:
        members = frozenset().union(*(rules.class_members[c] for c in r.classes))
        for x in new:
            mine = set(x.drug.ingredients) & members
            if x.dose.local or not mine:
                continue
            others = [y for y in current if set(y.drug.ingredients) & members - mine]
            if not others:
                continue
            distinct = sorted(mine | {i for y in others for i in y.drug.ingredients} & members)
            labels = [x.label, *(y.label for y in others)]
            flags.append(Flag(
                "duplicate_class", "warning", None, [x.drug.input, *(y.drug.input for y in others)],
                f"{len(distinct)} {r.label} together ({', '.join(distinct)}): "
                f"{', '.join(labels[:-1])} and {labels[-1]}.", r.basis))
    return flags


def _cannot_take(rules: PatientRules, background, patient) -> bool:
    """An allergy to a drug of `background` (or naming its class) in the patient's record."""
    from guardrails._check import resolve_allergy   # _check imports this module

    members = rules.members(background)
    for text in patient.allergies or []:
        al = resolve_allergy(text)
        if al is not None and (al.ingredients & members or al.named_classes
                               & set(background.classes)):
            return True
    return False


def _add_on_only(new, items, patient, dx, others, rules) -> list[Flag]:
    flags = []
    current = [it for it in items if it.current and it.drug.known and not it.dose.local]
    known = patient.current_medications is not None
    said = ("no current medication is one" if known
            else "current medications unknown: confirm one is taken")
    for r in rules.add_on_only:
        if not _dx_matches(r.only_diagnosis, dx):
            continue
        taking = any(_hit(rules, r.background, it.drug.ingredients) for it in current)
        intolerant = r.unless_condition is not None and any(
            r.unless_condition.matches(c) for c in others)
        if taking or intolerant or _cannot_take(rules, r.background, patient):
            continue
        for it in new:
            ing = _hit(rules, r.drugs, it.drug.ingredients)
            if not ing or _hit(rules, r.background, it.drug.ingredients):
                continue
            sev = r.severity if known else "warning"
            flags.append(_flag("add_on", sev, ing, it, f"{r.advice} ({r.name}; {said})",
                               r.basis))
    return _best(flags)


def _dose_criteria(new, patient, dx, rules) -> list[Flag]:
    flags = []
    for r in rules.dose_criteria:
        if r.only_diagnosis is not None and not _dx_matches(r.only_diagnosis, dx):
            continue
        met, unknown = [], list(r.unmodelled)
        for value, limit, holds, known, missing in (
                (patient.age, r.min_age, lambda v, x: v >= x, "age {:g}", "age ({:g} or more)"),
                (patient.weight_kg, r.max_weight_kg, lambda v, x: v <= x, "weight {:g} kg",
                 "weight ({:g} kg or less)")):
            if limit is None:
                continue
            if value is None:
                unknown.append(missing.format(limit))
            elif holds(value, limit):
                met.append(known.format(value))
        if len(met) >= r.needed:
            sev = r.severity
            why = f"{r.advice} ({', '.join(met)}: {len(met)} of the label's criteria)"
        elif met and unknown and len(met) == r.needed - 1:
            sev = "info"
            why = (f"{r.advice} if one more criterion holds ({', '.join(met)} does): check "
                   f"{', '.join(unknown)}")
        else:
            continue
        for it in new:
            ing = _hit(rules, r.drugs, it.drug.ingredients)
            if ing:
                flags.append(_flag("dose", sev, ing, it, why, r.basis))
    return flags


def patient_flags(items, patient, diagnosis: Any = None) -> list[Flag]:
    """Flags for check()'s new items against the patient, the diagnosis and the current
    medications (items with `.current`)."""
    rules = _patient_rules.load()
    new = [it for it in items if not it.current and it.drug.known]
    if not new:
        return []
    dx = diagnosis_text(diagnosis)
    conditions = condition_texts(patient, diagnosis)
    others = conditions[1:] if dx else conditions
    systemic = [it for it in new if not it.dose.local]
    return [*_withdrawn(new, rules),
            *_renal(systemic, patient, conditions, dx, rules),
            *_age_rules(systemic, patient, dx, rules),
            *_breastfeeding(systemic, patient, rules),
            *_conditions(new, items, patient, dx, others, rules),
            *_pairs(new, items, patient, rules),
            *_cns_burden(new, items, patient, rules),
            *_same_class(new, items, rules),
            *_add_on_only(systemic, items, patient, dx, others, rules),
            *_dose_criteria(systemic, patient, dx, rules)]
