"""The rule reader on the way clinicians write a consultation: the presenting complaint is the
question, conditions named with their drug or in a history list are background, reactions stay
with their allergy, three-letter drug abbreviations and Korean forms are read.
(The same phrasings, with gold fields, are in eval/phrasing/phrasing_extra.jsonl.)"""

from __future__ import annotations

import pytest

import guardrails
from assistant.extract import Extractor


@pytest.fixture(scope="module")
def ex():
    return Extractor(guardrails.find_drug_mentions)


@pytest.mark.parametrize("text, question, comorbidities", [
    # the complaint is the question; "X on drug" and a PMH list are background
    ("Pt 81F, c/o insomnia x 3 months, PMH HTN, AF on apixaban", ["insomnia"],
     ["HTN (hypertension)", "AF (atrial fibrillation)"]),
    ("71M, Parkinson's on levodopa, c/o constipation x 2 weeks", ["constipation"], ["Parkinson's"]),
    ("77F with CHF on furosemide and lisinopril, c/o cough x 5 days, r/o pneumonia", ["cough"],
     ["CHF (congestive heart failure)"]),
    ("66 y/o F, osteoporosis, on alendronate, c/o acid reflux, NKDA", ["acid reflux"],
     ["osteoporosis"]),
    ("70 M, COPD exacerbation, PMH HTN, CKD, meds: amlodipine, tiotropium, NKDA",
     ["COPD exacerbation"], ["HTN (hypertension)", "CKD (chronic kidney disease)"]),
    ("63M s/p CABG, PMH DM2, presenting with new onset AF", ["AF"],
     ["DM2 (type 2 diabetes mellitus)"]),
    ("60 M, T2DM x 10 years, on metformin, erectile dysfunction", ["erectile dysfunction"],
     ["T2DM (type 2 diabetes mellitus)"]),
    ("74M afib, CKD, on furosemide, NKDA -> question: anticoagulation for AF",
     ["anticoagulation for AF"], ["afib (atrial fibrillation)", "CKD (chronic kidney disease)"]),
])
def test_the_complaint_is_the_question_and_background_is_comorbidity(ex, text, question,
                                                                     comorbidities):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    assert f.values["comorbidities"] == comorbidities


@pytest.mark.parametrize("text, question", [
    # alone, background by place is still what is asked about
    ("AF on apixaban", ["AF"]),
    ("60 M, history of MI, hypertension", ["hypertension"]),
    # a condition failing its treatment stays a candidate (with "AF on apixaban" it would not)
    ("HTN, UTI on nitrofurantoin, not improving", ["UTI"]),
    # a symptom beside the condition that explains it is a note
    ("34F c/o dysuria x2d, uncomplicated UTI", ["uncomplicated UTI"]),
    ("55F, 3 days of dysuria, acute cystitis", ["acute cystitis"]),
    # what is left of the clause is the condition, not its duration, visit or test
    ("Pt 55F c/o heartburn x 2 weeks, NKDA", ["heartburn"]),
    ("42F presents with sinusitis for 10 days", ["sinusitis"]),
    ("58M here for BP review, known T2DM on metformin", ["hypertension"]),
    ("36M here w/ GERD sx x 6 weeks", ["GERD"]),
    ("26 yo F 16/40 pregnant c/o dysuria, MSU +ve", ["urinary tract infection"]),
    ("56M with T2DM, on metformin, wants to add second agent", ["T2DM"]),
    ("59F known T2DM, on metformin, wants to start insulin? NKDA", ["T2DM"]),
    ("90F nursing home resident, UTI, PMH dementia", ["UTI"]),
])
def test_the_question(ex, text, question):
    assert ex.extract(text).diagnosis_candidates == question


def test_a_drug_named_in_a_wish_or_denied_is_not_taken(ex):
    f = ex.extract("59F known T2DM, on metformin, wants to start insulin? NKDA")
    assert f.values["current_medications"] == ["metformin"]
    f = ex.extract("48M, erectile dysfunction, on sildenafil? no - on nitrates for angina")
    assert "not on sildenafil" in f.notes
    assert f.values["current_medications"] == ["nitrate (drug class; which one?)"]
    assert f.values["comorbidities"] == ["angina"]


