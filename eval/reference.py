"""The offline reference judge: is a recommended drug *supported* for this diagnosis by open data?

Needs no network. A recommendation is supported when every one of its active ingredients is
either
  1. prescribed for the same diagnosis code (or its 3-character ICD category) in at least
     `min_count` cases of the training split (real prescribing, NHANES), or
  2. labelled for an indication whose wording matches the diagnosis text (every content word
     of the indication, by 7-letter stem, appears in the diagnosis, or vice versa), from
     data/reference/indications.tsv: DrugCentral 2016 (CC BY 4.0) and LabeledIn (FDA labels,
     public domain / CC0).
An unknown drug name is never supported. "Not supported" is weaker than "inappropriate": the
open data are incomplete, so this score is a conservative reference, reported as
`reference_appropriateness` and never mixed with the LLM judge's `appropriateness`.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Iterable

from rxassist.cases import Case
from rxassist.paths import SHIPPED_DATA_DIR

from eval.matching import drug_key
from eval.records import SolverRecord
from eval.targets import icd_category

INDICATIONS_FILE = SHIPPED_DATA_DIR / "reference" / "indications.tsv"
INDICATION_COLUMNS = ("ingredient", "indication", "source")
STEM = 7
_STOPWORDS = frozenset("""a an and or of the in on to with without for by due other others
unspecified specified not elsewhere classified nos type primary secondary disease diseases
disorder disorders finding findings condition conditions syndrome acute chronic essential
adjunct treatment therapy prevention prophylaxis symptoms symptom""".split())


def stems(text: str) -> frozenset[str]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return frozenset(w[:STEM] for w in words
                     if w not in _STOPWORDS and (len(w) > 1 or w.isdigit()))


def texts_match(indication: frozenset[str], diagnosis: frozenset[str]) -> bool:
    return bool(indication) and bool(diagnosis) and (indication <= diagnosis
                                                     or diagnosis <= indication)


def read_indications(path: Path = INDICATIONS_FILE) -> dict[str, list[frozenset[str]]]:
    out: dict[str, list[frozenset[str]]] = defaultdict(list)
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            s = stems(row["indication"])
            if s:
                out[row["ingredient"]].append(s)
    return out


class ReferenceJudge:
    name = "reference"

    def __init__(self, train_cases: Iterable[Case], indications: dict[str, list[frozenset[str]]],
                 min_count: int = 2):
        self.min_count = min_count
        self.indications = indications
        self.by_code: dict[str, Counter] = defaultdict(Counter)
        for case in train_cases:
            code = case.diagnosis.code
            if not code:
                continue
            ingredients = set()
            for d in case.drugs:
                ingredients |= drug_key(d).ingredients
            for i in ingredients:
                self.by_code[code][i] += 1
                if icd_category(code) != code:
                    self.by_code[icd_category(code)][i] += 1

    def _ingredient_supported(self, ingredient: str, code: str | None, dx: frozenset[str]) -> bool:
        for key in {code, icd_category(code)} - {None}:
            if self.by_code.get(key, Counter())[ingredient] >= self.min_count:
                return True
        return any(texts_match(ind, dx) for ind in self.indications.get(ingredient, ()))

    def __call__(self, record: SolverRecord, drug: str) -> bool:
        key = drug_key(drug)
        if not key.known:
            return False
        dx = stems(record.diagnosis.text)
        return all(self._ingredient_supported(i, record.diagnosis.code, dx)
                   for i in key.ingredients)


def build_indications(drugcentral_tsv: Path | None, labeledin_tsv: Path | None,
                      out: Path = INDICATIONS_FILE) -> int:
    """Compact ingredient -> indication table from the open sources, ingredient names in the
    guardrails vocabulary (US names: paracetamol -> acetaminophen)."""
    rows: set[tuple[str, str, str]] = set()

    def add(name: str, indication: str, source: str) -> None:
        name, indication = " ".join(name.split()).lower(), " ".join(indication.split())
        if not name or not indication:
            return
        key = drug_key(name)
        if key.known and len(key.ingredients) > 1:
            return  # a combination's indication need not hold for each of its ingredients
        ingredient = next(iter(key.ingredients)) if key.known else name
        rows.add((ingredient, indication, source))

    if drugcentral_tsv is not None:
        with open(drugcentral_tsv, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                add(r["DRUG_NAME"], r["INDICATION_FDB"], "drugcentral-2016")
    if labeledin_tsv is not None:
        with open(labeledin_tsv, newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh, delimiter="\t"):
                add(r["rxnorm_name"], r["disease_mesh_name"], "labeledin")
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter="\t", lineterminator="\n")
        w.writerow(INDICATION_COLUMNS)
        w.writerows(sorted(rows))
    return len(rows)
