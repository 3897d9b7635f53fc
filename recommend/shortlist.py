"""Safety before choice: candidates for a diagnosis, minus what the guardrails rule out.

    shortlist(patient, diagnosis) -> Shortlist(offered, excluded, warnings)

Every candidate from the evidence index goes through `guardrails.check` with the patient, alone
(so candidates never flag each other). A candidate is excluded, never offered to the model, when

- any flag on it is critical (allergy, pregnancy or age contraindication, and whatever else the
  guardrails rate critical, e.g. a critical interaction with a current medication), or
- it shares an ingredient with a current medication: a current medication is never a candidate
  for a new diagnosis (the patient already takes it; records-trained models learn to echo it).

Warnings stay: the drug is offered and its warnings are shown beside it. A patient-specific
warning (an allergy cross-reactivity, a pregnancy or age caution) costs it WARNING_PENALTY of
its score, so an equally supported option without one ranks first ("oral fluconazole in
pregnancy" below topical clotrimazole, "cephalexin after penicillin anaphylaxis" below
clindamycin); a warning-level interaction with a current medication costs INTERACTION_PENALTY
more (naproxen at 70 on clopidogrel below acetaminophen). Where two clean options remain, one
as high in the guideline (or one, for a flagged alternative), a demoted option is not
offered at all: it is listed as excluded, "a safer option is offered" (_keep_safer).
Training (finetune.examples), evaluation (eval.targets) and the assistant all call this, so
the model is trained on exactly the lists it is served.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from recommend.candidates import Candidate, CandidateIndex, HeldBack, load_index
from rxassist.cases import Diagnosis, Patient
from recommend.schemas import MAX_CANDIDATES, MAX_OFFERED, ExcludedRow
from rxassist.severity import SEVERITY_ORDER

import guardrails
from guardrails import Flag

# What a flag that does not exclude costs a candidate's score (candidates/_index.py scale: a
# guideline first-line drug gets 0.6, an alternative 0.3, a label indication up to 0.2). Two
# independent costs, added:
# - WARNING_PENALTY for a caution about this patient (allergy cross-reactivity, age, pregnancy,
#   kidneys, a condition, breastfeeding, add-on only): "oral fluconazole in pregnancy" below
#   topical clotrimazole.
# - INTERACTION_PENALTY for a warning-level risk with a CURRENT medication: the pair rules'
#   kinds (cns_depressant, serotonergic, bleeding, ...) and the interaction table's ANSM
#   "combination to avoid" level. ANSM's "precaution for use" (combine with monitoring:
#   furosemide on lisinopril in heart failure, acetaminophen on warfarin) and the other table's
#   warnings stay shown, not demoted: demoting them put hydrocodone first for a 60-year-old's
#   chronic low back pain on sertraline, a diagnosis with no guideline row yet. It is as large as a
#   patient caution (the pair kinds always cost 0.4): more than one guideline tier (0.3), so a
#   first-line drug with it ranks below the guideline's alternative without it; with a patient
#   caution as well (an NSAID at 70 on clopidogrel: 0.8) it falls below label-only drugs.
#   Info-level interactions ("take into account") cost nothing; critical ones exclude. Each
#   candidate is checked alone, so such a flag is always with a current medication, never with
#   another candidate (candidates are alternatives, not a regimen).
_WITH_CURRENT = frozenset({"interaction"}) | guardrails.PAIR_KINDS
_CAUTIONS = (frozenset({"allergy", "contraindication"}) | guardrails.PATIENT_KINDS) - _WITH_CURRENT
WARNING_PENALTY = 0.4
INTERACTION_PENALTY = 0.4
_AVOID = "(ANSM level: combination to avoid)"   # guardrails/_flags.py's wording


@dataclass
class Shortlist:
    offered: list[Candidate] = field(default_factory=list)        # ranked, safe to offer
    excluded: list[ExcludedRow] = field(default_factory=list)
    warnings: dict[str, list[Flag]] = field(default_factory=dict)  # candidate name -> its flags
    patient_flags: list[Flag] = field(default_factory=list)        # flags on no one drug
    # What the evidence layer held back and why (candidates/_index.py lookup), what a guideline
    # advises where no drug treats the diagnosis, and the care setting the rows were ranked for.
    held_back: list[HeldBack] = field(default_factory=list)
    advice: list[str] = field(default_factory=list)
    setting: str | None = None
    setting_assumed: bool = False

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.offered)

    def by_name(self, name: str) -> Candidate | None:
        return next((c for c in self.offered if c.name == name), None)

    def ranked(self, chosen: Sequence[str], k: int, *, fill: bool,
               patient: Patient | None = None,
               margin: float | None = None) -> list[tuple[str, str]]:
        """(name, chosen_by) for the answer, up to k. Without `fill`: the model's choices in its
        order. With `fill`, every rank takes the model's next choice ("model") unless a
        remaining candidate's evidence score beats it by more than `margin` (None: never),
        then that candidate ("evidence"); so the model decides among about equally supported
        options and the clinician sees k ranked options even when the model names fewer.
        Nothing outside the shortlist can appear; without a model choice there is nothing to
        fill. The ranked drugs are alternatives the clinician chooses between, never a regimen,
        so two of them are never checked against each other (recommend.alternatives); only a
        second product of an ingredient already ranked is left out, as the same choice twice."""
        picks = [n for n in dict.fromkeys(chosen) if self.by_name(n) is not None]
        if not (fill and picks):
            return self._take([(n, "model") for n in picks], k, patient)
        score = {c.name: c.score for c in self.offered}
        evidence = list(self.names)
        order: list[tuple[str, str]] = []
        while picks or evidence:
            best = evidence[0] if evidence else None
            if picks and (best is None or margin is None
                          or score[best] - score[picks[0]] <= margin):
                name, by = picks.pop(0), "model"
            else:
                name, by = best, "evidence"
            order.append((name, by))
            picks = [n for n in picks if n != name]
            evidence = [n for n in evidence if n != name]
        return self._take(order, k, patient)

    def _take(self, order: list[tuple[str, str]], k: int,
              patient: Patient | None) -> list[tuple[str, str]]:
        rows: list[tuple[str, str]] = []
        taken: set[str] = set()
        for name, by in order:
            if len(rows) == k:
                break
            ingredients = set(self.by_name(name).ingredients)
            # One product per ingredient: "acetaminophen" below "acetaminophen; hydrocodone"
            # would be the same-ingredient duplicate the answer must never contain.
            if ingredients & taken:
                continue
            rows.append((name, by))
            taken |= ingredients
        return rows


def _excluding(flags: list[Flag], allow_same_class: bool = False) -> list[Flag]:
    """The flags that rule a candidate out: critical ones, and the same ingredient or (unless
    the clinician asks for a switch) the same class as a current medication (warnings for a
    free list, exclusions for a candidate: each candidate is checked alone, so its class
    duplicate is a current medication)."""
    return [f for f in flags if f.severity == "critical" or f.kind == "duplicate_ingredient"
            or (f.kind == "duplicate_class" and not allow_same_class)]


def demotion(flags: list[Flag], tier: int) -> float:
    """What a candidate's flags that do not exclude it cost its score: WARNING_PENALTY for a
    caution about the patient, plus INTERACTION_PENALTY for a warning with a current
    medication. A candidate no guideline names (`tier` 0) pays INTERACTION_PENALTY for any
    warning: weak evidence and a warning never rank ahead of a clean option (aspirin from a
    myalgia label for a 72-year-old on sertraline, an antacid beside nitrofurantoin)."""
    cost = WARNING_PENALTY if any(f.kind in _CAUTIONS for f in flags) else 0.0
    if any(f.kind in _WITH_CURRENT and f.severity == "warning"
           and (f.kind != "interaction" or _AVOID in f.message) for f in flags):
        cost += INTERACTION_PENALTY
    if not cost and tier == 0 and any(f.severity == "warning" for f in flags):
        cost = INTERACTION_PENALTY
    return cost


_TIER = {"strong": 2, "moderate": 1}


def _tier(cand: Candidate) -> int:
    """How a guideline places the candidate: 2 first-line, 1 alternative, 0 no guideline."""
    return max((_TIER.get(e.strength or "", 0) for e in cand.evidence
                if e.source == "guideline"), default=0)


def _keep_safer(out: Shortlist, demoted: dict[str, list[Flag]]) -> None:
    """A demoted candidate (a patient caution or a warning with a current medication) is not
    offered where two candidates without one remain, one as high in the guideline: those were
    the options a clinician reviewing held-out cases struck out (simvastatin capped by
    amlodipine beside atorvastatin where a high-intensity statin is due, febuxostat with heart
    disease beside allopurinol, a second-line sedative beside a first). It stays visible as
    excluded, with its caution. With one clean option, _struck_beside_one decides. Where only
    weaker options are clean (tramadol beside an NSAID for a 67-year-old's knee), it is
    offered, flagged and ranked by its demoted score."""
    clean = [_tier(c) for c in out.offered if c.name not in demoted]
    best = max(clean, default=-1)
    for cand in [c for c in out.offered if c.name in demoted and _tier(c) <= best
                 and (len(clean) >= 2 or _struck_beside_one(demoted[c.name], _tier(c), best))]:
        out.offered.remove(cand)
        flags = out.warnings.pop(cand.name)
        worst = min(demoted[cand.name], key=_headline_order)
        out.excluded.append(ExcludedRow(
            drug=cand.name, ingredients=list(cand.ingredients), flags=flags,
            reason=f"a safer option is offered: {worst.message}",
            evidence=cand.evidence_text()))


def _headline_order(flag: Flag) -> tuple[int, int]:
    """The flag an excluded row's reason quotes: the most severe, and among equals the one
    that cost the candidate its place (a caution about the patient, then a pair rule or an
    ANSM "avoid"), not a "precaution for use" listed beside it."""
    costly = (0 if flag.kind in _CAUTIONS
              else 1 if flag.kind in guardrails.PAIR_KINDS or _AVOID in flag.message else 2)
    return SEVERITY_ORDER.get(flag.severity, 3), costly


def _struck_beside_one(flags: list[Flag], tier: int, clean_tier: int) -> bool:
    """Whether one clean guideline option is enough to strike a demoted one. Yes for a
    warning on an alternative (suvorexant on oxycodone at 80, febuxostat beside allopurinol
    with heart disease, tramadol on warfarin) and on a first-line drug flagged twice, for the
    patient and with a current medication at any warning level (an NSAID at 72 on an ACE
    inhibitor, spironolactone and methotrexate): the options the blinded reviewers rejected
    even where nothing else clean was offered. So is a first-line drug that adds to the
    current CNS depressants beside a clean first-line option (promethazine for nausea on
    hydrocodone beside ondansetron: the opioid boxed warning). Any other first-line drug with
    one warning stays offered, flagged (heparin for an MI on sertraline), and a clean option
    from a label alone is not enough to strike anything."""
    warnings = [f for f in flags if f.severity == "warning"]
    if clean_tier < 1 or not warnings:
        return False
    return (tier < 2 or (any(f.kind in _CAUTIONS for f in warnings)
                         and any(f.kind in _WITH_CURRENT for f in warnings))
            or (clean_tier >= tier and any(f.kind == "cns_depressant" for f in warnings)))


def _reason(flag: Flag) -> str:
    if flag.kind == "duplicate_ingredient" and flag.severity != "critical":
        return (f"already taken: {flag.ingredient} is among the current medications "
                "(not a candidate for a new diagnosis)")
    if flag.kind == "duplicate_class" and flag.severity != "critical":
        return f"same class as a current medication: {flag.message}"
    return flag.message


def shortlist(patient: Patient, diagnosis: Diagnosis, index: CandidateIndex | None = None,
              limit: int = MAX_CANDIDATES, offer: int | None = MAX_OFFERED, *,
              setting: str | None = None, allow_same_class: bool = False) -> Shortlist:
    """`limit` candidates are looked up and checked; the `offer` best-ranked of those that
    survive are offered (None: all of them). Every exclusion is reported either way.
    `setting` ('outpatient', 'inpatient', 'icu'; None: assumed from the diagnosis) prefers
    that setting's guideline rows. `allow_same_class`: the clinician asks for a switch, so a
    drug of a current medication's class may be offered (flagged)."""
    index = index or load_index()
    found = index.lookup(diagnosis.text, code=diagnosis.code, limit=limit,
                         pregnant=patient.pregnant, setting=setting, age=patient.age,
                         vascular=guardrails.vascular_history(patient) is not None)
    out = Shortlist(held_back=list(found.held_back), advice=list(found.advice),
                    setting=found.info.setting, setting_assumed=found.info.setting_assumed)
    seen_patient_flags: set[str] = set()
    demoted: dict[str, list[Flag]] = {}
    for cand in found.candidates:
        result = guardrails.check([cand.name], patient, diagnosis=diagnosis)
        own: list[Flag] = []
        for f in result.flags:
            if cand.name in f.drugs:
                own.append(f)
            elif f.message not in seen_patient_flags:
                # About the patient, not this drug (an unrecognised current medication, an
                # allergy text naming nothing known): shown once.
                seen_patient_flags.add(f.message)
                out.patient_flags.append(f)
        bad = _excluding(own, allow_same_class)
        if bad:
            out.excluded.append(ExcludedRow(drug=cand.name, ingredients=list(cand.ingredients),
                                            reason=_reason(bad[0]), flags=own,
                                            evidence=cand.evidence_text()))
            continue
        penalty = demotion(own, _tier(cand))
        if penalty:
            cand = cand.model_copy(update={"score": round(cand.score - penalty, 6)})
            # Ranked lower, but never struck for a fact still to confirm (lisinopril for a
            # 50-year-old whose pregnancy status is unknown).
            if not all(guardrails.PREGNANCY_UNKNOWN in f.message for f in own
                       if f.severity != "info"):
                demoted[cand.name] = own
        out.offered.append(cand)
        if own:
            out.warnings[cand.name] = own
    out.offered.sort(key=lambda c: -c.score)   # stable: the index's order among equals
    _keep_safer(out, demoted)
    # Where a guideline says no drug treats it, its advice is the answer: list only what the
    # guideline itself holds back (antibiotics for acute bronchitis), not every label drug.
    out.excluded += evidence_exclusions(out.held_back,
                                        nothing_offered=not out.offered and not out.advice)
    if offer is not None:
        for cand in out.offered[offer:]:
            out.warnings.pop(cand.name, None)
        del out.offered[offer:]
    return out


# How many held-back drugs an abstaining answer lists (the most relevant first).
MAX_HELD_SHOWN = 8


def evidence_exclusions(held: list[HeldBack], nothing_offered: bool) -> list[ExcludedRow]:
    """Held-back drugs as "considered and excluded" rows: a guideline's "not for this
    presentation" always (the clinician may expect the drug), the rest only when nothing is
    offered, so the abstaining answer shows what was considered and why it fell short."""
    shown = [h for h in held if nothing_offered or h.reason.startswith("not for")]
    return [ExcludedRow(drug=h.name, ingredients=list(h.ingredients), reason=h.reason,
                        evidence=h.evidence, excluded_by="evidence")
            for h in shown[:MAX_HELD_SHOWN]]
