"""Case files (docs/formats.md#case-files): one JSON case per line.

Every patient field may be missing or null, meaning unknown. An empty list (allergies: [])
means "none", which is different from unknown (null).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rxassist.errors import describe_validation


class Patient(BaseModel):
    model_config = ConfigDict(extra="ignore")

    age: float | None = Field(None, ge=0, le=130, description="years; fractions for infants")
    sex: Literal["male", "female"] | None = None
    pregnant: bool | None = None
    weight_kg: float | None = Field(None, gt=0, le=500)
    allergies: list[str] | None = Field(None, description="null = unknown, [] = none")
    current_medications: list[str] | None = Field(None, description="null = unknown, [] = none")
    comorbidities: list[str] | None = Field(
        None, description="conditions beside the question, coded where possible; null = unknown, "
                          "[] = none")
    # Kidney function: any one is enough; eGFR is preferred where a rule is written for it.
    egfr: float | None = Field(None, gt=0, lt=200, description="mL/min/1.73 m2")
    crcl: float | None = Field(None, gt=0, lt=250, description="creatinine clearance, mL/min")
    ckd_stage: int | None = Field(None, ge=1, le=5, description="KDIGO GFR category G1-G5")
    dialysis: bool | None = None
    breastfeeding: bool | None = None

    @field_validator("sex", mode="before")
    @classmethod
    def _lower_sex(cls, v):
        return v.strip().lower() if isinstance(v, str) else v


class Diagnosis(BaseModel):
    model_config = ConfigDict(extra="ignore")

    text: str = Field(min_length=1)
    code: str | None = None
    system: str | None = None


class Case(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str = Field(min_length=1)
    source: str | None = None
    patient: Patient = Field(default_factory=Patient)
    diagnosis: Diagnosis
    drugs: list[str]

    @field_validator("patient", mode="before")
    @classmethod
    def _null_patient(cls, v):
        return {} if v is None else v


@dataclass
class LineError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class CaseFile:
    path: str
    cases: list[Case] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)


def parse_case_line(text: str) -> Case:
    """Parse one JSONL line; raises ValueError with a readable message."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("a case must be a JSON object")
    try:
        return Case.model_validate(obj)
    except ValidationError as e:
        raise ValueError(describe_validation(e.errors(), whole="<case>")[0]) from None


def read_cases(path: str | Path) -> CaseFile:
    """Read a case file; malformed lines are reported with their line number and skipped."""
    out = CaseFile(path=str(path))
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                out.cases.append(parse_case_line(raw))
            except ValueError as e:
                out.errors.append(LineError(lineno, str(e)))
    return out


def write_cases(path: str | Path, cases: Iterable[Case]) -> int:
    n = 0
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        for case in cases:
            fh.write(case.model_dump_json(exclude_none=False) + "\n")
            n += 1
    return n
