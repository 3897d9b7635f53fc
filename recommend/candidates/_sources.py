"""Read the index's inputs: training priors, label indications, concepts, guideline rows.

Every reader returns plain, sorted structures so the built index is byte-for-byte
reproducible. Drug names are put into the guardrails vocabulary here, once, at build time.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rxassist.cases import read_cases
from rxassist.errors import ConfigError
import guardrails

_ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,5})?$")


def normalise_code(code: str | None) -> str | None:
    """'e11' -> 'E11', 'I4891' -> 'I48.91'; None for anything that is not ICD-10 shaped
    (e.g. a SNOMED CT number)."""
    if not code:
        return None
    c = code.strip().upper().replace(" ", "")
    if "." not in c and len(c) > 3:
        c = c[:3] + "." + c[3:]
    return c if _ICD10.match(c) else None


def category(code: str) -> str:
    return code.split(".")[0][:3]


@dataclass(frozen=True)
class Product:
    key: str              # "; ".join(sorted ingredients): one combination = one product
    name: str             # guardrails display name
    ingredients: tuple[str, ...]


def product_of(name: str) -> Product | None:
    """A written drug name -> its product, or None when guardrails cannot read it: a name the
    safety checks cannot resolve must never be offered as a candidate."""

    r = guardrails.normalize(name)
    if not r.known or not r.ingredients:
        return None
    ingredients = _ingredients(r)
    # Callers check a candidate by its name (guardrails.check([name], patient)), so the name
    # must read back to the same ingredients; guardrails' display name almost always does.
    for display in (r.name.lower(), "; ".join(ingredients), name.lower()):
        back = guardrails.normalize(display)
        if back.known and _ingredients(back) == ingredients:
            return Product("; ".join(ingredients), display, ingredients)
    return None


def _ingredients(r) -> tuple[str, ...]:
    return tuple(sorted({" ".join(i.lower().split()) for i in r.ingredients}))


@dataclass
class Priors:
    """Training-split prescribing: per code and per 3-character category, how many patients
    had the diagnosis (n) and how many were recorded with each product."""

    products: dict[str, Product] = field(default_factory=dict)
    code_text: dict[str, str] = field(default_factory=dict)
    code_patients: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    code_counts: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    cat_patients: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    cat_counts: dict[str, dict[str, set[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(set)))
    popularity: Counter = field(default_factory=Counter)
    unreadable: Counter = field(default_factory=Counter)
    n_cases: int = 0


def _patient_key(case_id: str, code: str) -> str:
    # NHANES ids are "<source>-<SEQN>-<code>": one patient may hold several codes of one
    # category (E11 and E11.2), and must count once there.
    suffix = "-" + code
    return case_id[: -len(suffix)] if case_id.endswith(suffix) else case_id


def read_priors(path: Path) -> Priors:
    if "train" not in path.name:
        # Priors from validation or test cases would leak the answers into evaluation.
        raise ConfigError(f"priors must come from the training split, not {path.name}")
    cf = read_cases(path)
    if cf.errors:
        raise ConfigError(f"{path}: {len(cf.errors)} malformed lines, first: {cf.errors[0]}")
    p = Priors()
    for case in cf.cases:
        code = normalise_code(case.diagnosis.code)
        if code is None:
            continue
        p.n_cases += 1
        patient = _patient_key(case.id, case.diagnosis.code or "")
        p.code_text.setdefault(code, case.diagnosis.text)
        cat = category(code)
        p.code_patients[code].add(patient)
        p.cat_patients[cat].add(patient)
        for name in sorted(set(case.drugs)):
            prod = product_of(name)
            if prod is None:
                p.unreadable[name.lower()] += 1
                continue
            p.products.setdefault(prod.key, prod)
            p.code_counts[code][prod.key].add(patient)
            p.cat_counts[cat][prod.key].add(patient)
            p.popularity[prod.key] += 1
    return p


@dataclass(frozen=True)
class IndicationRow:
    ingredient: str
    indication: str
    source: str  # "drugcentral" | "labeledin"


_SOURCE_NAMES = {"drugcentral-2016": "drugcentral", "labeledin": "labeledin"}


def read_indications(path: Path, dropped: Counter | None = None
                     ) -> tuple[list[IndicationRow], dict[str, Product]]:
    """data/reference/indications.tsv (built by `rxassist data build` from DrugCentral 2016 and
    LabeledIn; ingredients already single and in guardrails naming). Rows whose ingredient
    guardrails cannot read are dropped, and so are rows that do not mean treatment
    (_indication_filter.screen); `dropped` counts them by (source, reason, indication)."""
    from recommend.candidates._indication_filter import screen

    rows: list[IndicationRow] = []
    products: dict[str, Product] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            source = _SOURCE_NAMES.get(r["source"])
            if source is None:
                raise ConfigError(f"{path}: unknown source {r['source']!r}")
            prod = product_of(r["ingredient"])
            if prod is None or len(prod.ingredients) != 1:
                continue
            indication = " ".join(r["indication"].split())
            why = screen(prod.key, indication)
            if why is not None:
                if dropped is not None:
                    dropped[(source, why, f"{indication} <- {prod.key}")] += 1
                continue
            products.setdefault(prod.key, prod)
            rows.append(IndicationRow(prod.key, indication, source))
    return sorted(set(rows), key=lambda x: (x.indication, x.ingredient, x.source)), products


def read_tsv(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh, delimiter="\t")
        if tuple(reader.fieldnames or ()) != columns:
            raise ConfigError(f"{path}: columns must be {columns}, got {reader.fieldnames}")
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if any(v is None for v in row.values()):
                raise ConfigError(f"{path} line {lineno}: missing columns")
            rows.append({k: v.strip() for k, v in row.items()})
        return rows