@pytest.mark.parametrize("text, allergies, note", [
    ("AOM R ear, pen allergy (hives)", ["penicillin"], "penicillin allergy: hives"),
    ("34 M, CAP, PCN allergy (anaphylaxis)", ["penicillin"], "penicillin allergy: anaphylaxis"),
    ("29F, UTI, allergic to sulfa (rash)", ["sulfa"], "sulfa allergy: rash"),
    ("42F sinusitis, allergies: PCN (hives), codeine (nausea)", ["penicillin", "codeine"],
     "codeine allergy: nausea"),
    ("85F, recurrent UTIs, allergic: nitrofurantoin (pulmonary reaction)", ["nitrofurantoin"],
     "nitrofurantoin allergy: pulmonary reaction"),
])
def test_the_reaction_stays_with_its_allergy(ex, text, allergies, note):
    f = ex.extract(text)
    assert f.values["allergies"] == allergies
    assert note in f.notes
    assert not any("(" in d or ")" in d for d in f.diagnosis_candidates)


@pytest.mark.parametrize("text, meds", [
    ("58 y/o male, erectile dysfunction, on GTN spray for angina", ["glyceryl trinitrate"]),
    ("54 yo F w/ RA on MTX, cellulitis R arm", ["methotrexate"]),
    ("PMH IHD, GTN prn, ED", ["glyceryl trinitrate"]),
    ("67M gout, meds: metformin, ramipril, ASA 81", ["metformin", "ramipril", "aspirin"]),
    ("85 F osteoporosis, on calcium + vitamin D", ["calcium", "vitamin D"]),
    ("Pt is 62 y/o male c/o ED. Hx: IHD on GTN prn, HTN on amlodipine. NKDA",
     ["glyceryl trinitrate", "amlodipine"]),
])
def test_medication_abbreviations(ex, text, meds):
    assert ex.extract(text).values["current_medications"] == meds


def test_a_history_list_ends_where_another_fact_starts(ex):
    f = ex.extract("PMH: HTN, AF on warfarin and metoprolol, NKDA. Gout flare")
    assert f.values["comorbidities"] == ["HTN (hypertension)", "AF (atrial fibrillation)"]
    assert f.values["current_medications"] == ["warfarin", "metoprolol"]
    assert f.values["allergies"] == []
    assert f.diagnosis_candidates == ["Gout flare"]


def test_postpartum_is_not_pregnant_and_not_the_question(ex):
    f = ex.extract("33 yo F, postpartum, breastfeeding, mastitis, NKDA")
    assert f.values["pregnant"] is False and f.diagnosis_candidates == ["mastitis"]
    f = ex.extract("31F, postpartum depression")
    assert f.values["pregnant"] is False and f.diagnosis_candidates == ["postpartum depression"]


@pytest.mark.parametrize("text, values, question", [
    ("72세 여자, 불면증 3개월, 고혈압으로 암로디핀 복용 중, 페니실린 알레르기",
     {"age": 72.0, "sex": "female", "allergies": ["penicillin"],
      "current_medications": ["amlodipine"], "comorbidities": ["essential hypertension"]},
     ["insomnia"]),
    # a drug taken is never read into the allergy list after it
    ("80세 여성, 심방세동, 와파린 복용 중, 페니실린 알레르기(두드러기)",
     {"age": 80.0, "sex": "female", "allergies": ["penicillin"],
      "current_medications": ["warfarin"]}, ["atrial fibrillation"]),
    ("73세 남자, 통풍, 신장병 3기, 알로푸리놀 복용 중",
     {"age": 73.0, "sex": "male", "current_medications": ["allopurinol"], "ckd_stage": 3,
      "comorbidities": ["chronic kidney disease stage 3 (N18.30)"]}, ["gout flare"]),
    ("28세 여성, 편두통, 피임약 복용 중, 알레르기 없음",
     {"age": 28.0, "sex": "female", "allergies": [],
      "current_medications": ["oral contraceptive (OCP)"]}, ["migraine"]),
    ("55세 여자, 3일 전부터 배뇨통, 방광염, 알레르기 없음, 복용약 없음",
     {"age": 55.0, "sex": "female", "allergies": [], "current_medications": []},
     ["acute cystitis"]),
    ("68세 남성, 과거력: 고혈압, 심방세동, 와파린 복용 중, 통풍, 알레르기 없음",
     {"age": 68.0, "sex": "male", "allergies": [], "current_medications": ["warfarin"],
      "comorbidities": ["essential hypertension", "atrial fibrillation"]}, ["gout flare"]),
])
def test_korean_consultations(ex, text, values, question):
    f = ex.extract(text)
    assert {k: f.values.get(k) for k in values} == values
    assert f.diagnosis_candidates == question


