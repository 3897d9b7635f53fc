"""NHANES prescription files -> cases: one per participant and reason for use.

Input: RXQ_RX (medications.csv) and DEMO (demographic.csv) as CSV with the NCHS column names.
A drug taken for several reasons (RXDRSC1-3) appears in each of those cases; the participant's
drugs not in a case are that case's current medications. Unknown / don't know / refused codes
(99999, 55555, 77777) are dropped, both as drug names and as reason codes.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rxassist.cases import Case, Diagnosis, Patient
from rxassist.errors import InvalidInput, NotFound

from casedata.splits import PatientCase

SOURCE = "nhanes-2013-2014"
UNKNOWN_CODES = frozenset({"99999", "55555", "77777"})
MEDICATION_COLUMNS = ("SEQN", "RXDDRUG", "RXDRSC1", "RXDRSD1")
DEMOGRAPHIC_COLUMNS = ("SEQN", "RIAGENDR", "RIDAGEYR")


@dataclass
class Demographics:
    sex: str | None = None
    age: float | None = None
    pregnant: bool | None = None


@dataclass
class _Participant:
    drugs: list[str] = field(default_factory=list)            # every known drug, in file order
    reasons: dict[str, list[str]] = field(default_factory=dict)  # code -> drugs for it
    reason_text: dict[str, str] = field(default_factory=dict)


def read_csv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    """All rows of a CSV export; a missing file or column is a clear error naming it."""
    if not path.is_file():
        raise NotFound(f"{path} does not exist", param=str(path))
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise InvalidInput(f"{path}: missing column(s) {', '.join(missing)}")
        return list(reader)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    try:
        return int(float(value)) if value else None
    except ValueError:
        return None


def read_demographics(path: Path) -> dict[str, Demographics]:
    out: dict[str, Demographics] = {}
    for row in read_csv(path, DEMOGRAPHIC_COLUMNS):
        sex = {1: "male", 2: "female"}.get(_int(row.get("RIAGENDR")))
        years = _int(row.get("RIDAGEYR"))
        months = _int(row.get("RIDAGEMN"))
        # RIDAGEMN is only filled for young children; it is the finer measure there.
        age = round(months / 12, 2) if months is not None else years
        pregnant = {1: True, 2: False}.get(_int(row.get("RIDEXPRG")))
        out[row["SEQN"].strip()] = Demographics(sex=sex, age=age, pregnant=pregnant)
    return out


def _drug_name(raw: str | None) -> str | None:
    name = " ".join((raw or "").split()).lower()
    if not name or name in UNKNOWN_CODES:
        return None
    return name


def _read_participants(path: Path, stats: Counter) -> dict[str, _Participant]:
    people: dict[str, _Participant] = defaultdict(_Participant)
    for row in read_csv(path, MEDICATION_COLUMNS):
        stats["rows"] += 1
        drug = _drug_name(row.get("RXDDRUG"))
        if drug is None:
            stats["rows_without_drug" if not (row.get("RXDDRUG") or "").strip()
                  else "rows_unknown_drug"] += 1
            continue
        person = people[row["SEQN"].strip()]
        if drug not in person.drugs:
            person.drugs.append(drug)
        for i in (1, 2, 3):
            code = (row.get(f"RXDRSC{i}") or "").strip().upper()
            if not code:
                continue
            if code in UNKNOWN_CODES:
                stats["unknown_reason_codes"] += 1
                continue
            text = " ".join((row.get(f"RXDRSD{i}") or "").split())
            drugs = person.reasons.setdefault(code, [])
            if drug not in drugs:
                drugs.append(drug)
            if text and code not in person.reason_text:
                person.reason_text[code] = text
    return people


def build_nhanes_cases(nhanes_dir: str | Path, *, source: str = SOURCE,
                       stats: Counter | None = None) -> list[PatientCase]:
    """Cases from an NHANES folder (medications.csv + demographic.csv), keyed by SEQN.

    `stats`, when given, counts rows read and dropped (for the data card)."""
    stats = Counter() if stats is None else stats
    nhanes_dir = Path(nhanes_dir)
    demographics = read_demographics(nhanes_dir / "demographic.csv")
    people = _read_participants(nhanes_dir / "medications.csv", stats)
    cases: list[PatientCase] = []
    for seqn in sorted(people, key=lambda s: (len(s), s)):
        person = people[seqn]
        demo = demographics.get(seqn, Demographics())
        for code in sorted(person.reasons):
            drugs = sorted(person.reasons[code])
            current = sorted(d for d in person.drugs if d not in drugs)
            cases.append(PatientCase(seqn, Case(
                id=f"{source}-{seqn}-{code}",
                source=source,
                patient=Patient(age=demo.age, sex=demo.sex, pregnant=demo.pregnant,
                                # NHANES records no allergies: unknown, not "none".
                                allergies=None, current_medications=current),
                diagnosis=Diagnosis(text=person.reason_text.get(code) or code, code=code,
                                    system="ICD-10-CM"),
                drugs=drugs,
            )))
    return cases
