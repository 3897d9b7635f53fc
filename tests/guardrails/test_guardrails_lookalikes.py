"""Look-alike/sound-alike names are never merged (guardrails/data/lookalikes.json)."""

import csv
import json
from pathlib import Path

import pytest

from guardrails import normalize
from guardrails._text import key

DATA = Path(__file__).resolve().parents[2] / "guardrails" / "data"
GROUPS = json.loads((DATA / "lookalikes.json").read_text())["groups"]
PAIRS = sorted({(a, b) for g in GROUPS for a in g["names"] for b in g["names"] if a != b})


def test_every_tallman_name_is_in_a_group():
    with open(DATA / "sources" / "fda_tallman_2026_06.csv", newline="") as fh:
        tallman = {key(r["form"]) for r in csv.DictReader(fh)}
    grouped = {key(n) for g in GROUPS for n in g["names"]}
    assert len(tallman) >= 40 and tallman <= grouped


def test_every_group_names_its_source():
    sources = json.loads((DATA / "lookalikes.json").read_text())["sources"]
    assert all(g["source"] in sources for g in GROUPS)


@pytest.mark.parametrize("name", sorted({n for g in GROUPS for n in g["names"]}))
def test_each_name_resolves_exactly_to_itself(name):
    d = normalize(name)
    assert d.status in ("generic", "brand") and d.score == 100.0, d


@pytest.mark.parametrize("a,b", PAIRS)
def test_pair_is_never_merged(a, b):
    da, db = normalize(a), normalize(b)
    # A group may hold a brand with its own generic (Klonopin, clonazepam): those must agree;
    # every other pair must differ.
    same_drug = key(a) in {key(i) for i in db.ingredients} or \
        key(b) in {key(i) for i in da.ingredients}
    assert (da.ingredients == db.ingredients) == same_drug, (da, db)


@pytest.mark.parametrize("name", ["hydrOXYzine", "hydrALAZINE", "traZODone", "traMADol",
                                  "predniSONE", "prednisoLONE", "glipiZIDE", "glyBURIDE"])
def test_tall_man_spelling_resolves(name):
    assert normalize(name).ingredients == [name.lower()]


@pytest.mark.parametrize("typo", ["hydrolazine", "hydroxalazine", "Celebrexa", "tramadone",
                                  "trazadol", "Lamictil", "Lamisal", "prednisolne",
                                  "vinclastine", "predisolone"])
def test_misspelling_between_lookalikes_is_unknown(typo):
    d = normalize(typo)
    assert d.status == "unknown" and d.ingredients == [], d


def _edit_path(a: str, b: str) -> list[str]:
    from rapidfuzz.distance import Levenshtein

    ops = Levenshtein.editops(a, b)
    return [ops[:k].apply(a, b) for k in range(1, len(ops))]


@pytest.mark.parametrize("a,b", [(a, b) for a, b in PAIRS if a < b])
def test_every_spelling_between_twins_is_unknown_or_the_nearer_twin(a, b):
    """Walk the edit path from one twin to the other: a string never resolves to a third
    drug, never to the farther twin, and a midpoint (equally far from both) stays unknown."""
    from rapidfuzz.distance import Levenshtein

    ia, ib = normalize(a).ingredients, normalize(b).ingredients
    for s in _edit_path(a.lower(), b.lower()):
        d = normalize(s)
        da, db = Levenshtein.distance(s, a.lower()), Levenshtein.distance(s, b.lower())
        if not d.known:
            continue
        assert d.ingredients in (ia, ib), (s, d)
        if ia == ib:  # brand and generic of one drug: only a third drug would be wrong
            continue
        assert da != db, (s, d)
        assert d.ingredients == (ia if da < db else ib), (s, d)
