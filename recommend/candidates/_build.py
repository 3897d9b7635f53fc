"""Build the candidate index (recommend/candidates/data/index.json.gz) from files in the repo.

    rxassist candidates build [--train FILE] [--indications FILE] [--out FILE]

Inputs (provenance and licences in data/README.md):
  * data/cases/nhanes-2013-2014-train.jsonl  prescribing priors, TRAINING split only
  * data/reference/indications.tsv           label indications (DrugCentral 2016, LabeledIn)
  * recommend/candidates/data/concepts.tsv    diagnosis concepts: ICD-10 codes, synonyms
  * recommend/candidates/data/guidelines.tsv  first-line drugs from named guidelines
The output is deterministic (sorted keys, gzip mtime 0): the same inputs give the same bytes,
which a test checks against the shipped file.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import Counter
from pathlib import Path

from rxassist.errors import ConfigError
from rxassist.paths import REPO_ROOT, SHIPPED_DATA_DIR

from recommend.candidates import _sources as src
from recommend.candidates._setting import SETTINGS

DATA_DIR = Path(__file__).resolve().parent / "data"
INDEX_PATH = DATA_DIR / "index.json.gz"
INDEX_FORMAT = 2
# Bump when the inputs' meaning or the index layout changes (the loader checks FORMAT only).
INDEX_VERSION = "2026.12.1"

TRAIN_FILE = SHIPPED_DATA_DIR / "cases" / "nhanes-2013-2014-train.jsonl"
INDICATIONS_FILE = SHIPPED_DATA_DIR / "reference" / "indications.tsv"
CONCEPTS_FILE = DATA_DIR / "concepts.tsv"
GUIDELINES_FILE = DATA_DIR / "guidelines.tsv"
CONCEPT_COLUMNS = ("concept", "icd10", "prior_code", "terms", "source")
GUIDELINE_COLUMNS = ("concept", "product", "line", "note", "citation", "setting")
# first/alternative: offered; avoid: not for this presentation (held back, with the reason);
# none: no drug treats it (the note is the advice, the product column is "-");
# secondary-first/secondary-alternative: secondary prevention, offered as first/alternative
# only where a vascular history is known, held back otherwise (aspirin to prevent a first MI).
GUIDELINE_LINES = ("first", "alternative", "avoid", "none", "secondary-first",
                   "secondary-alternative")

_LICENCES = {
    "train": ("NHANES 2013-2014 prescriptions (CDC/NCHS), training split", "public domain"),
    "indications": ("DrugCentral 2016 drug_indication.tsv (Ursu O. et al., Nucleic Acids Res "
                    "2017) and LabeledIn (Khare R. et al., J Biomed Inform 2014)",
                    "CC BY 4.0 (DrugCentral, attribution above); public domain / CC0 (LabeledIn)"),
    "concepts": ("rxassist curated diagnosis concepts (ICD-10-CM 2024 codes, CDC/NCHS)",
                 "Apache-2.0 (rxassist); ICD-10-CM is public domain"),
    "guidelines": ("rxassist curated first-line table, one citation per row",
                   "Apache-2.0 (rxassist); facts from the cited guidelines"),
}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rel(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return path.name


def _concepts(path: Path, codes: dict, categories: dict) -> list[dict]:
    out = []
    for row in src.read_tsv(path, CONCEPT_COLUMNS):
        icd = [c for c in (src.normalise_code(x) for x in row["icd10"].split(",") if x) if c]
        prior = src.normalise_code(row["prior_code"]) if row["prior_code"] else None
        if prior and prior not in codes and src.category(prior) not in categories:
            raise ConfigError(f"{path}: concept {row['concept']!r}: prior_code {prior} has no "
                              "training records; leave it empty")
        terms = sorted({" ".join(t.lower().split()) for t in row["terms"].split("|") if t.strip()})
        if not terms:
            raise ConfigError(f"{path}: concept {row['concept']!r} has no terms")
        out.append({"name": row["concept"], "icd10": icd, "prior_code": prior,
                    "terms": terms, "source": row["source"]})
    names = [c["name"] for c in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"{path}: duplicate concept names")
    return sorted(out, key=lambda c: c["name"])


def _guidelines(path: Path, concept_names: set[str], products: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for row in src.read_tsv(path, GUIDELINE_COLUMNS):
        if row["concept"] not in concept_names:
            raise ConfigError(f"{path}: unknown concept {row['concept']!r}")
        if row["line"] not in GUIDELINE_LINES:
            raise ConfigError(f"{path}: line must be one of {'|'.join(GUIDELINE_LINES)}, got "
                              f"{row['line']!r}")
        if row["setting"] not in SETTINGS:
            raise ConfigError(f"{path}: setting must be one of {'|'.join(SETTINGS)}, got "
                              f"{row['setting']!r}")
        if not row["citation"]:
            raise ConfigError(f"{path}: {row['product']!r} for {row['concept']!r} has no citation")
        if row["line"] == "none":
            if not row["note"]:
                raise ConfigError(f"{path}: a 'none' row for {row['concept']!r} needs advice")
            out.setdefault(row["concept"], []).append(
                {"product": "-", "line": "none", "note": row["note"],
                 "citation": row["citation"], "setting": row["setting"]})
            continue
        prod = src.product_of(row["product"])
        if prod is None:
            raise ConfigError(f"{path}: guardrails cannot read {row['product']!r}")
        products.setdefault(prod.key, prod)
        out.setdefault(row["concept"], []).append(
            {"product": prod.key, "line": row["line"], "note": row["note"],
             "citation": row["citation"], "setting": row["setting"]})
    for rows in out.values():
        rows.sort(key=lambda r: (GUIDELINE_LINES.index(r["line"]), r["product"], r["setting"]))
    return dict(sorted(out.items()))


def build_index(train: Path = TRAIN_FILE, indications: Path = INDICATIONS_FILE,
                concepts: Path = CONCEPTS_FILE, guidelines: Path = GUIDELINES_FILE) -> dict:
    for p in (train, indications, concepts, guidelines):
        if not p.exists():
            raise ConfigError(f"input not found: {p}")
    priors = src.read_priors(train)
    dropped: Counter = Counter()
    ind_rows, ind_products = src.read_indications(indications, dropped)

    products = dict(priors.products)
    for k, v in ind_products.items():
        products.setdefault(k, v)

    codes = {c: {"text": priors.code_text[c], "n": len(priors.code_patients[c]),
                 "counts": {k: len(v) for k, v in sorted(priors.code_counts[c].items())}}
             for c in sorted(priors.code_patients)}
    categories = {c: {"n": len(priors.cat_patients[c]),
                      "counts": {k: len(v) for k, v in sorted(priors.cat_counts[c].items())}}
                  for c in sorted(priors.cat_patients)}
    by_indication: dict[str, dict[str, list[str]]] = {}
    for r in ind_rows:
        by_indication.setdefault(r.indication, {}).setdefault(r.source, []).append(r.ingredient)
    concept_list = _concepts(concepts, codes, categories)
    guideline_map = _guidelines(guidelines, {c["name"] for c in concept_list}, products)

    files = {"train": train, "indications": indications, "concepts": concepts,
             "guidelines": guidelines}
    return {
        "format": INDEX_FORMAT,
        "version": INDEX_VERSION,
        "sources": {k: {"file": _rel(p), "sha256": _sha256(p), "what": _LICENCES[k][0],
                        "licence": _LICENCES[k][1]} for k, p in files.items()},
        "stats": {"train_cases_with_code": priors.n_cases, "codes": len(codes),
                  "categories": len(categories), "indications": len(by_indication),
                  "indication_rows": len(ind_rows), "concepts": len(concept_list),
                  "guideline_rows": sum(len(v) for v in guideline_map.values()),
                  "products": len(products),
                  "unreadable_drug_names_skipped": sum(priors.unreadable.values()),
                  "dropped_indication_rows": sum(dropped.values())},
        "dropped_indications": _dropped_report(dropped),
        "products": {k: {"name": p.name, "ingredients": list(p.ingredients)}
                     for k, p in sorted(products.items())},
        "popularity": dict(sorted(priors.popularity.items())),
        "codes": codes,
        "categories": categories,
        "indications": dict(sorted(by_indication.items())),
        "concepts": concept_list,
        "guidelines": guideline_map,
    }


def _dropped_report(dropped: Counter) -> dict:
    """Every indication row that was not taken as evidence of treatment, by reason kind:
    {kind: {"rows": n, "reason": {reason: n}, "examples": ["Hypotension <- captopril
    (labeledin)", ...]}} (every row listed, sorted)."""
    out: dict[str, dict] = {}
    for (source, why, what), n in sorted(dropped.items()):
        kind = why.split(":")[0]
        k = out.setdefault(kind, {"rows": 0, "reasons": {}, "rows_dropped": []})
        k["rows"] += n
        k["reasons"][why] = k["reasons"].get(why, 0) + n
        k["rows_dropped"].append(f"{what} ({source})")
    return out


def index_bytes(index: dict) -> bytes:
    raw = json.dumps(index, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(raw.encode("utf-8"), compresslevel=9, mtime=0)


def write_index(index: dict, out: Path = INDEX_PATH) -> int:
    data = index_bytes(index)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(out)
    return len(data)
