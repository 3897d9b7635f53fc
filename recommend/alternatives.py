"""Ranked recommendations are alternatives, not a regimen: check each one alone with the patient.

The clinician prescribes one of the ranked drugs, not all of them. Checking them together would
flag "ibuprofen + naproxen" or "3 NSAIDs together" for options nobody co-prescribes and bury the
flags that matter (each option against the current medications, allergies, pregnancy, age).
So every option goes through `guardrails.check` on its own with the patient, and the flags are
merged: one flag found for several options (e.g. two current medications that interact) is
kept once.
"""

from __future__ import annotations

from typing import Any, Sequence

import guardrails
from guardrails import CheckResult, Flag
from rxassist.severity import SEVERITY_ORDER


def _key(flag: Flag) -> tuple:
    return (flag.kind, flag.severity, flag.ingredient, tuple(flag.drugs), flag.message)


def check_alternatives(names: Sequence[str], patient: Any = None,
                       diagnosis: Any = None) -> CheckResult:
    """`guardrails.check` for options that are chosen between: `drugs[i]` is `names[i]`
    normalised; `flags` holds each option's flags against the patient, never a pair of
    options, worst first (the order `guardrails.check` itself uses within a severity)."""
    drugs = []
    flags: dict[tuple, Flag] = {}
    for name in names:
        checked = guardrails.check([name], patient, diagnosis=diagnosis)
        drugs.append(checked.drugs[0])
        for flag in checked.flags:
            flags.setdefault(_key(flag), flag)
    ordered = sorted(flags.values(), key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
    return CheckResult(drugs, ordered)
