"""Flags on drug lists for a patient (docs/formats.md#guardrails-check), on real names."""

import pytest

from guardrails import check
from rxassist.cases import Patient
from rxassist.errors import InvalidInput

CONTRACT_INPUT = {"drugs": ["Tylenol", "Percocet", "amoxicilin"],
                  "patient": {"age": 30, "sex": "female", "pregnant": True,
                              "allergies": ["penicillin"]}}


def flags(result, kind=None):
    return [f for f in result.flags if kind is None or f.kind == kind]


def test_contract_example_pinned():
    out = check(CONTRACT_INPUT["drugs"], CONTRACT_INPUT["patient"]).to_dict()
    assert set(out) == {"drugs", "flags"}
    tyl, perc, amox = out["drugs"]
    assert tyl == {"input": "Tylenol", "status": "brand", "name": "acetaminophen",
                   "ingredients": ["acetaminophen"], "score": 100.0}
    assert amox == {"input": "amoxicilin", "status": "fuzzy", "name": "amoxicillin",
                    "ingredients": ["amoxicillin"], "score": 95.2}
    assert perc["ingredients"] == ["acetaminophen", "oxycodone"]
    by_kind = {f["kind"]: f for f in out["flags"]}
    dup = by_kind["duplicate_ingredient"]
    assert (dup["severity"], dup["ingredient"], dup["drugs"]) == (
        "warning", "acetaminophen", ["Tylenol", "Percocet"])
    al = by_kind["allergy"]
    assert (al["severity"], al["ingredient"], al["drugs"]) == (
        "critical", "amoxicillin", ["amoxicilin"])
    for f in out["flags"]:
        assert set(f) >= {"kind", "severity", "ingredient", "drugs", "message", "basis"}
        assert f["message"] and f["basis"]


@pytest.mark.parametrize("drugs,ingredient", [
    (["metoprolol succinate", "Lopressor"], "metoprolol"),
    (["Zestoretic", "lisinopril"], "lisinopril"),
    (["paracetamol", "Tylenol"], "acetaminophen"),
    (["Norco", "Tylenol PM"], "acetaminophen"),
    (["lisinopril", "lisinopril 10 mg"], "lisinopril"),
])
def test_duplicate_across_brands_salts_and_combinations(drugs, ingredient):
    dups = flags(check(drugs), "duplicate_ingredient")
    assert [(f.ingredient, f.drugs) for f in dups] == [(ingredient, drugs)]


def test_duplicate_of_a_current_medication_is_flagged_but_not_listed_as_checked():
    r = check(["Lipitor", "amlodipine"], {"current_medications": ["atorvastatin 20 mg"]})
    assert [d.input for d in r.drugs] == ["Lipitor", "amlodipine"]
    (dup,) = flags(r, "duplicate_ingredient")
    assert dup.ingredient == "atorvastatin" and dup.drugs == ["Lipitor", "atorvastatin 20 mg"]
    assert "current medication" in dup.message


def test_duplicates_only_among_current_medications_are_not_flagged():
    r = check(["amlodipine"], {"current_medications": ["Tylenol", "Percocet"]})
    assert flags(r, "duplicate_ingredient") == []


def test_lookalikes_are_not_duplicates():
    assert flags(check(["hydroxyzine", "hydralazine", "Celebrex", "Celexa"]),
                 "duplicate_ingredient") == []


@pytest.mark.parametrize("drug,allergy,severity,ingredient", [
    ("amoxicillin", "penicillin", "critical", "amoxicillin"),
    ("Augmentin", "PCN", "critical", "amoxicillin"),
    ("cephalexin", "penicillin", "warning", "cephalexin"),
    ("Keflex", "amoxicillin", "warning", "cephalexin"),
    ("Bactrim", "sulfa", "critical", "sulfamethoxazole"),
    ("ibuprofen", "Allergy to Aspirin", "critical", "ibuprofen"),
    ("naproxen", "NSAIDs", "critical", "naproxen"),
    ("Tylenol with Codeine", "codeine", "critical", "codeine"),
    ("morphine", "codeine", "warning", "morphine"),
    ("oxycodone", "opioids", "critical", "oxycodone"),
    ("lisinopril", "Lisinopril", "critical", "lisinopril"),
])
def test_allergy(drug, allergy, severity, ingredient):
    (f,) = flags(check([drug], {"allergies": [allergy]}), "allergy")
    assert (f.severity, f.ingredient, f.drugs) == (severity, ingredient, [drug])
    assert allergy in f.message


@pytest.mark.parametrize("drug,allergy", [
    ("azithromycin", "penicillin"), ("acetaminophen", "aspirin"), ("furosemide", "sulfa"),
    ("amoxicillin", "Peanut (substance)"),
])
def test_no_allergy_flag_without_a_basis(drug, allergy):
    assert flags(check([drug], {"allergies": [allergy]}), "allergy") == []


def test_unresolvable_allergy_is_reported_as_unchecked():
    (f,) = flags(check(["amoxicillin"], {"allergies": ["Peanut (substance)"]}),
                 "unresolved_allergy")
    assert f.severity == "info" and "Peanut" in f.message


