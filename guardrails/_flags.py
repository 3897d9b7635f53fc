"""The second layer of check() flags: interaction, name_guess and dose.

Each function takes check()'s items (reading `.drug`, parsed `.dose`, `.current`, `.label`) and
returns Flags (docs/formats.md#guardrails-check: `interaction` names both inputs in `drugs`; a kind
containing `guess` names the reading).
"""

from __future__ import annotations

import re
from functools import lru_cache

from guardrails import _interactions, _rules
from guardrails._normalize import normalize
from guardrails._dose import Dose
from guardrails._types import SEVERITY_ORDER, Flag


def low_dose_aspirin(dose: Dose, vascular_diagnosis: bool = False) -> bool:
    """True when the text says the aspirin dose is low (antiplatelet), or gives no dose and the
    drug is new for a vascular diagnosis; rules.json doses."""
    r = _rules.load().doses.low_dose_aspirin
    if dose.mg_per_day is not None:
        return dose.mg_per_day <= r.max_mg_per_day
    if dose.mg is None:
        return vascular_diagnosis
    return dose.mg <= r.max_strength_without_frequency_mg


def vascular(code: str | None) -> bool:
    """Whether an ICD-10-CM code is one of aspirin's antiplatelet indications (rules.json)."""
    return bool(code) and any(code.upper().startswith(p) for p in
                              _rules.load().doses.low_dose_aspirin.vascular_codes)


# A comorbidity that mentions the heart or a stroke without being one: a prevention reason
# ("prevent heart attack", NHANES I21.P), a risk, a relative's history, a bleed in the brain.
_NOT_HISTORY = re.compile(r"\b(prevent\w*|prophyla\w*|risk|family|no|not|denies|without|"
                          r"rule out|r/o|h(a)?emorrhagic|heat)\b", re.I)
_CODE = re.compile(r"\b([A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?)\b")


@lru_cache(maxsize=1)
def _history_matchers() -> tuple[tuple[str, ...], re.Pattern, frozenset[str]]:
    """The code prefixes, words and marker drugs of a vascular history (rules.json, loaded once
    per process): built once, not for every candidate the shortlist checks."""
    r = _rules.load().doses.low_dose_aspirin
    codes = tuple(c for c in r.vascular_codes + r.history_codes if not c.endswith("P"))
    terms = re.compile(r"\b(" + "|".join(re.escape(t) for t in r.history_terms) + r")\b", re.I)
    return codes, terms, frozenset(r.history_markers)


def vascular_history(patient) -> str | None:
    """What says the patient has coronary, cerebrovascular or peripheral arterial disease (a
    comorbidity by code or words, or a current drug prescribed only for it), or None where
    nothing does: prevention is then primary (rules.json low_dose_aspirin.history_basis)."""
    codes, terms, markers = _history_matchers()
    for text in patient.comorbidities or []:
        if not text or _NOT_HISTORY.search(text):
            continue
        found = [c for c in _CODE.findall(text.upper()) if not c.endswith("P")]
        if any(c.startswith(codes) for c in found) or terms.search(text):
            return f"a known condition: {text}"
    for name in patient.current_medications or []:
        drug = normalize(name)
        if drug.known and set(drug.ingredients) & markers:
            return f"implied by the current {name}"
    return None


def _counts_for(it, entry: _interactions.Entry, on_side_a: bool) -> bool:
    """Local forms are left out, except eye drops where ANSM's class says "y compris
    collyres" (beta-blocker eye drops act systemically)."""
    if not it.dose.local:
        return True
    return it.dose.route == "ophthalmic" and (entry.a_eye if on_side_a else entry.b_eye)