# -- misreads found by a clinician's read-through ------------------------------------------------
@pytest.mark.parametrize("text, meds, comorbidities", [
    # a bracket around "on X" ends the medication list; a dose without a unit is not the name
    ("58 M. Hx: HTN, gout (on allopurinol 300). Presents with acute gout flare R knee.",
     ["allopurinol"], ["HTN (hypertension)", "gout"]),
    ("PMH gout (on allopurinol), HTN. Now cellulitis L shin", ["allopurinol"],
     ["gout", "HTN (hypertension)"]),
])
def test_a_drug_in_brackets_ends_at_the_bracket(ex, text, meds, comorbidities):
    f = ex.extract(text)
    assert f.values["current_medications"] == meds
    assert f.values["comorbidities"] == comorbidities


def test_the_bracketed_drug_leaves_the_question_alone(ex):
    f = ex.extract("58 M. Hx: HTN, gout (on allopurinol 300). Presents with acute gout flare R knee.")
    assert f.diagnosis_candidates == ["acute gout flare R knee"]


@pytest.mark.parametrize("text, meds, question", [
    ("34 F, GAD, requesting Xanax, no meds.", [], ["GAD"]),
    ("34 F, GAD, wants Xanax, no meds", [], ["GAD"]),
    ("34 F, GAD, asking for Xanax. No meds", [], ["GAD"]),
    ("34 F, GAD, requests a Xanax prescription, no meds", [], ["GAD"]),
    ("34 F, GAD, would like Xanax, no meds", [], ["GAD"]),
    ("34 F with GAD, interested in sertraline, no meds", [], ["GAD"]),
    ("34 F with GAD, asks about Xanax, no meds", [], ["GAD"]),
    # a refill is of a drug taken
    ("34 F, GAD, came in for a refill of sertraline", ["sertraline"], ["GAD"]),
    ("34 F, GAD, requesting a refill of sertraline", ["sertraline"], ["GAD"]),
    ("56M, T2DM, wants to stop metformin", ["metformin"], ["T2DM"]),
])
def test_a_drug_the_patient_asks_for_is_not_taken(ex, text, meds, question):
    f = ex.extract(text)
    assert f.values.get("current_medications", []) == meds
    assert f.diagnosis_candidates == question


@pytest.mark.parametrize("text, age", [
    ("9 mo girl, reflux, spitting up after feeds", 0.75),
    ("9 months old girl, reflux", 0.75),
    ("9-month-old with reflux", 0.75),
    ("18 mo boy, croup", 1.5),
    ("6 wk infant, oral thrush", round(6 / 52, 3)),
    ("6 weeks old, oral thrush", round(6 / 52, 3)),
    ("2 yo with AOM", 2.0),
    ("3y M, fever and ear pain", 3.0),
    ("3y, fever and ear pain", 3.0),
    ("9개월 여아, 역류", 0.75),
])
def test_ages_of_young_children(ex, text, age):
    assert ex.extract(text).values["age"] == age


@pytest.mark.parametrize("text, question", [
    ("9 mo girl, reflux, spitting up after feeds", ["reflux", "spitting up after feeds"]),
    ("18 mo boy, croup", ["croup"]),
    ("6 wk infant, oral thrush", ["oral thrush"]),
    ("3y M, fever and ear pain", ["fever and ear pain"]),
])
def test_a_young_age_is_not_the_question(ex, text, question):
    assert ex.extract(text).diagnosis_candidates == question


@pytest.mark.parametrize("text", ["insomnia x 3 mo", "cough for 6 wk", "HTN x 3y, c/o gout",
                                  "c/o cough, 3 mo"])
def test_a_duration_is_still_not_an_age(ex, text):
    assert "age" not in ex.extract(text).values


@pytest.mark.parametrize("text, values", [
    ("3y M, fever and ear pain", {"age": 3.0, "sex": "male"}),
    ("18 mo F, bronchiolitis", {"age": 1.5, "sex": "female"}),
    # a decade in an "Age:" label is read as in free text, not as a negative age
    ("Age: 30s, female, UTI", {"age": 35.0, "sex": "female"}),
])
def test_age_with_its_sex_letter(ex, text, values):
    f = ex.extract(text)
    assert {k: f.values.get(k) for k in values} == values


