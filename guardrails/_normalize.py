"""Drug name -> active ingredients: exact, brand and synonym lookups, then a guarded fuzzy match.

Order (first hit wins):
  1. the whole name, then the name without dose/form text, as a knowledge-base key;
  2. a combination ("acetaminophen; hydrocodone", "Albuterol Sulfate-Ipratropium"): every part
     must resolve, else the whole stays unknown (a combination is never half-guessed);
  3. a brand in brackets ("... Oral Tablet [Tylenol]");
  4. fuzzy (rapidfuzz ratio) over the knowledge base's names, accepted only when the best match
     is clearly ahead of every other ingredient and of any look-alike twin (rules.json "fuzzy").
Anything else is unknown: name None, ingredients [], never a guess.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache

from guardrails import _kb, _rules, _text
from guardrails._types import NormalizedDrug
from rxassist.errors import InvalidInput

LOOKALIKES_PATH = _kb.DATA_DIR / "lookalikes.json"


def _name_of(ingredients: tuple[str, ...]) -> str:
    return "; ".join(ingredients)


@lru_cache(maxsize=1)
def lookalike_twins() -> dict[str, frozenset[str]]:
    """name key -> keys of its look-alike twins (different ingredients), from lookalikes.json."""
    kb = _kb.load()
    groups = json.loads(LOOKALIKES_PATH.read_text(encoding="utf-8"))["groups"]
    twins: dict[str, set[str]] = {}
    for g in groups:
        keys = [_text.key(n) for n in g["names"]]
        for a in keys:
            ea = kb.lookup(a)
            for b in keys:
                eb = kb.lookup(b)
                if a != b and not (ea and eb and ea.ingredients == eb.ingredients):
                    twins.setdefault(a, set()).add(b)
    return {k: frozenset(v) for k, v in twins.items()}


def _exact(kb: _kb.KnowledgeBase, k: str, raw: str, score: float = 100.0) -> NormalizedDrug | None:
    e = kb.lookup(k)
    if e is None:
        return None
    return NormalizedDrug(raw, "brand" if e.brand else "generic", _name_of(e.ingredients),
                          list(e.ingredients), score)


def _unknown(raw: str, candidates: list[str] | None = None, note: str | None = None,
             score: float = 0.0) -> NormalizedDrug:
    return NormalizedDrug(raw, "unknown", None, [], round(score, 1), candidates or [], note)


@dataclass(frozen=True)
class FuzzyEvidence:
    """What the fuzzy matcher saw for one name; `decide` turns it into a result."""
    query: str
    best_key: str | None
    best: float
    other: float         # best score of a name with different ingredients
    twin: float          # best score of a look-alike twin of the best match
    twins: tuple[str, ...]
    ingredients: tuple[str, ...]
    candidates: tuple[str, ...]
    brand: bool = False  # the best match is a brand name (arbitrary coinages need more)
    edits: int = 99        # edit distance (OSA) to the best match
    other_edits: int = 99  # ... to the nearest name of a different drug
    twin_edits: int = 99   # ... to the nearest look-alike twin


_PHONETIC = [("ph", "f"), ("th", "t"), ("y", "i"), ("ck", "k"), ("ae", "e"), ("oe", "e")]


def phonetic(k: str) -> str:
    """Spelling-by-ear key: "morfine" and "morphine" meet; doubled letters count once."""
    import re
    for a, b in _PHONETIC:
        k = k.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", k)


def fuzzy_evidence(k: str) -> FuzzyEvidence:
    from rapidfuzz import fuzz, process  # imported here: exact lookups never pay for it
    from rapidfuzz.distance import OSA

    kb = _kb.load()
    hits = process.extract(k, kb.fuzzy_keys, scorer=fuzz.ratio, limit=12, score_cutoff=60)
    if not hits:
        return FuzzyEvidence(k, None, 0.0, 0.0, 0.0, (), (), ())
    best_key, best, _ = hits[0]
    best_e = kb.lookup(best_key)
    other = max((s for key_, s, _ in hits[1:] if kb.lookup(key_).ingredients != best_e.ingredients),
                default=0.0)
    cands: list[str] = []
    for key_, s, _ in hits:
        n = _name_of(kb.lookup(key_).ingredients)
        label = key_ if key_ == n else f"{key_} ({n})"
        if label not in cands and len(cands) < 3 and s >= best - 15:
            cands.append(label)
    twins: frozenset[str] = frozenset()
    for name_key in (best_key, *best_e.ingredients):
        twins = twins | lookalike_twins().get(name_key, frozenset())
    twin = max((fuzz.ratio(k, t) for t in twins), default=0.0)
    edits = OSA.distance(k, best_key)
    other_edits = min((OSA.distance(k, key_) for key_, _, _ in hits[1:]
                       if kb.lookup(key_).ingredients != best_e.ingredients), default=99)
    twin_edits = min((OSA.distance(k, t) for t in twins), default=99)
    # Spelled by ear ("morfine"): the phonetic twin of exactly one drug's name among the close
    # names counts as one edit (searched among the hits: a global index costs 50 ms to build).
    pk = phonetic(k)
    same_sound = {key_ for key_, _, _ in hits if phonetic(key_) == pk}
    sound_ings = {kb.lookup(s).ingredients for s in same_sound}
    if len(sound_ings) == 1 and edits > 1:
        sk = min(same_sound)
        best_key, best_e, edits = sk, kb.lookup(sk), 1
        best = max(best, fuzz.ratio(k, sk))
    return FuzzyEvidence(k, best_key, best, other, twin, tuple(sorted(twins)),
                         best_e.ingredients, tuple(cands), best_e.brand, edits, other_edits,
                         twin_edits)


def decide(ev: FuzzyEvidence, raw: str, cfg) -> NormalizedDrug:
    """Accept a fuzzy match only when it is near a known spelling and clearly nearer than any
    other drug (rules.json "fuzzy"); the caller flags every such reading as a name_guess."""
    if ev.best_key is None:
        return _unknown(raw, note="not in the knowledge base")
    cands = list(ev.candidates)
    max_edits = cfg.max_edits_brand if ev.brand else cfg.max_edits
    if ev.edits > 1 and len(ev.best_key) < cfg.min_length_two_edits:
        max_edits = min(max_edits, 1)
    if ev.edits > max_edits:
        return _unknown(raw, cands, f"not near a known spelling ({ev.edits} edits from "
                        f"{ev.best_key})", ev.best)
    min_score = cfg.min_score_brand if ev.brand else cfg.min_score
    # One edit from a generic name is near enough whatever the ratio of a short name says;
    # brand coinages keep their calibrated minimum (they collide with foreign brands).
    long_enough = len(ev.best_key) >= cfg.min_length_edit_rules
    if ev.best < min_score and (ev.brand or ev.edits > 1 or not long_enough):
        return _unknown(raw, cands, f"no confident match (best {ev.best:.1f} < {min_score})",
                        ev.best)
    margin_ok = ev.best - ev.other >= (cfg.min_margin_brand if ev.brand else cfg.min_margin)
    # The edit lead stands in for the ratio margin only where no look-alike twin is known.
    if not margin_ok and (ev.twins or not long_enough
                          or ev.other_edits < ev.edits + cfg.edit_lead):
        return _unknown(raw, cands, f"ambiguous: another drug scores {ev.other:.1f} vs "
                        f"{ev.best:.1f}", ev.best)
    if ev.twins and ev.best - ev.twin < cfg.lookalike_margin:
        return _unknown(raw, cands, f"look-alike names ({ev.best_key} / {', '.join(ev.twins)}): "
                        f"too close to call ({ev.best:.1f} vs {ev.twin:.1f})", ev.best)
    return NormalizedDrug(raw, "fuzzy", _name_of(ev.ingredients), list(ev.ingredients),
                          round(ev.best, 1), matched=ev.best_key)


def _fuzzy(kb: _kb.KnowledgeBase, k: str, raw: str) -> NormalizedDrug:
    cfg = _rules.load().fuzzy
    if len(k.replace(" ", "")) < cfg.min_length:
        return _unknown(raw, note="not in the knowledge base (too short to match approximately)")
    return decide(fuzzy_evidence(k), raw, cfg)


def _combination(kb: _kb.KnowledgeBase, parts: list[str], raw: str) -> NormalizedDrug | None:
    resolved = [_resolve_single(kb, p, p) for p in parts]
    if any(not r.known for r in resolved):
        bad = [p for p, r in zip(parts, resolved) if not r.known]
        return _unknown(raw, note=f"combination with unknown part(s): {', '.join(bad)}")
    ingredients = tuple(sorted({i for r in resolved for i in r.ingredients}))
    statuses = {r.status for r in resolved}
    status = "fuzzy" if "fuzzy" in statuses else ("brand" if "brand" in statuses else "generic")
    return NormalizedDrug(raw, status, _name_of(ingredients), list(ingredients),
                          round(min(r.score for r in resolved), 1))


def _resolve_single(kb: _kb.KnowledgeBase, text: str, raw: str) -> NormalizedDrug:
    k = _text.key(text)
    hit = _exact(kb, k, raw) or _exact(kb, _text.key(_text.strip_dose_form(text)), raw)
    if hit:
        return hit
    if k in kb.ambiguous:
        return _unknown(raw, kb.ambiguous[k], "this name means several substances")
    return _fuzzy(kb, _text.key(_text.strip_dose_form(text)) or k, raw)


def normalize(name: str) -> NormalizedDrug:
    """Any drug name as written -> its active ingredients (see module docstring)."""
    if not isinstance(name, str):
        raise InvalidInput(f"a drug name must be a string, got {type(name).__name__}")
    d = _normalize_cached(name)
    # Results are cached: hand out fresh lists so a caller's edit cannot change the cache.
    return replace(d, ingredients=list(d.ingredients), candidates=list(d.candidates))


@lru_cache(maxsize=4096)
def _normalize_cached(name: str) -> NormalizedDrug:
    kb = _kb.load()
    raw = name
    k = _text.key(name)
    if not k:
        return _unknown(raw, note="empty name")
    stripped = _text.strip_dose_form(name)
    sk = _text.key(stripped)
    hit = _exact(kb, k, raw) or _exact(kb, sk, raw)
    if hit:
        return hit
    if k in kb.ambiguous or sk in kb.ambiguous:
        return _unknown(raw, kb.ambiguous.get(k) or kb.ambiguous[sk],
                        "this name means several substances")
    parts = [p for p in _text.COMBO_SPLIT_RE.split(stripped) if _text.key(p)]
    if len(parts) > 1:
        combo = _combination(kb, parts, raw)
        if combo.known:
            return combo
        return _bracket_brand(kb, name, raw) or combo
    if "-" in stripped:
        hparts = [p for p in _text.HYPHEN_SPLIT_RE.split(stripped) if _text.key(p)]
        if len(hparts) > 1 and all(_exact(kb, _text.key(p), p) for p in hparts):
            return _combination(kb, hparts, raw)
    return _bracket_brand(kb, name, raw) or _fuzzy(kb, sk or k, raw)


def _bracket_brand(kb: _kb.KnowledgeBase, name: str, raw: str) -> NormalizedDrug | None:
    for b in _text.bracket_contents(name):
        hit = _exact(kb, _text.key(b), raw)
        if hit:
            return hit
    return None


def ingredients_of(name: str) -> list[str]:
    return list(normalize(name).ingredients)
