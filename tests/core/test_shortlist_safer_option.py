"""A demoted candidate is not offered where a candidate without a caution stands as high in the
guideline; it stays visible as excluded with its caution (held-out clinician review)."""

from __future__ import annotations

import guardrails

from recommend.shortlist import shortlist
from rxassist.cases import Diagnosis, Patient


def _safer(sl) -> dict[str, str]:
    return {e.drug: e.reason for e in sl.excluded if e.reason.startswith("a safer option")}


def test_capped_statins_give_way_to_high_intensity_ones_in_arterial_disease():
    """2018 AHA/ACC: high-intensity statin with clinical ASCVD (clopidogrel implies it);
    simvastatin is capped at 20 mg beside amlodipine (simvastatin label)."""
    sl = shortlist(Patient(age=70, sex="male", current_medications=["amlodipine", "clopidogrel"]),
                   Diagnosis(text="Pure hypercholesterolemia", code="E78.0"))
    assert set(sl.names) == {"atorvastatin", "rosuvastatin"}
    assert "simvastatin" in _safer(sl) and "atherosclerotic" in _safer(sl)["simvastatin"]


def test_febuxostat_gives_way_to_allopurinol_with_heart_disease():
    """Febuxostat FDA boxed warning (2019): more cardiovascular deaths than allopurinol."""
    sl = shortlist(Patient(age=64, sex="male", current_medications=["clopidogrel"]),
                   Diagnosis(text="Chronic gout", code="M1A"))
    assert sl.names[0] == "allopurinol" and "febuxostat" not in sl.names
    assert "cardiovascular" in _safer(sl)["febuxostat"]


def test_one_clean_guideline_option_strikes_flagged_alternatives():
    """ACR/AF 2019 knee OA on warfarin: the NSAIDs are out and acetaminophen is the only clean
    option; duloxetine (a conditional alternative) is shown excluded with its warning (SNRI
    labels: bleeding), as the blinded reviewers judged it (tramadol is held back for
    osteoarthritis as an opioid)."""
    sl = shortlist(Patient(age=79, sex="female", current_medications=["warfarin"]),
                   Diagnosis(text="primary osteoarthritis of knee"), offer=None)
    assert sl.names == ("acetaminophen",)
    assert "warfarin" in _safer(sl)["duloxetine"]


def test_a_first_line_drug_flagged_for_the_patient_and_a_current_drug_gives_way():
    """CDC 2022 nonopioid pain treatment: an NSAID at 72 carries the AGS Beers 2023 caution and
    a warning with the current furosemide; acetaminophen is clean, so it is offered alone and
    the NSAIDs are shown excluded with the caution."""
    sl = shortlist(Patient(age=72, sex="female", current_medications=["sertraline", "furosemide"]),
                   Diagnosis(text="Pain in knee", code="M25.56"), offer=None)
    assert sl.names == ("acetaminophen",)
    assert "age 72" in _safer(sl)["naproxen"]


def test_a_first_line_drug_with_one_caution_stays_beside_one_clean_option():
    """The same knee at 72 on no medication: the NSAIDs carry only the AGS Beers 2023 caution,
    so they stay offered, flagged, beside acetaminophen."""
    sl = shortlist(Patient(age=72, sex="female", current_medications=[]),
                   Diagnosis(text="Pain in knee", code="M25.56"), offer=None)
    assert sl.names[0] == "acetaminophen" and "naproxen" in sl.names
    assert sl.warnings["naproxen"]


def test_flagged_first_line_drugs_stay_when_only_weaker_options_are_clean():
    """ACR/AF 2019 knee OA: NSAIDs are first-line, tramadol conditional; a 67-year-old with no
    GI history keeps the NSAIDs, flagged (AGS Beers 2023), ahead of the opioid."""
    sl = shortlist(Patient(age=67, sex="female", allergies=[]),
                   Diagnosis(text="primary osteoarthritis of knee", code="M17.10"))
    assert sl.names[0] in {"ibuprofen", "naproxen", "diclofenac"}
    assert sl.warnings[sl.names[0]]


def test_an_infant_with_reflux_gets_no_acid_suppressant():
    """NASPGHAN/ESPGHAN 2018: feeding changes first; a PPI or H2RA only for erosive disease."""
    sl = shortlist(Patient(age=0.5, sex="male"),
                   Diagnosis(text="Gastro-esophageal reflux disease", code="K21"))
    assert not sl.names
    assert any("NASPGHAN" in f.basis for e in sl.excluded for f in e.flags)
    assert "omeprazole" in shortlist(Patient(age=5, sex="male"),
                                     Diagnosis(text="Gastro-esophageal reflux disease",
                                               code="K21")).names