@pytest.mark.parametrize("text, ruled_out, allergies", [
    ("3M, AOM, 15kg, no penicillin allergy", "penicillin", None),
    ("3M, AOM, not allergic to penicillin", "penicillin", None),
    ("3M, AOM, denies PCN allergy", "penicillin", None),
    ("3M AOM, no allergy to penicillin or cephalosporins, allergic to sulfa",
     "penicillin, cephalosporins", ["sulfa"]),
    ("3세 남아, 중이염, 15kg, 페니실린 알레르기 없음", "penicillin", None),
])
def test_an_allergy_ruled_out_is_not_recorded(ex, text, ruled_out, allergies):
    # only that allergen is ruled out: the allergy field stays open unless another is named
    f = ex.extract(text)
    assert f.values.get("allergies") == allergies
    assert f"not allergic to {ruled_out}" in f.notes


@pytest.mark.parametrize("text, meds, comorbidities, question", [
    # how long a drug has been taken is not what it is taken for
    ("38 yo M, depression on sertraline 100 for 2 yrs, asking about adding bupropion, no other meds",
     ["sertraline"], None, ["depression"]),
    ("38M depression on sertraline for 2 yrs, no other meds", ["sertraline"], None, ["depression"]),
    ("on sertraline for the past 3 months for depression, c/o insomnia", ["sertraline"],
     ["depression"], ["insomnia"]),
    ("38M, takes sertraline 100 for depression, c/o insomnia", ["sertraline"], ["depression"],
     ["insomnia"]),
])
def test_how_long_a_drug_is_taken(ex, text, meds, comorbidities, question):
    f = ex.extract(text)
    assert f.values["current_medications"] == meds
    assert f.values.get("comorbidities") == comorbidities
    assert f.diagnosis_candidates == question


@pytest.mark.parametrize("text, values", [
    # the number after a drug is its dose, never the age
    ("aspirin 81, HTN", {"current_medications": ["aspirin"]}),
    ("Mrs Smith, 72, with CHF, furosemide 40", {"age": 72.0, "current_medications": ["furosemide"]}),
    ("Pt 52M, HTN on amlodipine 10, aspirin 81, hyperlipidemia, c/o gout flare L big toe",
     {"age": 52.0, "current_medications": ["amlodipine", "aspirin"]}),
])
def test_the_number_after_a_drug_is_its_dose(ex, text, values):
    f = ex.extract(text)
    assert {k: v for k, v in f.values.items() if k in ("age", "current_medications")} == values


@pytest.mark.parametrize("text, note, comorbidities, question", [
    ("60F, not on warfarin, AF, c/o cough", "not on warfarin", None, None),
    ("60F not on the pill, UTI", "not on the pill", None, ["UTI"]),
    ("68M, stopped metformin due to GI upset, T2DM", "stopped metformin due to GI upset", None,
     ["T2DM"]),
    # what it was taken for is still a condition the patient has
    ("no longer taking warfarin for AF, 70M, c/o cellulitis", "no longer taking warfarin for AF",
     ["AF (atrial fibrillation)"], ["cellulitis"]),
    ("45M, no known allergies, not on any blood thinners, c/o acute low back pain x 1 wk",
     "not on any blood thinners", None, ["acute low back pain"]),
])
def test_a_drug_not_taken_is_a_note(ex, text, note, comorbidities, question):
    f = ex.extract(text)
    assert "current_medications" not in f.values
    assert note in f.notes
    assert f.values.get("comorbidities") == comorbidities
    if question is not None:
        assert f.diagnosis_candidates == question


@pytest.mark.parametrize("text, question", [
    # a Korean diagnosis no table knows is shown back as written, never silently dropped
    ("70세 여자, 와파린 복용 중, 알레르기 없음, 치과 농양", ["치과 농양"]),
    ("9개월 여아, 역류", ["역류"]),
])
def test_an_unknown_korean_diagnosis_is_kept(ex, text, question):
    assert ex.extract(text).diagnosis_candidates == question


def test_postherpetic_neuralgia_in_korean_is_one_diagnosis(ex):
    """KCD-8 B02.2 (대상포진 후 신경통): not 'herpes zoster' followed by 'neuralgia'."""
    assert ex.extract("60세 여성, 대상포진 후 신경통, 복용약 없음").diagnosis_candidates == [
        "postherpetic neuralgia"]


@pytest.mark.parametrize("text, comorbidities", [
    # a pasted list, one item a line, is one list under its header
    ("PMH:\n- HTN\n- T2DM\nDx: gout", ["HTN (hypertension)", "T2DM (type 2 diabetes mellitus)"]),
    ("PMH:\n1. HTN\n2. T2DM\nDx: gout", ["HTN (hypertension)", "T2DM (type 2 diabetes mellitus)"]),
    ("67F\nPMH:\n\u2022 AF on apixaban\n\u2022 HTN\nDx: gout",
     ["AF (atrial fibrillation)", "HTN (hypertension)"]),
    ("Problems: 1. HTN 2. gout\nDx: cellulitis", ["HTN (hypertension)", "gout"]),
])
def test_a_pasted_list_is_one_list(ex, text, comorbidities):
    f = ex.extract(text)
    assert f.values["comorbidities"] == comorbidities
    assert not f.diagnosis_candidates


