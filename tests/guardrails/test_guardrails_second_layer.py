"""Second layer of check(): interactions, name_guess, doses and forms."""

import gzip
import json
from pathlib import Path

import pytest

from guardrails import check, normalize
from guardrails._dose import parse
from guardrails._interactions import load

DATA = Path(__file__).resolve().parents[2] / "guardrails" / "data"


def kinds(result, kind):
    return [f for f in result.flags if f.kind == kind]


@pytest.mark.parametrize("a,b", [("warfarin", "aspirin"), ("simvastatin", "clarithromycin"),
                                 ("sildenafil", "nitroglycerin"), ("Viagra", "Imdur")])
def test_the_three_issue_pairs_are_critical_with_source(a, b):
    (f,) = kinds(check([a, b]), "interaction")
    assert f.severity == "critical" and f.drugs == [a, b]
    assert "ANSM" in f.basis and "entry" in f.basis
    assert "Do not combine" in f.message


def test_current_medications_are_checked_but_not_against_each_other():
    r = check(["clarithromycin"], {"current_medications": ["simvastatin 20 mg", "warfarin"]})
    pairs = [f.drugs for f in kinds(r, "interaction")]
    assert ["clarithromycin", "simvastatin 20 mg"] in pairs
    assert ["simvastatin 20 mg", "warfarin"] not in pairs
    assert kinds(check(["amlodipine"], {"current_medications": ["warfarin", "aspirin"]}),
                 "interaction") == []


def test_low_dose_aspirin_takes_the_antiplatelet_level():
    assert kinds(check(["warfarin", "aspirin"]), "interaction")[0].severity == "critical"
    (f,) = kinds(check(["warfarin", "aspirin 81 mg daily"]), "interaction")
    assert f.severity == "warning"


def test_aspirin_without_a_dose_for_a_vascular_diagnosis_is_the_antiplatelet_dose():
    """21 CFR 343.80: 50-325 mg daily for vascular indications. ANSM grades aspirin with a
    glucocorticoid only at anti-inflammatory ("avoid") and analgesic doses, so after an MI the
    mildest level applies; for a headache the dose is unknown and the most severe one does."""
    on_prednisone = {"age": 70, "current_medications": ["prednisone", "ibuprofen"]}
    after_mi = check(["aspirin"], on_prednisone, {"text": "Old myocardial infarction",
                                                  "code": "I25.2"})
    assert not [f for f in kinds(after_mi, "interaction") if "combination to avoid" in f.message]
    assert not kinds(after_mi, "duplicate_class")        # not a second NSAID beside ibuprofen
    headache = check(["aspirin"], on_prednisone, {"text": "Tension-type headache",
                                                  "code": "G44.2"})
    assert [f for f in kinds(headache, "interaction") if "combination to avoid" in f.message]
    assert kinds(headache, "duplicate_class")


def test_aspirin_for_a_vascular_diagnosis_with_clopidogrel_takes_the_validated_level():
    """ANSM aspirin + clopidogrel: 'avoid' outside the validated coronary indications,
    'precaution for use' within them (dual antiplatelet therapy after an MI or a stent)."""
    on_clopidogrel = {"age": 70, "current_medications": ["clopidogrel"]}
    after_mi = kinds(check(["aspirin"], on_clopidogrel, {"text": "Old myocardial infarction",
                                                         "code": "I25.2"}), "interaction")
    assert after_mi and all("precaution for use" in f.message for f in after_mi)
    headache = kinds(check(["aspirin"], on_clopidogrel, {"text": "Tension-type headache",
                                                         "code": "G44.2"}), "interaction")
    assert any("combination to avoid" in f.message for f in headache)


def test_local_forms_do_not_interact_or_duplicate_unless_the_class_says_eye_drops():
    assert kinds(check(["ketoconazole cream", "simvastatin"]), "interaction") == []
    assert kinds(check(["timolol eye drops", "verapamil"]), "interaction")  # y compris collyres
    assert kinds(check(["timolol eye drops", "timolol 10 mg"]), "duplicate_ingredient") == []
    assert kinds(check(["timolol eye drops", "Timoptic eye drops"]), "duplicate_ingredient")


def test_table_keeps_source_and_severity_of_each_pair():
    t = load()
    assert {e.source for e in t.entries} == {"ansm", "drug-interaction-mcp"}
    assert all(lv.severity in ("critical", "warning", "info") for e in t.entries
               for lv in e.levels)
    raw = json.load(gzip.open(DATA / "interactions.json.gz"))
    assert raw["sources"]["ansm"]["thesaurus_entries"] == 3139
    assert raw["sources"]["ansm"]["rxnorm_disagreements"] == []


def test_name_guess_names_the_reading():
    (f,) = kinds(check(["Zentrovil"]), "name_guess")
    assert f.severity == "warning" and f.ingredient == "phenytoin"
    assert "zentropil" in f.message and "confirm" in f.message
    assert kinds(check(["phenytoin", "Dilantin"]), "name_guess") == []


@pytest.mark.parametrize("name,want", [("amlodapine", "amlodipine"), ("morfine", "morphine"),
                                       ("ibuprophen", "ibuprofen")])
def test_misspellings_near_one_drug_are_read(name, want):
    d = normalize(name)
    assert d.status == "fuzzy" and d.ingredients == [want]


@pytest.mark.parametrize("name", ["Vitamin Q12", "hydrolazine", "Neurapex", "trazadol"])
def test_names_not_near_one_known_spelling_stay_unknown(name):
    assert not normalize(name).known


@pytest.mark.parametrize("text,mg,per_day,route", [
    ("aspirin 81 mg", 81, None, "systemic"),
    ("Tylenol 500 mg tablets 2 q6h", 500, 4000, "systemic"),
    ("acetaminophen 1 g qid", 1000, 4000, "systemic"),
    ("acetaminophen 4 g/day", 4000, 4000, "systemic"),
    ("timolol eye drops", None, None, "ophthalmic"),
    ("diclofenac 1% gel", None, None, "topical"),
    ("ciprofloxacin otic", None, None, "otic"),
    ("Acetaminophen 325 MG / Oxycodone 5 MG Oral Tablet", None, None, "systemic"),
])
def test_dose_parse(text, mg, per_day, route):
    d = parse(text)
    assert (d.mg, d.mg_per_day, d.route) == (mg, per_day, route)


def test_dose_flags_cite_the_label():
    (f,) = kinds(check(["acetaminophen 10 g"]), "dose")
    assert f.severity == "critical" and "4,000 mg" in f.basis
    assert kinds(check(["methotrexate 2.5 mg daily"]), "dose")[0].ingredient == "methotrexate"
    assert kinds(check(["methotrexate 15 mg weekly", "colchicine 0.6 mg bid"]), "dose") == []


def test_new_flags_serialise_in_the_contract_shape():
    out = check(["warfarin", "Zentrovil", "acetaminophen 10 g"]).to_dict()
    assert {f["kind"] for f in out["flags"]} >= {"interaction", "name_guess", "dose"}
    for f in out["flags"]:
        assert set(f) == {"kind", "severity", "ingredient", "drugs", "message", "basis"}
    assert all(set(d) <= {"input", "status", "name", "ingredients", "score", "candidates",
                          "note"} for d in out["drugs"])
