"""The templated rationale in training answers: the one place it is written, used by training only.

The prescribing records say which drug was taken for which diagnosis and nothing about why, so the
rationale states only what is true: the drug's FDA pharmacologic class (when known) and that it
was given for the diagnosis. It never invents a clinical argument.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from pathlib import Path

from rxassist.cases import Case
from recommend.prompt import Recommendation

CLASSES_FILE = Path(__file__).parent / "data" / "epc_classes.tsv"


@lru_cache(maxsize=1)
def pharmacologic_classes() -> dict[str, str]:
    """ingredient (lowercase) -> FDA Established Pharmacologic Class (DrugCentral, CC BY 4.0)."""
    with open(CLASSES_FILE, encoding="utf-8", newline="") as fh:
        return {row["ingredient"]: row["epc_class"] for row in csv.DictReader(fh, delimiter="\t")}


def rationale(drug: str, diagnosis: str) -> str:
    """'<class> for <diagnosis>' when every ingredient's class is known, else 'prescribed for ...'."""
    classes = pharmacologic_classes()
    ingredients = [p.strip().lower() for p in drug.split(";") if p.strip()]
    found = [classes.get(i) for i in ingredients]
    if ingredients and all(found):
        return f"{' + '.join(dict.fromkeys(found))} for {diagnosis}"
    return f"prescribed for {diagnosis}"


def recommendations_for(case: Case) -> list[Recommendation]:
    """One recommendation per prescribed drug, in the record's order, duplicates dropped."""
    drugs = [d.strip() for d in case.drugs if d.strip()]
    return [Recommendation(drug=d, rationale=rationale(d, case.diagnosis.text))
            for d in dict.fromkeys(drugs)]
