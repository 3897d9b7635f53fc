"""Drug-name normalisation and safety flags for rxassist.

    normalize(name) -> NormalizedDrug        any written name -> active ingredients
    ingredients_of(name) -> list[str]        [] when unknown
    check(drugs, patient=None, diagnosis=None) -> CheckResult  flags: duplicate_ingredient,
                                             allergy, contraindication, unknown_drug, interaction,
                                             name_guess, dose, renal, older_adult, condition,
                                             withdrawn, ... (docs/formats.md#guardrails-check)
    PATIENT_KINDS                            the flag kinds about this patient (guardrails._patient)
    PAIR_KINDS                               those of them about a new drug with a current one
    PREGNANCY_UNKNOWN                        in a caution's message: a fact to confirm, not known
    find_drug_mentions(text) -> list[NormalizedDrug]   exact drug names in free text
    drug_classes(ingredient) -> frozenset[str]          its therapeutic classes
    vascular_history(patient) -> str | None             what says arterial disease is known

The knowledge base (data/kb.json.gz, built by `rxassist guardrails build-kb`), the interaction
table (data/interactions.json.gz, built with it) and the rules (data/rules.json) load once per
process, on first use. Nothing here imports torch or vLLM.
"""

from guardrails._check import PREGNANCY_UNKNOWN, check
from guardrails._flags import vascular_history
from guardrails._mentions import find_drug_mentions
from guardrails._normalize import ingredients_of, normalize
from guardrails._patient import PAIR_KINDS, PATIENT_KINDS
from guardrails._patient_rules import drug_classes
from guardrails._types import CheckResult, Flag, NormalizedDrug

__all__ = ["normalize", "ingredients_of", "check", "find_drug_mentions",
           "NormalizedDrug", "Flag", "CheckResult", "PATIENT_KINDS", "PAIR_KINDS",
           "PREGNANCY_UNKNOWN", "drug_classes", "vascular_history"]
