"""Name -> active ingredients, on real names (the shipped knowledge base)."""

import pytest

from guardrails import NormalizedDrug, ingredients_of, normalize
from rxassist.errors import InvalidInput


@pytest.mark.parametrize("name,expected", [
    ("lisinopril", ["lisinopril"]), ("LEVOTHYROXINE", ["levothyroxine"]),
    ("insulin glargine", ["insulin glargine"]), ("ethinyl estradiol", ["ethinyl estradiol"]),
])
def test_generic(name, expected):
    d = normalize(name)
    assert (d.status, d.ingredients, d.score) == ("generic", expected, 100.0)


@pytest.mark.parametrize("name,expected", [
    ("Tylenol", ["acetaminophen"]), ("Lipitor", ["atorvastatin"]), ("Zyrtec", ["cetirizine"]),
    ("Klonopin", ["clonazepam"]), ("Depakote", ["valproic acid"]), ("Nexium", ["esomeprazole"]),
])
def test_brand(name, expected):
    d = normalize(name)
    assert (d.status, d.ingredients, d.name) == ("brand", expected, expected[0])


@pytest.mark.parametrize("name,expected", [
    ("atorvastatin calcium trihydrate", "atorvastatin"), ("metoprolol succinate", "metoprolol"),
    ("metoprolol tartrate", "metoprolol"), ("citalopram hydrobromide", "citalopram"),
    ("doxycycline hyclate", "doxycycline"), ("olmesartan medoxomil", "olmesartan"),
    ("divalproex sodium", "valproic acid"), ("hydroxyzine pamoate", "hydroxyzine"),
    ("cefalexin", "cephalexin"), ("lithium carbonate", "lithium"),
])
def test_salts_esters_hydrates_reduce_to_the_moiety(name, expected):
    assert ingredients_of(name) == [expected]


@pytest.mark.parametrize("name", ["potassium chloride", "sodium chloride"])
def test_a_salt_of_two_counter_ions_stays_whole(name):
    assert ingredients_of(name) == [name]


@pytest.mark.parametrize("name,expected", [
    ("Percocet", ["acetaminophen", "oxycodone"]), ("Augmentin", ["amoxicillin", "clavulanate"]),
    ("acetaminophen; hydrocodone", ["acetaminophen", "hydrocodone"]),
    ("Albuterol Sulfate-Ipratropium", ["albuterol", "ipratropium"]),
    ("lisinopril and hydrochlorothiazide", ["hydrochlorothiazide", "lisinopril"]),
    ("Acetaminophen 325 MG / Oxycodone Hydrochloride 10 MG Oral Tablet [Percocet]",
     ["acetaminophen", "oxycodone"]),
])
def test_combinations_give_every_ingredient(name, expected):
    d = normalize(name)
    assert d.ingredients == expected
    assert d.name == "; ".join(expected)


def test_combination_with_an_unknown_part_is_unknown_not_half_guessed():
    d = normalize("lisinopril / blorfazine")
    assert (d.status, d.ingredients) == ("unknown", [])
    assert "blorfazine" in d.note


@pytest.mark.parametrize("name,expected", [
    ("paracetamol", "acetaminophen"), ("salbutamol", "albuterol"), ("pethidine", "meperidine"),
    ("glibenclamide", "glyburide"), ("rifampicin", "rifampin"), ("adrenaline", "epinephrine"),
])
def test_international_names_map_to_us_generic(name, expected):
    assert ingredients_of(name) == [expected]


@pytest.mark.parametrize("name,expected", [
    ("prednisone 20 mg tablet", "prednisone"), ("Morphine Sulfate (Syringe)", "morphine"),
    ("lisinopril 10 MG Oral Tablet", "lisinopril"), ("ibuprofen 800 mg PO BID", "ibuprofen"),
    ("NDA020503 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", "albuterol"),
    ("Camila 28 Day Pack", "norethindrone"), ("FLUTICASONE NASAL", "fluticasone"),
])
def test_dose_and_form_text_is_ignored(name, expected):
    d = normalize(name)
    assert d.ingredients == [expected] and d.score == 100.0


@pytest.mark.parametrize("name,expected", [
    ("amoxicilin", "amoxicillin"), ("metformn", "metformin"), ("lisinoprill", "lisinopril"),
    ("omeprazol", "omeprazole"), ("warfarine", "warfarin"),
])
def test_misspellings_are_fuzzy_with_their_score(name, expected):
    d = normalize(name)
    assert (d.status, d.ingredients) == ("fuzzy", [expected])
    assert 85.0 <= d.score < 100.0


def test_contract_fuzzy_score():
    assert normalize("amoxicilin").score == 95.2


@pytest.mark.parametrize("name", ["xyzzyplex", "hypertension", "diabetes", "headache",
                                  "vitamin Z", "", "   ", "Q12H", "Zyntac"])
def test_unknown_stays_unknown(name):
    d = normalize(name)
    assert d == NormalizedDrug(d.input, "unknown", None, [], d.score, d.candidates, d.note)
    assert d.status == "unknown" and d.name is None and d.ingredients == []
    assert ingredients_of(name) == []


def test_unknown_near_miss_lists_candidates_but_does_not_use_them():
    d = normalize("hydrolazine")
    assert d.status == "unknown" and d.ingredients == []
    assert any("hydralazine" in c for c in d.candidates)


def test_non_string_is_invalid_input():
    with pytest.raises(InvalidInput):
        normalize(42)  # type: ignore[arg-type]


def test_results_are_not_shared_between_callers():
    normalize("Percocet").ingredients.append("oops")
    assert normalize("Percocet").ingredients == ["acetaminophen", "oxycodone"]
