"""Synthea CSV export -> cases: one per patient and reason (medications.REASONCODE).

The case is set at the first prescription for that reason: age then, allergies recorded by then
and still active, other drugs active then as current medications, pregnant when a pregnancy
condition was active. Synthea simulates a complete record, so no allergy means none ([]) and no
pregnancy condition means not pregnant, unlike NHANES where both are unknown.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path

from rxassist.cases import Case, Diagnosis, Patient

from casedata.nhanes import read_csv
from casedata.splits import PatientCase

SOURCE = "synthea-sample"
PREGNANCY_CONDITIONS = ("normal pregnancy",)
_SEMANTIC_TAG = re.compile(r"\s*\((disorder|finding|substance|organism|situation|"
                           r"procedure|product|qualifier value)\)\s*$", re.I)


def _day(stamp: str | None) -> str:
    """ISO date part ('' when absent); ISO strings compare correctly as text."""
    return (stamp or "").strip()[:10]


def _active(start: str, stop: str, at: str) -> bool:
    return bool(start) and start <= at and (not stop or stop > at)


def _clean(description: str) -> str:
    return _SEMANTIC_TAG.sub("", " ".join(description.split()))


def _age(birth: str, at: str) -> float | None:
    try:
        b, a = date.fromisoformat(birth), date.fromisoformat(at)
    except ValueError:
        return None
    return round((a - b).days / 365.25, 2)


def build_synthea_cases(synthea_dir: str | Path, *, source: str = SOURCE) -> list[PatientCase]:
    synthea_dir = Path(synthea_dir)
    patients = {r["Id"]: r for r in read_csv(synthea_dir / "patients.csv",
                                             ("Id", "BIRTHDATE", "GENDER"))}
    meds = read_csv(synthea_dir / "medications.csv",
                    ("START", "STOP", "PATIENT", "DESCRIPTION", "REASONCODE", "REASONDESCRIPTION"))
    conditions = read_csv(synthea_dir / "conditions.csv", ("START", "STOP", "PATIENT", "DESCRIPTION"))
    allergy_path = synthea_dir / "allergies.csv"
    allergies = read_csv(allergy_path, ("START", "STOP", "PATIENT", "DESCRIPTION")) \
        if allergy_path.exists() else None

    by_patient: dict[str, list[dict]] = defaultdict(list)
    for row in meds:
        by_patient[row["PATIENT"]].append(row)

    out: list[PatientCase] = []
    for pid in sorted(by_patient):
        rows = by_patient[pid]
        groups: dict[str, list[dict]] = defaultdict(list)
        for row in rows:
            if row["REASONCODE"].strip():
                groups[row["REASONCODE"].strip()].append(row)
        person = patients.get(pid, {})
        for code in sorted(groups):
            group = groups[code]
            at = min(_day(r["START"]) for r in group)
            drugs = sorted({" ".join(r["DESCRIPTION"].split()) for r in group})
            current = sorted({" ".join(r["DESCRIPTION"].split()) for r in rows
                              if _active(_day(r["START"]), _day(r["STOP"]), at)} - set(drugs))
            sex = {"M": "male", "F": "female"}.get(person.get("GENDER", "").strip().upper())
            pregnant = any(c["PATIENT"] == pid and _active(_day(c["START"]), _day(c["STOP"]), at)
                           and c["DESCRIPTION"].strip().lower() in PREGNANCY_CONDITIONS
                           for c in conditions) if sex == "female" else (False if sex else None)
            allergy_list = None if allergies is None else sorted({
                _clean(a["DESCRIPTION"]) for a in allergies
                if a["PATIENT"] == pid and _day(a["START"]) <= at
                and (not _day(a["STOP"]) or _day(a["STOP"]) > at)})
            out.append(PatientCase(pid, Case(
                id=f"{source}-{pid}-{code}",
                source=source,
                patient=Patient(age=_age(_day(person.get("BIRTHDATE")), at) if person else None,
                                sex=sex, pregnant=pregnant, allergies=allergy_list,
                                current_medications=current),
                diagnosis=Diagnosis(text=_clean(group[0]["REASONDESCRIPTION"]) or code, code=code,
                                    system="SNOMED-CT"),
                drugs=drugs,
            )))
    return out