@pytest.mark.parametrize("text, stage, dialysis", [
    # a stage in a history list, or before a full stop, is the patient's kidney stage
    ("PMH:\n- HTN\n- T2DM\n- CKD 3a\nDx: acute gout L 1st MTP", 3, None),
    ("PMH: HTN, CKD 3a, gout. Dx: cellulitis", 3, None),
    ("70M, CKD stage 4. Dx: gout", 4, None),
    ("PMH: ESRD on HD, HTN. Dx: cellulitis", 5, True),
])
def test_a_kidney_stage_in_a_history_list(ex, text, stage, dialysis):
    f = ex.extract(text)
    assert f.values["ckd_stage"] == stage
    assert f.values.get("dialysis") == dialysis
    assert not f.diagnosis_candidates


@pytest.mark.parametrize("text, meds, comorbidities", [
    # UK frequencies ("bd", "nocte") end the drug name like "bid" does
    ("Meds: lisinopril 20mg od, metformin 500 bd, simvastatin 40 nocte. Dx: gout",
     ["lisinopril", "metformin", "simvastatin"], None),
    ("on metformin 500 bd for T2DM, c/o cough", ["metformin"], ["T2DM (type 2 diabetes mellitus)"]),
])
def test_uk_frequencies_end_the_drug_name(ex, text, meds, comorbidities):
    f = ex.extract(text)
    assert f.values["current_medications"] == meds
    assert f.values.get("comorbidities") == comorbidities


@pytest.mark.parametrize("text, pregnant", [
    # weeks of gestation in UK shorthand
    ("30F, 28/40, GBS+, pen allergic (anaphylaxis), dx: preterm labour", True),
    ("29F 12+3/40, UTI", True),
    # a blood pressure or a visual acuity is not a gestation
    ("BP 90/40, 70F, sepsis", None),
    ("32F, VA 20/40 R eye, conjunctivitis", None),
])
def test_gestation_in_weeks_over_40(ex, text, pregnant):
    assert ex.extract(text).values.get("pregnant") == pregnant


@pytest.mark.parametrize("text, meds, comorbidities, question", [
    # a medicine named by its class, or not named, is still taken (the clinician is asked which),
    # and never becomes the diagnosis
    ("60F, HTN on BP meds, cough x 2 wks, NKDA", ["antihypertensive (drug class; which one?)"],
     ["HTN (hypertension)"], ["cough"]),
    ("60F, on a statin, c/o cough", ["statin (drug class; which one?)"], None, ["cough"]),
    ("AF on blood thinners, c/o cough", ["anticoagulant (drug class; which one?)"],
     ["AF (atrial fibrillation)"], ["cough"]),
    ("60F, on meds for HTN, cough x 2 wks, NKDA", ["medication for HTN (which one?)"],
     ["HTN (hypertension)"], ["cough"]),
    ("60세 여자, 고혈압 약 복용 중, 기침 2주, 알레르기 없음",
     ["medication for essential hypertension (which one?)"], ["essential hypertension"], ["cough"]),
])
def test_a_medicine_named_by_its_class(ex, text, meds, comorbidities, question):
    f = ex.extract(text)
    assert f.values["current_medications"] == meds
    assert f.values.get("comorbidities") == comorbidities
    assert f.diagnosis_candidates == question