@pytest.mark.parametrize("drug,ingredient,severity", [
    ("warfarin", "warfarin", "critical"), ("lisinopril", "lisinopril", "critical"),
    ("valsartan", "valsartan", "critical"), ("Accutane", "isotretinoin", "critical"),
    ("methotrexate", "methotrexate", "critical"), ("Depakote", "valproic acid", "critical"),
    ("misoprostol", "misoprostol", "critical"), ("simvastatin", "simvastatin", "warning"),
    ("doxycycline", "doxycycline", "critical"), ("fluconazole", "fluconazole", "warning"),
])
def test_pregnancy_contraindication(drug, ingredient, severity):
    (f,) = flags(check([drug], {"age": 28, "sex": "female", "pregnant": True}),
                 "contraindication")
    assert (f.severity, f.ingredient) == (severity, ingredient) and f.basis


@pytest.mark.parametrize("patient", [
    {"age": 28, "sex": "female", "pregnant": False}, {"age": 60, "sex": "male"}, None])
def test_no_pregnancy_flag_when_not_pregnant(patient):
    assert flags(check(["lisinopril"], patient), "contraindication") == []


def test_unknown_pregnancy_status_gives_a_warning_for_established_fetal_risk():
    (f,) = flags(check(["warfarin"], {"age": 30, "sex": "female"}), "contraindication")
    assert f.severity == "warning" and "unknown" in f.message
    assert flags(check(["simvastatin"], {"age": 30, "sex": "female"}), "contraindication") == []


@pytest.mark.parametrize("drug,age,severity,ingredient", [
    ("aspirin", 10, "critical", "aspirin"), ("doxycycline", 6, "warning", "doxycycline"),
    ("ciprofloxacin", 10, "warning", "ciprofloxacin"), ("Tylenol #3", 9, "critical", "codeine"),
    ("tramadol", 11, "critical", "tramadol"), ("promethazine", 1, "critical", "promethazine"),
])
def test_age_contraindication(drug, age, severity, ingredient):
    (f,) = flags(check([drug], {"age": age}), "contraindication")
    assert (f.severity, f.ingredient) == (severity, ingredient)


@pytest.mark.parametrize("drug,age", [("aspirin", 45), ("doxycycline", 12),
                                      ("ciprofloxacin", 30), ("tramadol", 40)])
def test_no_age_flag_above_the_limit(drug, age):
    assert flags(check([drug], {"age": age}), "contraindication") == []


def test_unknown_drug_flag():
    r = check(["xyzzyplex", "lisinopril"])
    (f,) = flags(r, "unknown_drug")
    assert (f.severity, f.drugs, f.ingredient) == ("warning", ["xyzzyplex"], None)
    assert r.drugs[0].status == "unknown" and r.drugs[0].name is None


def test_patient_model_dict_and_none_agree():
    p = {"age": 30, "allergies": ["penicillin"], "current_medications": ["Tylenol"]}
    a = check(["amoxicillin", "Percocet"], p).to_dict()
    assert a == check(["amoxicillin", "Percocet"], Patient.model_validate(p)).to_dict()
    assert check(["amoxicillin"], None).flags == []


@pytest.mark.parametrize("drugs,patient", [
    ("Tylenol", None), ([1, 2], None), (["Tylenol"], {"age": "old"}), (["Tylenol"], [1])])
def test_bad_input_raises_invalid_input(drugs, patient):
    with pytest.raises(InvalidInput):
        check(drugs, patient)


def test_critical_flags_come_first():
    r = check(["Tylenol", "Percocet", "amoxicillin"], {"allergies": ["penicillin"]})
    assert [f.severity for f in r.flags] == ["critical", "warning"]
    assert r.critical[0].kind == "allergy"


def test_allergy_to_one_penicillin_covers_the_class():
    (f,) = flags(check(["amoxicillin"], {"allergies": ["Penicillin V"]}), "allergy")
    assert f.severity == "critical"


@pytest.mark.parametrize("text", ["NKDA", "No known drug allergies", "none"])
def test_no_known_allergies_is_not_an_unresolved_allergy(text):
    assert check(["amoxicillin"], {"allergies": [text]}).flags == []


@pytest.mark.parametrize("drugs,current", [
    (["lisinopril", "losartan"], None), (["Zocor"], ["atorvastatin"]),
    (["ibuprofen", "naproxen"], None), (["Hyzaar"], ["Zestril"]),
])
def test_duplicate_class(drugs, current):
    r = check(drugs, {"current_medications": current} if current else None)
    (f,) = flags(r, "duplicate_class")
    assert f.severity == "warning" and f.drugs == drugs + (current or []) and f.basis


@pytest.mark.parametrize("drugs", [["lisinopril", "amlodipine"], ["Tylenol", "Percocet"],
                                   ["amoxicillin", "azithromycin"]])
def test_no_duplicate_class_across_classes_or_for_one_ingredient(drugs):
    assert flags(check(drugs), "duplicate_class") == []
