"""Diagnosis texts that must get no recommendation, each with the reason.

    eval/everyday/must_abstain.jsonl: {"id", "message", "diagnosis": {"text", "code"?},
                                       "reason", "never": [drugs that must never be offered],
                                       "citation"}

"hypotension" must never get a blood-pressure-lowering drug (or any default drug), a cancer
without a treatment question must get no random drug, acute kidney injury gets the advice to
hold nephrotoxins and no drug. Read by benchmarks/bench_everyday.py --abstain.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rxassist.cases import Diagnosis, Patient
from rxassist.errors import ConfigError

from eval.everyday.consultations import MUST_ABSTAIN_FILE, ingredient_key


class AbstainCase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    message: str = Field(min_length=1, description="the consultation as a clinician types it")
    patient: Patient = Field(default_factory=Patient)
    diagnosis: Diagnosis
    reason: str = Field(min_length=1, description="why no drug is the right answer")
    never: list[str] = Field(default_factory=list,
                             description="drugs that must never be offered here")
    citation: str = Field(min_length=1)

    @field_validator("never")
    @classmethod
    def _readable(cls, names: list[str]) -> list[str]:
        bad = [n for n in names if not ingredient_key(n)]
        if bad:
            raise ValueError(f"guardrails cannot read {bad}")
        return names


def read_abstain_cases(path: str | Path = MUST_ABSTAIN_FILE) -> list[AbstainCase]:
    out: list[AbstainCase] = []
    seen: set[str] = set()
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                c = AbstainCase.model_validate(json.loads(raw))
            except (json.JSONDecodeError, ValidationError) as e:
                raise ConfigError(f"{path} line {lineno}: {e}") from None
            if c.id in seen:
                raise ConfigError(f"{path} line {lineno}: duplicate id {c.id}")
            seen.add(c.id)
            out.append(c)
    return out