# Ten consultations as a busy clinician types them, read whole (every field the reader records).
TEN_CONSULTATIONS = [
    ("67F. PMH:\n- T2DM\n- HTN\n- CKD 3a\nMeds: metformin 500 bd, ramipril 5, levothyroxine 100mcg\n"
     "NKDA\nDx: cellulitis L lower leg",
     {"age": 67.0, "sex": "female", "allergies": [], "ckd_stage": 3,
      "comorbidities": ["T2DM (type 2 diabetes mellitus)", "HTN (hypertension)",
                        "chronic kidney disease stage 3a (N18.31)"],
      "current_medications": ["metformin", "ramipril", "levothyroxine"],
      "diagnosis": "cellulitis L lower leg"}, [], []),
    ("45M, no known allergies, not on any blood thinners, c/o acute low back pain x 1 wk, "
     "no red flags",
     {"age": 45.0, "sex": "male", "allergies": []}, ["acute low back pain"],
     ["not on any blood thinners", "no red flags"]),
    ("72 yo woman on warfarin for AF, denies bleeding, INR 2.4, now with dental abscess. "
     "Allergic to penicillin (rash)",
     {"age": 72.0, "sex": "female", "allergies": ["penicillin"],
      "comorbidities": ["AF (atrial fibrillation)"], "current_medications": ["warfarin"]},
     ["dental abscess"], ["INR 2.4", "penicillin allergy: rash", "denies bleeding"]),
    ("30F, 28/40, UTI sx x3/7, denies fever, NKA, on folic acid",
     {"age": 30.0, "sex": "female", "pregnant": True, "allergies": [],
      "current_medications": ["folic acid"]}, ["UTI"], ["denies fever"]),
    ("Pt 52M, HTN on amlodipine 10, aspirin 81, hyperlipidemia, c/o gout flare L big toe",
     {"age": 52.0, "sex": "male", "current_medications": ["amlodipine", "aspirin"],
      "comorbidities": ["hyperlipidemia", "HTN (hypertension)"]}, ["gout flare L big toe"], []),
    ("38 yo M, depression on sertraline 100 for 2 yrs, asking about adding bupropion, "
     "no other meds",
     {"age": 38.0, "sex": "male", "current_medications": ["sertraline"]}, ["depression"],
     ["asking about adding bupropion (asked for, not a current medication)"]),
    ("68M, stopped metformin due to GI upset, T2DM, HbA1c 8.1, NKDA",
     {"age": 68.0, "sex": "male", "allergies": []}, ["T2DM"],
     ["HbA1c 8.1", "stopped metformin due to GI upset"]),
    ("3M, AOM R ear, 15kg, no penicillin allergy, no meds",
     {"age": 3.0, "sex": "male", "weight_kg": 15.0, "current_medications": []}, ["AOM R ear"],
     ["not allergic to penicillin"]),
    ("65세 남자, 당뇨로 메트포르민 복용 중, 고혈압 약 복용 중, 폐렴, 알레르기 없음",
     {"age": 65.0, "sex": "male", "allergies": [],
      "comorbidities": ["type 2 diabetes mellitus", "essential hypertension"],
      "current_medications": ["metformin", "medication for essential hypertension (which one?)"]},
     ["community-acquired pneumonia"], []),
    ("3세 남아, 중이염, 15kg, 페니실린 알레르기 없음",
     {"age": 3.0, "sex": "male", "weight_kg": 15.0}, ["acute otitis media"],
     ["not allergic to penicillin"]),
]


@pytest.mark.parametrize("text, values, question, notes", TEN_CONSULTATIONS)
def test_ten_consultations_as_typed(ex, text, values, question, notes):
    f = ex.extract(text)
    assert f.values == values
    assert f.diagnosis_candidates == question
    assert f.notes == notes


@pytest.mark.parametrize("text, question", [
    # menopause and hysterectomy mean not pregnant; inside a diagnosis the word stays there
    ("62F postmenopausal bleeding", ["postmenopausal bleeding"]),
    ("60F with postmenopausal osteoporosis", ["postmenopausal osteoporosis"]),
    ("62F, postmenopausal, UTI", ["UTI"]),
    ("58F s/p hysterectomy, UTI", ["UTI"]),
])
def test_menopause_is_not_pregnant_and_may_be_the_diagnosis(ex, text, question):
    f = ex.extract(text)
    assert f.values["pregnant"] is False
    assert f.diagnosis_candidates == question


@pytest.mark.parametrize("text, meds, question", [
    # more of a drug, a refill of it or stopping it: the drug is taken
    ("requesting more oxycodone, chronic back pain, 50M", ["oxycodone"], ["chronic back pain"]),
    ("asthma, would like a refill of her salbutamol inhaler, 30F", ["salbutamol"], ["asthma"]),
    ("55F interested in stopping her atorvastatin, hyperlipidemia", ["atorvastatin"],
     ["hyperlipidemia"]),
    # asked about: not taken
    ("asks for Viagra, 62M, ED, on amlodipine", ["amlodipine"], ["erectile dysfunction"]),
])
def test_more_of_a_drug_is_of_a_drug_taken(ex, text, meds, question):
    f = ex.extract(text)
    assert f.values["current_medications"] == meds
    assert f.diagnosis_candidates == question




def test_a_score_is_never_an_age(ex):
    f = ex.extract("CAP, CURB-65 of 1, 45F")
    assert f.values["age"] == 45.0
    f = ex.extract("Grace 45F, UTI")
    assert f.values["age"] == 45.0


