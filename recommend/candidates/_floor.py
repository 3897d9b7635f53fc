"""The evidence floor: when records priors, a category's pooled priors and a lone prior count.

Records priors are observations (what was prescribed to patients who had the diagnosis), not
proof of treatment. A drug recorded for one or two patients of a code is noise: the one sepsis
patient on warfarin, the one hypotension patient on memantine. So a prior counts only with

    at least MIN_PATIENTS patients with the drug AND at least MIN_SHARE of the code's patients.

The two numbers were chosen on the validation split (benchmarks/bench_candidates.py, grid in
docs/evidence.md): against no floor they cost 1.0 point of record coverage at k=1 and 2.1 at
k=3, and remove every one- and two-patient prior.

A 3-character category pools its codes only where they are treated alike. Symptom, injury and
encounter chapters (R, S, T, Z, V-Y) and the categories listed in HETEROGENEOUS mix opposite
or unrelated problems (E87: hyper- and hypokalaemia; N39: UTI and incontinence), and a category
whose coded records disagree with the diagnosis on acute/chronic is never pooled (acute kidney
failure is not chronic kidney disease).
"""

from __future__ import annotations

from typing import Literal

from recommend.candidates import _text

MIN_PATIENTS = 3
MIN_SHARE = 0.05

# A drug supported by records priors alone (no label indication and no guideline row for the
# diagnosis) is offered only when the records are themselves firm: NHANES records the reason
# each drug is taken, so several patients and a real share is a reported indication, while one
# or two may be a miscoded reason or a comorbidity (warfarin in sepsis, furosemide in
# respiratory failure). In hospital (inpatient, ICU) the outpatient records alone never
# suffice. Chosen on validation (docs/evidence.md): 5 patients and 10% cost 0.6 points at k=1
# and 1.4 at k=3 beyond the floor; 20 and 20% cost 4.2 and 7.6; no exception 7.0 and 12.6.
# REQUIRE_TREATMENT_EVIDENCE False: priors above the floor suffice everywhere.
REQUIRE_TREATMENT_EVIDENCE = True
PRIOR_ALONE_MIN_PATIENTS = 5
PRIOR_ALONE_MIN_SHARE = 0.1
HOSPITAL_SETTINGS = frozenset({"inpatient", "icu"})

# Where a guideline names the treatments of the diagnosis, a drug that only a label indication
# supports (no guideline row, no records) is not offered: the label sources keep indications of
# drugs never or no longer marketed here and of one ingredient of a combination (exifone and
# calcium dobesilate for hypothyroidism, terodiline for incontinence filled the slots the
# guideline's own drugs left). A drug of a class the guideline names stays (benazepril beside
# lisinopril). Without a guideline, a label indication still counts.
LABEL_ALONE_BESIDE_GUIDELINE = False
LABEL_ALONE_REASON = ("a label indication alone, where a guideline names the treatments of this "
                      "diagnosis and neither this drug nor its class, or names its class but no "
                      "patient in the records took it (no records show it used)")

# Categories whose codes call for different or opposite treatment.
HETEROGENEOUS = {
    "E87": "hyper- and hypo- states of sodium, potassium and acid-base",
    "E83": "disorders of different minerals (iron, copper, calcium, phosphate, magnesium)",
    "E16": "hypoglycaemia and hyperinsulinism with other pancreatic disorders",
    "E05": "thyrotoxicosis of different causes",
    "F98": "enuresis, encopresis, feeding, stereotyped movement and speech disorders of "
           "childhood",
    "E28": "ovarian dysfunction of opposite kinds (oestrogen or androgen excess, polycystic "
           "ovary syndrome, ovarian failure)",
    "N39": "urinary tract infection with incontinence and other urinary disorders",
    "I95": "hypotension of different causes (orthostatic, drug-induced, chronic)",
    "K92": "GI bleeding with other digestive disorders",
    "K59": "constipation, diarrhoea and ileus",
    "K76": "liver disorders of different causes",
    "D64": "anaemias of different causes",
    "D69": "purpura and thrombocytopenias of different causes",
    "G47": "insomnia, sleep apnoea, narcolepsy",
    "G25": "essential tremor, restless legs, myoclonus, chorea, tics and drug-induced movement "
           "disorders",
    "M79": "soft-tissue disorders of different kinds",
    "J98": "other respiratory disorders",
    "I99": "other circulatory disorders",
    "N28": "other kidney disorders",
    "E88": "other metabolic disorders",
}
_UNPOOLED_CHAPTERS = frozenset("RSTVWXYZ")

_ACUTE = frozenset({"acute", "acuity"})
_CHRONIC = frozenset({"chronic"})


def acuity(text: str) -> Literal["acute", "chronic", "acute on chronic"] | None:
    s = _text.stems(text)
    a, c = bool(s & _ACUTE), bool(s & _CHRONIC)
    if a and c:
        return "acute on chronic"
    return "acute" if a else ("chronic" if c else None)


def same_acuity(query: str, code_text: str) -> bool:
    """Whether a code's records may stand for the diagnosis as worded: an acute diagnosis is
    never read through a chronic or unqualified code (acute kidney failure is not N19 kidney
    failure), a chronic one never through an acute code. An unqualified diagnosis takes any."""
    q, t = acuity(query), acuity(code_text)
    if q is None:
        return True
    if q == "chronic":
        return t in (None, "chronic")
    return t in ("acute", "acute on chronic")


def category_pools(category: str, code_texts: list[str], query: str) -> str | None:
    """None when the category may pool its codes for this diagnosis, else why not."""
    if category[:1] in _UNPOOLED_CHAPTERS:
        return f"category {category} (symptoms, injuries or encounters) is not one treatment"
    if category in HETEROGENEOUS:
        return f"category {category} mixes {HETEROGENEOUS[category]}"
    if query and any(not same_acuity(query, t) for t in code_texts):
        return f"category {category} pools acute and chronic codes"
    return None


def passes(count: int, n: int) -> bool:
    return count >= MIN_PATIENTS and n > 0 and count / n >= MIN_SHARE


def prior_alone_suffices(count: int, share: float, setting: str | None = None) -> bool:
    return (setting not in HOSPITAL_SETTINGS and count >= PRIOR_ALONE_MIN_PATIENTS
            and share >= PRIOR_ALONE_MIN_SHARE)


def floor_text() -> str:
    return f"at least {MIN_PATIENTS} patients and {100 * MIN_SHARE:.0f}% of them"


def prior_strength(count: int, share: float) -> Literal["moderate", "weak"]:
    """Records priors never exceed moderate: they show practice, not effect."""
    return "moderate" if count >= 20 and share >= 0.2 else "weak"
