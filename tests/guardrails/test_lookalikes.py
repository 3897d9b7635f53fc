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
    # Same ingredient under two names (Klonopin/clonazepam) is not a look-alike confusion.
    if key(a) in {key(i) for i in db.ingredients} or key(b) in {key(i) for i in da.ingredients}:
        pytest.skip("brand and generic of one drug")
    assert da.ingredients != db.ingredients


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
