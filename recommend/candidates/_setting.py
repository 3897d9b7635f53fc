"""Care setting of a guideline row and of a consultation: which regimen fits where.

A guideline row is written for a setting: 'any', 'outpatient', 'inpatient' or 'icu'
(oral amoxicillin for CAP treated at home, IV ceftriaxone with azithromycin on the ward,
with an anti-MRSA or antipseudomonal agent in ICU only when risk factors apply). A lookup
for a setting keeps the full weight for that setting's rows and rows for 'any', and lowers the
weight of rows written for another setting, so they rank below without disappearing.

Without a stated setting, a diagnosis with outpatient rows is assumed outpatient, one whose
rows are written for hospital only (sepsis, DKA, hepatic encephalopathy) inpatient; the answer
names the assumption.
"""

from __future__ import annotations

from typing import Iterable

SETTINGS = ("any", "outpatient", "inpatient", "icu")
QUERY_SETTINGS = ("outpatient", "inpatient", "icu")

# Weight of a row by (row setting, consultation setting); 1.0 when they agree.
_OTHER = {("outpatient", "inpatient"): 0.25, ("outpatient", "icu"): 0.2,
          ("inpatient", "outpatient"): 0.5, ("icu", "outpatient"): 0.3,
          ("icu", "inpatient"): 0.6, ("inpatient", "icu"): 1.0}


# The training records (NHANES) are outpatient prescriptions: in hospital their priors count
# as rows written for another setting do.
RECORDS_SETTING = "outpatient"


def fit(row_setting: str, where: str | None) -> float:
    if row_setting == "any" or where is None or row_setting == where:
        return 1.0
    return _OTHER.get((row_setting, where), 0.5)


def resolve(given: str | None, row_settings: Iterable[str]) -> tuple[str | None, bool]:
    """(setting, assumed): the given one, else inferred from the matched rows' settings."""
    if given:
        g = given.strip().lower()
        if g not in QUERY_SETTINGS:
            from rxassist.errors import InvalidInput

            raise InvalidInput(f"setting must be one of {', '.join(QUERY_SETTINGS)}, got "
                               f"{given!r}", param="setting")
        return g, False
    rows = set(row_settings)
    if not rows:
        return None, False
    if "outpatient" in rows:
        return "outpatient", True
    if "inpatient" in rows:
        return "inpatient", True
    if "icu" in rows:
        return "icu", True
    return None, False