@pytest.mark.parametrize("text, question, comorbidities, note", [
    # a score or a measurement is a detail of the condition, never a condition
    ("82 yo woman, new AF, CHA2DS2-VASc 5, on amlodipine and simvastatin 40, eGFR 48, 58 kg, "
     "no allergies", ["AF"], None, "CHA2DS2-VASc 5"),
    ("70M CAP, CURB-65 2, NKDA", ["CAP"], None, "CURB-65 2"),
    ("HFrEF NYHA class III, on ramipril", ["HFrEF"], None, "NYHA class III"),
    ("depression PHQ-9 of 18, 30F, PMH asthma", ["depression"], ["asthma"], "PHQ-9 of 18"),
    ("60 M, HFrEF EF 30%, on furosemide 40 and bisoprolol 5, K 4.2, eGFR 65, no allergies",
     ["HFrEF"], None, "EF 30%"),
    ("HFrEF, LVEF 25-30%, 70M", ["HFrEF"], None, "LVEF 25-30%"),
    # a call to do more names no condition: the condition treated is the question
    ("68M, T2DM on metformin 1g bd, eGFR 42, HbA1c 8.4, prior MI 2019, on aspirin, "
     "atorvastatin, ramipril. Needs intensification.", ["T2DM"], ["MI (myocardial infarction)"],
     "Needs intensification"),
    ("T2DM needs intensification", ["T2DM"], None, "needs intensification"),
    ("55F on metformin for T2DM, needs intensification", ["T2DM"], None,
     "needs intensification"),
    ("62M HTN uncontrolled on amlodipine, add-on needed", ["HTN"], None, "add-on needed"),
    ("58F, HTN on amlodipine 10, not controlled, PMH gout", ["HTN"], ["gout"], "not controlled"),
    ("hyperlipidemia on atorvastatin 40 mg, LDL above goal", ["hyperlipidemia"], None,
     "LDL above goal"),
])
def test_a_score_a_measurement_or_a_call_to_intensify_is_a_note(ex, text, question,
                                                                comorbidities, note):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    assert f.values.get("comorbidities") == comorbidities
    assert note in f.notes


def test_two_treated_conditions_and_a_call_to_intensify_ask_which(ex):
    f = ex.extract("HTN on amlodipine, T2DM on metformin, needs escalation")
    assert f.diagnosis_choices == ["HTN", "T2DM"]


@pytest.mark.parametrize("text, question, meds", [
    # "for it": the drug is for the condition already named, no new comorbidity
    ("50F, migraine without aura, 4 attacks/month, on propranolol 40 bd for it, no allergies, "
     "wants acute treatment", ["migraine without aura"], ["propranolol"]),
    ("epilepsy, on levetiracetam for this, 30F", ["epilepsy"], ["levetiracetam"]),
])
def test_a_drug_for_it_is_for_the_condition_named(ex, text, question, meds):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    assert f.values["current_medications"] == meds
    assert "comorbidities" not in f.values


def test_care_wished_for_is_no_medicine_and_no_condition(ex):
    f = ex.extract("50F, migraine without aura, on propranolol 40 bd for it, wants acute treatment")
    assert f.diagnosis_candidates == ["migraine without aura"]
    assert "wants acute treatment" in f.notes


@pytest.mark.parametrize("text, question, note", [
    # how often is a detail, not part of the condition
    ("50F, migraine without aura, 4 attacks/month, NKDA", ["migraine without aura"],
     "4 attacks/month"),
    ("40M, cluster headache, 3 attacks per day", ["cluster headache"], "3 attacks per day"),
    ("35F migraine 4x/month, NKDA", ["migraine"], None),
    ("migraine with 2-3 attacks a week, 40M", ["migraine"], None),
])
def test_how_often_is_not_the_condition(ex, text, question, note):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    assert note is None or note in f.notes


@pytest.mark.parametrize("text, question", [
    # planning a pregnancy is not being pregnant, and names no condition
    ("epilepsy, on levetiracetam, 30F, wants to get pregnant", ["epilepsy"]),
    ("28F trying to conceive, hypothyroidism on levothyroxine", ["hypothyroidism"]),
])
def test_planning_a_pregnancy_is_not_pregnant(ex, text, question):
    f = ex.extract(text)
    assert "pregnant" not in f.values
    assert f.diagnosis_candidates == question


