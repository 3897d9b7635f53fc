"""What a run keeps per case, on disk as JSONL: one solver record and one record per judge.

Files in a run folder (append-only, so an interrupted run loses at most the line being written):
    run.json       the run's configuration (a rerun must match it to resume)
    cases.jsonl    one SolverRecord per finished case
    judge.jsonl    one JudgeRecord per judged case (LLM judge only)
    scores.jsonl   per-case scores (rewritten at the end of every run)
    metrics.json   docs/formats.md#metricsjson, plus extra keys
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Iterator, TypeVar

from pydantic import BaseModel, ValidationError

from guardrails import Flag
from rxassist.cases import Diagnosis, Patient

T = TypeVar("T", bound=BaseModel)


class RecommendedDrug(BaseModel):
    drug: str
    rationale: str = ""
    ingredients: list[str] | None = None  # as the target reported them (assistant API)


class SolverRecord(BaseModel):
    id: str
    patient: Patient
    diagnosis: Diagnosis
    drugs: list[str]                          # prescribed (the reference)
    output: list[RecommendedDrug] | None      # None: no parseable, non-empty answer
    raw: str | None = None                    # the answer text, for inspection
    error: str | None = None                  # why there is no output, when known
    latency_s: float | None = None
    # The guardrails' flags on the answer (docs/formats.md#guardrails-check), when the target returns them
    # (the assistant API's `rxassist.flags`); None when the target gives none.
    flags: list[Flag] | None = None
    candidates: list[str] | None = None       # names the target chose from (None: no list)
    usage: dict[str, int] | None = None       # model tokens for this case, when reported


class Verdict(BaseModel):
    drug: str
    appropriate: bool | None                  # None: the judge gave no usable verdict
    reason: str = ""


class JudgeRecord(BaseModel):
    id: str
    judge: str
    prompt_version: str
    verdicts: list[Verdict]
    unparseable: bool = False
    raw: str | None = None


def read_records(path: Path, model: type[T], warn=None) -> Iterator[T]:
    """Records in a run file; a damaged line (e.g. cut off by a crash) is reported and skipped."""
    if not path.exists():
        return
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield model.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as e:
                if warn:
                    warn(f"{path}: line {lineno}: unreadable record skipped "
                         f"({str(e).splitlines()[0]}); the case will be redone")


class Appender:
    """Thread-safe JSONL appender that flushes every line (resumability relies on it)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        # A crash can leave a last line without its newline; never glue a new record onto it.
        if path.exists() and path.stat().st_size:
            with open(path, "rb") as fh:
                fh.seek(-1, 2)
                if fh.read(1) != b"\n":
                    with open(path, "a", encoding="utf-8") as out:
                        out.write("\n")

    def append(self, record: BaseModel) -> None:
        line = record.model_dump_json() + "\n"
        with self._lock, open(self.path, "a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()