def test_oral_terbutaline_is_not_offered_below_12():
    """Terbutaline tablets FDA label: not recommended below 12 years."""
    sl = shortlist(Patient(age=0.5, sex="male"), Diagnosis(text="Asthma", code="J45"), offer=None)
    assert "terbutaline" not in sl.names and sl.names[0] == "albuterol"


def test_a_patient_on_allopurinol_gets_no_thiazide():
    """ACR 2020 gout guideline: thiazides raise urate; allopurinol implies gout."""
    sl = shortlist(Patient(age=66, sex="male", current_medications=["allopurinol"]),
                   Diagnosis(text="Essential (primary) hypertension", code="I10"), offer=None)
    assert "hydrochlorothiazide" not in sl.names and "chlorthalidone" not in sl.names


def test_aspirin_to_prevent_a_heart_attack_is_flagged_at_80():
    """AGS Beers 2023: avoid starting aspirin for primary prevention in older adults. The
    guardrails flag it; the shortlist, with no vascular history known, does not offer it
    (USPSTF 2022) and says why."""
    patient = Patient(age=80, sex="female")
    dx = Diagnosis(text="Prevent heart attack/myocardial infarction", code="I21.P")
    flagged = guardrails.check(["aspirin"], patient, diagnosis=dx).flags
    assert any("Beers" in f.basis and "primary prevention" in f.message for f in flagged)
    sl = shortlist(patient, dx, offer=None)
    assert "aspirin" not in sl.names
    assert any(e.drug == "aspirin" and "vascular history" in e.reason for e in sl.excluded)


def test_a_label_only_option_with_a_warning_gives_way():
    """Aspirin reaches neck pain by a myalgia label only; the CDC 2022 nonopioids and the
    ACP/AAFP 2020 topical NSAID are offered and aspirin is shown excluded (now held back by
    the guideline row, which it would otherwise have been for its bleeding warning on
    sertraline)."""
    sl = shortlist(Patient(age=50, sex="female", current_medications=["sertraline"]),
                   Diagnosis(text="neck pain", code="M54.2"), offer=None)
    assert set(sl.names) == {"acetaminophen", "ibuprofen", "naproxen", "diclofenac"}
    assert any(e.drug == "aspirin" for e in sl.excluded)


def test_advice_not_a_drug_lists_only_what_the_guideline_holds_back():
    """Acute bronchitis: ACP/CDC 2016 advice, and the antibiotics it names as excluded; not every
    label drug of the index."""
    sl = shortlist(Patient(age=45, sex="male", allergies=[]),
                   Diagnosis(text="acute bronchitis", code="J20.9"))
    assert not sl.names and sl.advice
    assert sl.excluded and all(e.reason.startswith("not for") for e in sl.excluded)
    assert "amoxicillin" in {e.drug for e in sl.excluded}


def test_a_fact_still_to_confirm_ranks_lower_but_is_never_struck():
    """ACE inhibitors carry a fetal-risk caution while pregnancy status is unknown (labels'
    boxed warning): ranked below the clean first-line options, still offered."""
    sl = shortlist(Patient(age=50, sex="female"),
                   Diagnosis(text="Essential (primary) hypertension", code="I10"))
    assert "lisinopril" in sl.names and sl.names[0] != "lisinopril"
    assert "lisinopril" not in _safer(sl)


def test_a_toddler_with_fever_gets_acetaminophen_or_ibuprofen_not_naproxen():
    """AAP 2011 fever report; naproxen label: not established below 2 years."""
    sl = shortlist(Patient(age=1, sex="male"), Diagnosis(text="Fever, unspecified", code="R50.9"),
                   offer=None)
    assert set(sl.names) == {"acetaminophen", "ibuprofen"}
    assert "naproxen" in _safer(sl)


def test_a_first_line_sedative_on_an_opioid_gives_way_to_a_clean_first_line_option():
    """FDA 2016 opioid boxed warning (other CNS depressants): nausea on hydrocodone, where
    ondansetron is clean, is not offered promethazine or prochlorperazine; they are shown
    excluded with the warning."""
    sl = shortlist(Patient(age=41, sex="female",
                           current_medications=["acetaminophen; hydrocodone", "fluoxetine"]),
                   Diagnosis(text="Nausea and vomiting", code="R11"), offer=None)
    assert sl.names[0] == "ondansetron"
    assert not {"promethazine", "prochlorperazine", "diphenhydramine"} & set(sl.names)
    assert "hydrocodone" in _safer(sl)["promethazine"]