def _pair_flag(x, y, table: _interactions.Table) -> Flag | None:
    # (severity rank, not ANSM, entry, level, ingredient of x, of y, of side a, of side b)
    found = []
    for e, ix, iy, x_on_a in table.between(x.drug.ingredients, y.drug.ingredients):
        if not (_counts_for(x, e, x_on_a) and _counts_for(y, e, not x_on_a)):
            continue
        aspirin = x if ix == "aspirin" else y if iy == "aspirin" else None
        ing_a, ing_b = (ix, iy) if x_on_a else (iy, ix)
        lv = _interactions.choose_level(e, ing_a, ing_b,
                                        aspirin is not None and aspirin.low_dose_aspirin)
        found.append((SEVERITY_ORDER[lv.severity], e.source != "ansm", e, lv, ix, iy,
                      ing_a, ing_b))
    if not found:
        return None
    found.sort(key=lambda f: (f[0], f[1], f[2].id))
    _, _, e, lv, ix, iy, ing_a, ing_b = found[0]
    # The basis cites the most severe entry of each source (most severe first).
    sources, seen = [], set()
    for _, _, e2, lv2, *_ in found:
        if e2.source not in seen:
            seen.add(e2.source)
            sources.append((e2, lv2))
    en = {"critical": "contraindicated", "warning": "to avoid or use with precautions",
          "info": "to take into account"}[lv.severity]
    if e.source == "ansm":
        risks = e.risks
        risk = f"risk of {', '.join(risks)}" if risks else "see the ANSM mechanism in basis"
        todo = _interactions.WHAT_TO_DO[lv.severity]
        level = f"ANSM level: {lv.level}"
        graded = [v for v in e.levels if v.applies(ing_a, ing_b)]
        if len(graded) > 1 and lv.severity == min(
                (v.severity for v in graded), key=SEVERITY_ORDER.__getitem__):
            todo += (" ANSM grades this pair by conditions (dose, history: see basis); the "
                     "most severe level is shown.")
    else:
        risk = e.description.rstrip(".")
        todo = e.recommendation
        level = "drug-interaction-mcp"
    which = f" ({ix} + {iy})" if len(x.drug.ingredients) + len(y.drug.ingredients) > 2 else ""
    message = f"Interaction {x.label} + {y.label}{which}: {en} ({level}); {risk}. {todo}"
    if any(e2.source != e.source for e2, _ in sources[1:]):
        others = sorted({_interactions.SOURCE_LABEL[e2.source].split(" ")[0]
                         for e2, _ in sources[1:] if e2.source != e.source})
        message += f" Also listed by: {', '.join(others)}."
    basis = " | ".join(_interactions.basis_of(e2, lv2) for e2, lv2 in sources)
    return Flag("interaction", lv.severity, None, [x.drug.input, y.drug.input], message, basis)


def interaction_flags(items) -> list[Flag]:
    """Every new drug against every later new drug and against every current medication."""
    known = [it for it in items if it.drug.known]
    if len(known) < 2 or all(it.current for it in known):
        return []
    table = _interactions.load()
    flags = []
    for i, x in enumerate(known):
        if x.current:
            continue
        for y in known[i + 1:]:
            f = _pair_flag(x, y, table)
            if f:
                flags.append(f)
    return flags


def name_guess_flags(items) -> list[Flag]:
    """A name read by similarity is shown for confirmation, never used silently (ISMP's
    look-alike practice; docs/formats.md: a kind containing `guess`)."""
    flags = []
    for it in items:
        d = it.drug
        if d.status != "fuzzy":
            continue
        read_as = d.matched or d.name
        what = f"{read_as} ({d.name})" if read_as != d.name else d.name
        flags.append(Flag(
            "name_guess", "warning", d.ingredients[0] if len(d.ingredients) == 1 else None,
            [d.input],
            f"{d.input}{' (current medication)' if it.current else ''} was read as {what} "
            f"by similarity (score {d.score:.1f}), not by an exact name — confirm the drug.",
            "approximate name match (rapidfuzz ratio and edit distance; thresholds in "
            "guardrails/data/rules.json \"fuzzy\"); ISMP practice: confirm look-alike names"))
    return flags


def dose_flags(items) -> list[Flag]:
    """A dose above a documented maximum (rules.json doses.max_dose), where the text gives it."""
    flags = []
    for it in items:
        for r in _rules.load().doses.max_dose:
            if r.ingredient not in it.drug.ingredients or len(it.drug.ingredients) != 1:
                continue  # a combination's single strength is not this ingredient's
            dose, why = it.dose, None
            if r.weekly_only and dose.doses_per_day is not None and not dose.weekly:
                why = (f"{r.ingredient} is given once weekly for non-cancer indications; "
                       "this text gives a daily schedule")
            elif r.max_mg_per_week is not None and dose.weekly and dose.mg is not None \
                    and dose.mg * (dose.units or 1) > r.max_mg_per_week:
                why = (f"{dose.mg * (dose.units or 1):g} mg/week is above the maximum of "
                       f"{r.max_mg_per_week:g} mg/week")
            elif r.max_mg_per_day is not None:
                daily = dose.mg_per_day
                single = dose.mg * (dose.units or 1) if dose.mg is not None else None
                if daily is not None and daily > r.max_mg_per_day:
                    why = f"{daily:g} mg/day is above the maximum of {r.max_mg_per_day:g} mg/day"
                elif daily is None and single is not None and single > r.max_mg_per_day:
                    why = (f"a single dose of {single:g} mg is above the daily maximum of "
                           f"{r.max_mg_per_day:g} mg")
            if why:
                flags.append(Flag("dose", r.severity, r.ingredient, [it.drug.input],
                                  f"{it.label}: {why}. Check the dose.", r.basis))
    return flags