def test_a_stated_diagnosis_keeps_only_the_condition(ex):
    # the care setting and "no comorbidities" are facts of the visit and the patient
    f = ex.extract("Dx: community-acquired pneumonia, outpatient. 45 F, not pregnant, "
                   "no comorbidities, penicillin allergy (anaphylaxis), no meds.")
    assert f.values["diagnosis"] == "community-acquired pneumonia"
    assert f.values["comorbidities"] == []
    assert "outpatient" in f.notes
    f = ex.extract("Dx: UTI, no fever, otherwise well")
    assert f.values["diagnosis"] == "UTI"
    assert "no fever" in f.notes
    # a written ICD-10-CM title keeps its commas
    f = ex.extract("Diagnosis: Migraine, unspecified, not intractable, without status migrainosus")
    assert f.values["diagnosis"] == ("Migraine, unspecified, not intractable, "
                                     "without status migrainosus")


@pytest.mark.parametrize("text", [
    "45F, CAP, no significant PMH, NKDA",
    "CAP, 45F, no comorbidities",
    "CAP, 45F, nil PMH",
])
def test_no_comorbidities_is_an_empty_list(ex, text):
    f = ex.extract(text)
    assert f.values["comorbidities"] == []
    assert f.diagnosis_candidates == ["CAP"]


@pytest.mark.parametrize("text, question, meds, note", [
    # an order is a request: what it names is neither the condition nor a drug taken
    ("60 M, HFrEF EF 30%, on furosemide 40 and bisoprolol 5, K 4.2, eGFR 65, no allergies. "
     "Add GDMT.", ["HFrEF"], ["furosemide", "bisoprolol"], "Add GDMT"),
    ("HFrEF on bisoprolol, optimise GDMT, 65M", ["HFrEF"], ["bisoprolol"], "optimise GDMT"),
    ("72F new AF. Start apixaban, eGFR 50, 60kg", ["AF"], None, "Start apixaban"),
])
def test_an_order_is_a_request(ex, text, question, meds, note):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    assert f.values.get("current_medications") == meds
    assert note in f.notes


@pytest.mark.parametrize("text, question, note", [
    # a need for treatment, an episode count, a score, a test result: no condition of their own
    ("Inpatient, 76M admitted with CAP, CURB-65 3, on warfarin for AF, eGFR 35, NKDA. "
     "Needs IV abx.", ["admitted with CAP"], "Needs IV abx"),
    ("4yo boy, 16kg, AOM L ear, 2nd episode this month, no allergies, no regular meds",
     ["AOM L ear"], "2nd episode this month"),
    ("For review of COPD: 68F, GOLD 3, mMRC 3, 2 exacerbations/yr, on tiotropium, ex-smoker, "
     "NKDA", ["COPD"], "GOLD 3"),
    ("34F, 12/40 pregnant, UTI, nitrite +ve, allergic to nitrofurantoin (rash)", ["UTI"],
     "nitrite +ve"),
    ("Pt 81M, BPH, needs review of his tamsulosin, PMH HTN on ramipril", ["BPH"],
     "needs review of his"),
    ("45M gout flare R 1st MTP, CKD 3b, on allopurinol 100, needs acute treatment, "
     "allergic to NSAIDs", ["gout flare R 1st MTP"], "needs acute treatment"),
])
def test_eight_more_consultations_as_typed(ex, text, question, note):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    assert note in f.notes


@pytest.mark.parametrize("text, question, comorbidities", [
    # a bare flare is the flare of the one history condition that flares
    ("Hx COPD. 67M here with exacerbation, NKDA",
     ["COPD exacerbation"], None),
    ("PMH: gout, HTN. 60M with acute flare R knee, NKDA", ["gout acute flare R knee"],
     ["HTN (hypertension)"]),
    # none of the history flares: the flare stays as said
    ("PMH: HTN, DM. 60M with exacerbation, NKDA", ["exacerbation"],
     ["HTN (hypertension)", "DM (diabetes mellitus)"]),
])
def test_a_bare_flare_is_the_history_conditions_flare(ex, text, question, comorbidities):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    assert f.values.get("comorbidities") == comorbidities


@pytest.mark.parametrize("text, question", [
    ("71F c/o dysuria and frequency, afebrile, on apixaban", ["dysuria and frequency"]),
    ("45M, afebrile, haemodynamically stable, cellulitis R arm, NKDA", ["cellulitis R arm"]),
    ("60M stable angina, on aspirin, NKDA", ["stable angina"]),
])
def test_an_examination_finding_is_not_the_diagnosis(ex, text, question):
    assert ex.extract(text).diagnosis_candidates == question
