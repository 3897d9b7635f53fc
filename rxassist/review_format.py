"""The review CSV: one format, written by the eval export and the assistant UI's feedback,
read by `rxassist eval review import`. Shared core, so neither side imports the other.

One row per recommended drug. A clinician fills `appropriate` with yes / no / unsure (blank =
not reviewed yet) and an optional `comment`.

    REVIEW_COLUMNS                 the header, in order
    ReviewRow                      one row (validated)
    (the `patient_summary` cell: rxassist.patient_text.patient_summary)
    append_review_rows(path, rows) append rows (owner-only file, formula-escaped cells)
    read_review(path)              rows of a filled CSV; a bad row is an error naming its line

The rows hold patient summaries, so the file is created 0600 in a 0700 folder. A cell that a
spreadsheet would run as a formula (=, +, -, @, tab, CR first) is written with a leading "'"
(OWASP's CSV-injection advice); `read_review` takes it off again.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Iterable, Mapping

from pydantic import BaseModel, ConfigDict, field_validator

from rxassist.errors import InvalidInput, NotFound

REVIEW_COLUMNS = ["case_id", "diagnosis", "patient_summary", "recommended_drug", "rationale",
                  "appropriate", "comment", "reviewer", "source"]
REQUIRED_COLUMNS = ("case_id", "recommended_drug", "appropriate")
ANSWERS = ("yes", "no", "unsure", "")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_ALIASES = {"y": "yes", "true": "yes", "appropriate": "yes", "n": "no", "false": "no",
            "inappropriate": "no", "?": "unsure", "unknown": "unsure"}


class ReviewRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    case_id: str
    diagnosis: str = ""
    patient_summary: str = ""
    recommended_drug: str
    rationale: str = ""
    appropriate: str = ""
    comment: str = ""
    reviewer: str = ""
    source: str = ""   # what produced the recommendation: a run's model name, "assistant-ui", ...

    @field_validator("appropriate", mode="before")
    @classmethod
    def _answer(cls, v):
        v = "" if v is None else str(v).strip().lower()
        v = _ALIASES.get(v, v)
        if v not in ANSWERS:
            raise ValueError(f"appropriate must be yes, no, unsure or blank, got {v[:40]!r}")
        return v


def escape_cell(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unescape_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


def _open_private(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)   # a file made before this rule keeps no wider mode
    return os.fdopen(fd, "a", newline="", encoding="utf-8")


def append_review_rows(path: str | Path, rows: Iterable[ReviewRow | Mapping]) -> int:
    path = Path(path)
    validated = [r if isinstance(r, ReviewRow) else ReviewRow.model_validate(dict(r))
                 for r in rows]
    new = not path.exists() or path.stat().st_size == 0
    with _open_private(path) as fh:
        writer = csv.DictWriter(fh, fieldnames=REVIEW_COLUMNS)
        if new:
            writer.writeheader()
        for row in validated:
            writer.writerow({k: escape_cell(v) for k, v in row.model_dump().items()})
    return len(validated)


def read_review(path: str | Path) -> list[ReviewRow]:
    path = Path(path)
    if not path.is_file():
        raise NotFound(f"{path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as fh:  # spreadsheets add a BOM
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)}; "
                               f"expected {', '.join(REVIEW_COLUMNS)}")
        rows, errors = [], []
        for lineno, raw in enumerate(reader, start=2):
            try:
                rows.append(ReviewRow.model_validate(
                    {k: unescape_cell(v) if isinstance(v, str) else v
                     for k, v in raw.items() if k}))
            except ValueError as e:
                errors.append(f"line {lineno}: {str(e).splitlines()[-1].strip()}")
    if errors:
        raise InvalidInput(f"{path}: " + "; ".join(errors[:10])
                           + (f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""))
    return rows
