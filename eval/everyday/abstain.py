"""Diagnosis texts that must get no recommendation, each with the reason.

    eval/everyday/must_abstain.jsonl: {"id", "message", "diagnosis": {"text", "code"?},
                                       "reason", "never": [drugs that must never be offered],
                                       "citation"}

"hypotension" must never get a blood-pressure-lowering drug (or any default drug), a cancer
without a treatment question must get no random drug, acute kidney injury gets the advice to
hold nephrotoxins and no drug. Read by benchmarks/bench_everyday.py --abstain.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from rxassist.cases import Diagnosis, Patient

from eval.everyday.consultations import MUST_ABSTAIN_FILE, read_case_file, readable_names


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
        return readable_names(names)


def read_abstain_cases(path: str | Path = MUST_ABSTAIN_FILE) -> list[AbstainCase]:
    return read_case_file(path, AbstainCase)
