"""Calibrate the fuzzy-match thresholds (rules.json "fuzzy") on generated misspellings.

    rxassist guardrails calibrate [--n 1500] [--seed 0]

Positives: one random edit (deletion, insertion, substitution, transposition) of names of
clinical ingredients and their brands; the right answer is the original's ingredients.
Negatives: words of diagnosis descriptions (NHANES, Synthea) that are not drug names: any
accepted match is a false positive. For each (min_score, min_margin) the report gives how many
misspellings are recovered, how many are resolved to a WRONG drug, and how many non-drugs are
accepted; see `run` for how the setting is chosen.
"""

from __future__ import annotations

import random
import string

from guardrails import _kb, _normalize, _rules, _text

SCORES = [80.0, 82.0, 84.0, 85.0, 86.0, 87.0, 88.0, 89.0, 90.0, 91.0, 92.0, 94.0]
MARGINS = [0.0, 2.0, 4.0, 6.0, 8.0]


def _typo(word: str, rng: random.Random) -> str:
    i = rng.randrange(len(word))
    op = rng.choice("dist")
    letters = string.ascii_lowercase
    if op == "d":
        return word[:i] + word[i + 1:]
    if op == "i":
        return word[:i] + rng.choice(letters) + word[i:]
    if op == "s":
        return word[:i] + rng.choice(letters.replace(word[i], "")) + word[i + 1:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def samples(n: int, seed: int) -> tuple[list[tuple[str, tuple[str, ...]]], list[str]]:
    kb = _kb.load()
    rng = random.Random(seed)
    pool = [k for k in kb.fuzzy_keys if " " not in k and len(k) >= 5]
    pool.sort()
    rng.shuffle(pool)
    pos = []
    for name in pool:
        t = _typo(name, rng)
        if t == name or kb.lookup(t) is not None:
            continue
        pos.append((t, kb.lookup(name).ingredients))
        if len(pos) >= n:
            break
    words = (_kb.DATA_DIR / "sources" / "diagnosis_words.txt").read_text().split()
    neg = [w for w in words if kb.lookup(_text.key(w)) is None]
    return pos, neg


def _sweep(ev_pos, ev_neg, cfg, brand: bool) -> list[dict]:
    """Generic and brand thresholds act on disjoint queries (by the type of the best match),
    so each is swept on its own."""
    pos = [(ev, t) for ev, t in ev_pos if ev.brand == brand]
    neg = [ev for ev in ev_neg if ev.brand == brand]
    rows = []
    for s in SCORES:
        for m in MARGINS:
            c = cfg.model_copy(update={"min_score": s, "min_margin": m,
                                       "min_score_brand": s, "min_margin_brand": m})
            right = wrong = 0
            for ev, truth in pos:
                r = _normalize.decide(ev, ev.query, c)
                if r.known:
                    right += tuple(r.ingredients) == truth
                    wrong += tuple(r.ingredients) != truth
            fp = sum(_normalize.decide(ev, ev.query, c).known for ev in neg)
            rows.append({"min_score": s, "min_margin": m, "n": len(pos), "right": right,
                         "wrong": wrong, "negatives_accepted": fp})
    return rows


def run(n: int = 1500, seed: int = 0, log=print) -> dict:
    """Sweep thresholds; choose, per name type, the most permissive setting with at most 0.2%
    of misspellings resolved to a wrong drug and at most 0.25% of non-drug words accepted."""
    cfg = _rules.load().fuzzy
    pos, neg = samples(n, seed)
    ev_pos = [(_normalize.fuzzy_evidence(t), truth) for t, truth in pos]
    ev_neg = [_normalize.fuzzy_evidence(_text.key(w)) for w in neg]
    log(f"positives {len(pos)} misspellings (one edit each), negatives {len(neg)} diagnosis "
        f"words; rules.json now: generic {cfg.min_score}/{cfg.min_margin}, "
        f"brand {cfg.min_score_brand}/{cfg.min_margin_brand} (min_score/min_margin)")
    out = {"n_pos": len(pos), "n_neg": len(neg)}
    for brand in (False, True):
        rows = _sweep(ev_pos, ev_neg, cfg, brand)
        ok = [r for r in rows if r["wrong"] <= 0.002 * max(1, r["n"])
              and r["negatives_accepted"] <= 0.0025 * len(neg)]
        best = max(ok, key=lambda r: (r["right"], -r["min_score"], -r["min_margin"]),
                   default=None)
        label = "brand" if brand else "generic"
        log(f"-- best match is a {label} name ({rows[0]['n']} misspellings)")
        log(f"{'score':>6} {'margin':>6} {'recovered':>9} {'wrong':>6} {'non-drug':>8}")
        for r in rows:
            mark = " <- chosen" if r is best else ""
            log(f"{r['min_score']:6.1f} {r['min_margin']:6.1f} {r['right'] / max(1, r['n']):9.3f} "
                f"{r['wrong']:6d} {r['negatives_accepted']:8d}{mark}")
        out[label] = {"rows": rows, "chosen": best}
    return out
