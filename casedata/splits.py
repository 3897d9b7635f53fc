"""Deterministic splits by patient: a patient's cases all land in one split.

The split is a function of a hash of the patient key alone, so adding or removing other
patients, or rebuilding on another machine, never moves a patient between splits.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple, Sequence

from rxassist.cases import Case

SPLITS = ("train", "val", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)


class PatientCase(NamedTuple):
    patient_key: str
    case: Case


def _unit_hash(text: str) -> float:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(patient_key: str, *, salt: str = "", fractions: Sequence[float] = DEFAULT_FRACTIONS) -> str:
    if len(fractions) != len(SPLITS) or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError(f"fractions must be {len(SPLITS)} non-negative numbers summing to 1, got {list(fractions)}")
    u = _unit_hash(f"{salt}:{patient_key}")
    edge = 0.0
    for name, fraction in zip(SPLITS, fractions):
        edge += fraction
        if u < edge:
            return name
    return SPLITS[-1]


def split_cases(items: Sequence[PatientCase], *, salt: str = "",
                fractions: Sequence[float] = DEFAULT_FRACTIONS) -> dict[str, list[Case]]:
    out: dict[str, list[Case]] = {name: [] for name in SPLITS}
    for key, case in items:
        out[split_of(key, salt=salt, fractions=fractions)].append(case)
    return out


def fixed_subset(cases: Sequence[Case], n: int, *, salt: str = "subset") -> list[Case]:
    """n cases chosen by a hash of their id: stable across rebuilds, spread over patients."""
    if n < 0:
        raise ValueError(f"subset size must be >= 0, got {n}")
    ranked = sorted(cases, key=lambda c: _unit_hash(f"{salt}:{c.id}"))
    chosen = {c.id for c in ranked[:n]}
    return [c for c in cases if c.id in chosen]  # keep file order for readable diffs
