"""The rule reader on consultations written after it was built (English chart shorthand and
Korean notes): the arrow for a reaction, drugs stopped or not taken, a past or family condition,
an age in months as "6/12", a dose frequency after a drug. Each phrasing here was misread before
its rule. (The same consultations, with gold fields, are in eval/phrasing/phrasing.jsonl, dev.)"""

from __future__ import annotations

import pytest

import guardrails
from assistant.dialogue import fold
from assistant.extract import Extractor


@pytest.fixture(scope="module")
def ex():
    return Extractor(guardrails.find_drug_mentions)


def read(ex, text):
    return fold([{"role": "user", "content": text}], ex).consultation


@pytest.mark.parametrize("text, allergies, note", [
    ("72 yo woman, AF on apixaban, c/o insomnia. sulfa -> rash", ["sulfa"], "sulfa allergy: rash"),
    ("50M, gout, PCN\u2192hives", ["penicillin"], "penicillin allergy: hives"),
    ("47F, migraine, codeine allergy -> vomiting", ["codeine"], "codeine allergy: vomiting"),
    ("50M, gout, allergies: sulfa -> SJS, PCN => hives", ["sulfa", "penicillin"],
     "sulfa allergy: SJS"),
])
def test_an_arrow_from_a_drug_to_a_reaction_is_an_allergy(ex, text, allergies, note):
    c = read(ex, text)
    assert c.values["allergies"] == allergies
    assert note in c.notes
    assert not set(allergies) & set(c.values.get("comorbidities") or [])


def test_an_arrow_between_symptoms_is_still_a_clause_break(ex):
    c = read(ex, "50M, fever -> rash, measles")
    assert "allergies" not in c.values
    assert c.diagnosis_reading().startswith("measles")


@pytest.mark.parametrize("text, drug, note", [
    ("66M c/o knee OA pain. Was on naproxen, stopped due to GI bleed. Meds: omeprazole. NKDA",
     "naproxen", "Was on naproxen, stopped due to GI bleed"),
    ("66M, knee OA, naproxen stopped due to GI bleed, NKDA", "naproxen",
     "naproxen stopped due to GI bleed"),
    ("66M, knee OA, previously on ibuprofen, NKDA", "ibuprofen", "previously on ibuprofen"),
    ("60F, T2DM, metformin d/c'd (diarrhoea), NKDA, not pregnant", "metformin",
     "metformin d/c'd (diarrhoea)"),
    ("70M, AF, warfarin held for surgery, NKDA", "warfarin", "warfarin held for surgery"),
])
def test_a_drug_taken_in_the_past_or_stopped_is_a_note_not_a_current_medication(ex, text, drug,
                                                                                note):
    c = read(ex, text)
    assert drug not in (c.values.get("current_medications") or [])
    assert note in c.notes
    # The reason it was stopped is neither the question nor a condition it was taken for.
    assert "surgery" not in (c.values.get("comorbidities") or [])
    assert "GI bleed" not in (c.diagnosis_reading() or "") and "stopped" not in (
        c.diagnosis_reading() or "")


def test_takes_no_regular_medication_answers_the_medications(ex):
    c = read(ex, "32 yo M, cellulitis L lower leg, allergies: sulfa (SJS), takes no regular "
                 "medication")
    assert c.values["current_medications"] == []
    assert "takes" not in c.diagnosis_reading()


@pytest.mark.parametrize("text", [
    "80 M, CAP,\nPMH: COPD, HTN, not allergic to penicillin, no meds",
    "80세 남자, 지역사회획득 폐렴, 과거력: 만성 폐쇄성 폐질환, 고혈압, 페니실린 알레르기 없음, "
    "복용 중인 약 없음",
])
def test_a_history_list_ends_at_a_ruled_out_allergy_or_no_medications(ex, text):
    c = read(ex, text)
    assert len(c.values["comorbidities"]) == 2
    assert "not allergic to penicillin" in c.notes
    assert c.values["current_medications"] == []


@pytest.mark.parametrize("text, drug, note", [
    ("40세 남자, 편두통, 알레르기 없음, 이부프로펜 복용 안 함", "ibuprofen", "not on ibuprofen"),
    ("63세 여자, 무릎 골관절염, 나프록센 복용 중단, 오메프라졸 복용 중, 알레르기 없음", "naproxen",
     "stopped naproxen"),
    ("70세 남자, 심방세동, 와파린 끊음, 알레르기 없음", "warfarin", "stopped warfarin"),
    ("50세 남자, 통풍, 아스피린 복용하지 않음", "aspirin", "not on aspirin"),
])
def test_a_korean_drug_stopped_or_not_taken_is_never_a_current_medication(ex, text, drug, note):
    c = read(ex, text)
    meds = " ".join(c.values.get("current_medications") or [])
    assert drug not in meds and "안" not in meds and "단" not in meds
    assert note in c.notes


def test_a_korean_dose_and_frequency_stay_with_the_drug(ex):
    c = read(ex, "67세 남자, 통풍, 고혈압으로 암로디핀 5mg 복용 중, 메트포르민 500mg 1일 2회 복용 중")
    assert c.values["current_medications"] == ["amlodipine", "metformin"]
    assert "essential hypertension" in c.values["comorbidities"]
    assert c.diagnosis_reading().startswith("gout flare")


@pytest.mark.parametrize("text, question, background", [
    # a relative's condition is family history, never the question
    ("45세 남자, 본태성 고혈압, 복용약 없음, 알레르기 없음, 아버지 심근경색 가족력",
     "essential hypertension", None),
    # "과거 위궤양": a past condition is background
    ("63세 여자, 골관절염 무릎 통증, 과거 위궤양, 알레르기 없음", "osteoarthritis knee pain",
     "gastric ulcer"),
    # reduced kidney function is background to an acute question
    ("67세 남자, 통풍 급성 발작, 신기능 저하 (eGFR 35), 약물 알레르기 없음", "gout flare",
     "renal impairment"),
    ("67 M, gout flare, renal impairment (eGFR 35), NKDA", "gout flare", "renal impairment"),
    # "모유 수유 중" is breastfeeding; 유선염 is mastitis
    ("29세 여자, 모유 수유 중, 유선염, 약물 알레르기 없음", "mastitis", None),
])
def test_korean_family_past_and_background_conditions(ex, text, question, background):
    c = read(ex, text)
    assert c.diagnosis_reading().split(" -> ")[0] == question
    if background:
        assert background in c.values["comorbidities"]
    assert "모유" not in c.diagnosis_reading() and "아버지" not in c.diagnosis_reading()


def test_an_elderly_patient_called_grandmother_is_not_family_history(ex):
    c = read(ex, "80세 할머니, 고혈압, 알레르기 없음")
    assert c.values["sex"] == "female"
    assert c.diagnosis_reading().startswith("essential hypertension")


@pytest.mark.parametrize("text, allergies", [
    ("2 yo boy, 13 kg, AOM right ear, amox allergy (hives), no regular meds", ["amoxicillin"]),
    ("30F, cellulitis, not pregnant, allergic to clinda, azithro", ["clindamycin", "azithromycin"]),
    ("30F, cellulitis, not pregnant, ceph allergy", ["cephalosporins"]),
])
def test_an_abbreviated_antibiotic_allergy_is_named_so_the_guardrails_can_check_it(ex, text,
                                                                                   allergies):
    c = read(ex, text)
    assert c.values["allergies"] == allergies
    # The name recorded resolves to an ingredient or a class the allergy check knows.
    for a in allergies:
        assert guardrails.ingredients_of(a) or a == "cephalosporins"


@pytest.mark.parametrize("text, age", [
    ("6/12 old girl w/ AOM L ear, febrile, NKDA, no meds", 0.5),
    ("9/12 boy, bronchiolitis, NKDA", 0.75),
    ("3/52 old infant, oral thrush, NKDA", round(3 / 52, 3)),
])
def test_an_age_in_uk_fraction_shorthand(ex, text, age):
    c = read(ex, text)
    assert c.values["age"] == age
    assert "old" not in c.diagnosis_reading()


def test_a_duration_in_fraction_shorthand_is_not_an_age(ex):
    assert read(ex, "45M, cough x 6/12, NKDA").values["age"] == 45


@pytest.mark.parametrize("text, meds", [
    ("85 yo F, Alzheimer dementia, on donepezil 10 qhs and sertraline 50, NKDA",
     ["donepezil", "sertraline"]),
    ("70M, HTN, on amlodipine 5 qam, oxycodone 5 q6h prn, NKDA", ["amlodipine", "oxycodone"]),
    ("34F G2P1 at 12 wks, acute cystitis, NKDA, takes prenatal vitamins only",
     ["prenatal vitamins"]),
])
def test_a_frequency_or_only_after_a_drug_is_no_part_of_its_name(ex, text, meds):
    assert read(ex, text).values["current_medications"] == meds


@pytest.mark.parametrize("text, drug", [
    ("47F, migraine without aura, on propranolol 40 bid for prophylaxis, NKDA, not pregnant",
     "propranolol"),
    ("70M, knee OA, on omeprazole for GI protection, NKDA", "omeprazole"),
    ("70M, HTN, on aspirin for secondary prevention, NKDA", "aspirin"),
])
def test_what_a_drug_is_taken_for_that_names_no_condition_is_no_comorbidity(ex, text, drug):
    c = read(ex, text)
    assert drug in c.values["current_medications"]
    assert not c.values.get("comorbidities")


@pytest.mark.parametrize("text, question, note", [
    ("81 F, falls risk, Cr 1.9, community acquired pneumonia, NKDA", "community acquired pneumonia",
     "falls risk"),
    ("81F, AF, high bleeding risk, NKDA", "AF", "high bleeding risk"),
])
def test_a_risk_the_patient_carries_is_a_note_not_the_diagnosis(ex, text, question, note):
    c = read(ex, text)
    assert c.diagnosis_reading().split(" -> ")[0] == question
    assert note in c.notes


@pytest.mark.parametrize("text, code", [
    ("85F, Alzheimer dementia w/ agitation, NKDA", "F02.811"),
    ("85F, Alzheimer's dementia with agitation, NKDA", "F02.811"),
    ("85F, Alzheimer dementia, NKDA", "G30.9"),
])
def test_alzheimer_dementia_is_coded(ex, text, code):
    # ICD-10-CM FY2024: agitation in Alzheimer's dementia is F02.811 (with G30.9 as the cause).
    assert read(ex, text).diagnosis_record().icd10cm.code == code


@pytest.mark.parametrize("text, code", [
    ("major depressive disorder, moderate", "F32.9"),
    ("asthma, mild persistent", "J45.3"),
])
def test_a_severity_after_a_comma_qualifies_the_condition(text, code):
    from assistant.extract.coding import code_diagnosis
    assert code_diagnosis(text).code == code


def test_two_conditions_after_a_comma_are_still_not_coded():
    from assistant.extract.coding import code_diagnosis
    assert code_diagnosis("hypertension, hyperlipidemia") is None


@pytest.mark.parametrize("text, note", [
    ("29세 여자, 산후 3개월, 모유 수유 중, 유선염, 약물 알레르기 없음", "3 months postpartum"),
    ("29세 여자, 출산 후, 유선염, 약물 알레르기 없음", "postpartum"),
])
def test_korean_postpartum_answers_the_pregnancy_question(ex, text, note):
    c = read(ex, text)
    assert c.values["pregnant"] is False and note in c.notes
    assert c.diagnosis_reading().startswith("mastitis")


def test_korean_no_other_drug_allergies_beside_a_ruled_out_one(ex):
    c = read(ex, "80세 남자, 지역사회획득 폐렴, 페니실린 알레르기 없음, 그 외 약물 알레르기 없음")
    assert c.values["allergies"] == []
    assert "not allergic to penicillin" in c.notes
    assert "외" not in c.diagnosis_reading()


def test_a_menopause_in_brackets_answers_pregnancy_and_is_no_diagnosis(ex):
    c = read(ex, "63F c/o burning micturition 3/7. PMHx: T2DM on metformin, HTN on ramipril. NKDA. "
                 "Not pregnant (post-menopausal)")
    assert c.values["pregnant"] is False
    assert c.diagnosis_reading() == "burning micturition"


@pytest.mark.parametrize("text, meds, note", [
    ("Mrs K, 68, knee OA, already taking paracetamol 1g qds, NKDA", ["paracetamol"], None),
    ("17 yo M, 60 kg, acne, isotretinoin previously, no current meds, NKDA", [],
     "isotretinoin previously"),
    ("50M, T2DM, eGFR 25, on metformin - stopped last month due to eGFR, NKDA", None,
     "metformin - stopped last month due to eGFR"),
])
def test_already_taking_and_a_drug_taken_previously(ex, text, meds, note):
    c = read(ex, text)
    assert c.values.get("current_medications") == meds
    assert not c.values.get("comorbidities")
    assert note is None or note in c.notes
    assert "month" not in c.diagnosis_reading() and "previously" not in c.diagnosis_reading()


def test_wt_is_the_weight_and_no_diagnosis(ex):
    c = read(ex, "82M, Cr 2.4, wt 60 kg, cellulitis R leg, NKDA, meds: warfarin, digoxin")
    assert c.values["weight_kg"] == 60
    assert c.diagnosis_reading().startswith("cellulitis R leg -> ")


def test_hyperemesis_in_pregnancy_is_coded():
    from assistant.extract.coding import code_diagnosis
    assert code_diagnosis("hyperemesis").code == "O21.0"   # ICD-10-CM: mild hyperemesis gravidarum


def test_wants_treatment_for_a_condition_names_the_question(ex):
    c = read(ex, "30F, HTN, asthma, NKDA, requesting treatment for acne, not pregnant")
    assert c.diagnosis_reading().startswith("acne")
    assert c.values["comorbidities"] == ["HTN (hypertension)", "asthma"]


@pytest.mark.parametrize("text, question, drug, note", [
    ("68세 남자, 당뇨, 고혈압, 아토르바스타틴 끊은 지 1년, 근육통 때문에 중단, 알레르기 없음. "
     "이상지질혈증 치료 원함", "hypercholesterolemia", "atorvastatin",
     "stopped atorvastatin, stopped due to myalgia"),
    ("50세 남자, 통풍, 알로퓨리놀 복용하다가 중단함, 알레르기 없음", "gout flare", "allopurinol",
     "stopped allopurinol"),
    ("68M, DM, HTN, NKDA, hyperlipidemia, stopped atorvastatin 1 yr ago, stopped due to myalgia",
     None, "atorvastatin", "stopped atorvastatin 1 yr ago, stopped due to myalgia"),
])
def test_a_stop_with_its_reason_and_a_wish_for_treatment_in_korean(ex, text, question, drug,
                                                                     note):
    c = read(ex, text)
    assert drug not in (c.values.get("current_medications") or [])
    assert note in c.notes
    assert "myalgia" not in (c.diagnosis_reading() or "")
    if question:
        assert c.diagnosis_reading().split(" -> ")[0] == question


def test_korean_no_medication_taken(ex):
    c = read(ex, "3세 여아, 체중 14kg, 급성 인두염, 알레르기 없음, 약 복용 없음")
    assert c.values["current_medications"] == []
    assert c.diagnosis_reading().startswith("acute pharyngitis ->")


@pytest.mark.parametrize("text, question, comorbidities", [
    ("Diagnosis: acne. 30F, HTN, asthma, NKDA, not pregnant", "acne",
     ["HTN (hypertension)", "asthma"]),
    ("30F, HTN, asthma, NKDA, dx acne, not pregnant", "acne", ["HTN (hypertension)", "asthma"]),
    ("Dx: gout. 70M, CKD 3, AF on apixaban, NKDA", "gout",
     ["chronic kidney disease stage 3 (N18.30)", "AF (atrial fibrillation)"]),
])
def test_a_stated_diagnosis_keeps_the_other_conditions_as_comorbidities(ex, text, question,
                                                                         comorbidities):
    c = read(ex, text)
    assert c.diagnosis_reading().split(" -> ")[0] == question
    assert c.values["comorbidities"] == comorbidities


def test_a_differential_beside_a_stated_diagnosis_is_no_comorbidity(ex):
    c = read(ex, "36 F, non-ulcer dyspepsia vs GERD, diagnosis GERD, not pregnant, NKDA")
    assert not c.values.get("comorbidities")


def test_a_negative_urine_pregnancy_test_answers_pregnancy(ex):
    c = read(ex, "Pt: 24F, LMP 2 wks ago, UPT neg, c/o vaginal discharge, dx BV, NKDA, on COCP")
    assert c.values["pregnant"] is False


def test_elevated_lfts_are_a_result_not_the_diagnosis(ex):
    c = read(ex, "40M, alcohol use disorder, LFTs elevated, NKDA, no meds")
    assert c.diagnosis_reading() == "alcohol use disorder" or c.diagnosis_reading().startswith(
        "alcohol use disorder ->")
    assert "LFTs elevated" in c.notes


@pytest.mark.parametrize("text, current, note", [
    ("33 yo M, depression, tried sertraline and citalopram without benefit, NKDA", [],
     "tried sertraline and citalopram without benefit"),
    ("33F, depression, has tried fluoxetine, now on sertraline 50, NKDA, not pregnant",
     ["sertraline"], "has tried fluoxetine"),
])
def test_a_drug_tried_before_is_no_current_medication(ex, text, current, note):
    c = read(ex, text)
    assert (c.values.get("current_medications") or []) == current
    assert note in c.notes and "tried" not in c.diagnosis_reading()


def test_soap_letters_with_a_bracket_and_korean_no_history(ex):
    c = read(ex, "S) 70세 남자 기침 가래 3일, O) 발열 38.5, A) 급성 기관지염, 과거력 없음, "
                 "복용약: 아스피린 100mg, 알레르기: 없음")
    assert c.diagnosis_reading().startswith("acute bronchitis ->")
    assert not c.values.get("comorbidities")
    assert c.values["current_medications"] == ["aspirin"]
    c = read(ex, "S) 70M cough x3d, O) T 38.5, A) acute bronchitis, NKDA, no meds")
    assert c.diagnosis_reading().startswith("acute bronchitis ->")


@pytest.mark.parametrize("text, allergies, note", [
    ("65세 여자, 무릎 골관절염, 와파린 복용 중, NSAID 알레르기 있음", ["NSAID"], None),
    ("50세 남자, 통풍, PCN 알레르기 없음", None, "not allergic to penicillin"),
])
def test_a_korean_allergy_to_a_name_written_in_latin_letters(ex, text, allergies, note):
    c = read(ex, text)
    assert c.values.get("allergies") == allergies
    assert note is None or note in c.notes
    assert "알레르기" not in c.diagnosis_reading()


@pytest.mark.parametrize("text", [
    "62세 남, 고혈압 조절 안 됨, 암로디핀 10mg 복용 중, 기침 때문에 ACE 억제제 중단, 알레르기 없음",
    "62M, HTN, on amlodipine 10mg, stopped ACE inhibitors due to cough, NKDA",
])
def test_a_class_stopped_beside_a_drug_taken(ex, text):
    c = read(ex, text)
    assert c.values["current_medications"] == ["amlodipine"]
    assert any(n.lower() == "stopped ace inhibitors due to cough" for n in c.notes)
    assert c.diagnosis_reading().split(" -> ")[0] in ("essential hypertension", "HTN")


@pytest.mark.parametrize("text, dx", [
    ("20 F, 55 kg, first episode genital herpes? no - herpes zoster T5, not pregnant, NKDA",
     "herpes zoster"),
    ("45 M, gout? no, pseudogout of knee", "pseudogout of knee"),
])
def test_a_guess_corrected_at_once_is_not_the_diagnosis(ex, text, dx):
    d = read(ex, text).diagnosis()
    assert d.text.startswith(dx) and "?" not in d.text


@pytest.mark.parametrize("text", ["19 F, wants birth control", "24 F requesting contraception"])
def test_a_wish_for_contraception_is_the_question(ex, text):
    assert read(ex, text).diagnosis().text in ("birth control", "contraception")


def test_d_t_gives_why_a_drug_was_stopped(ex):
    """"d/t" is chart shorthand for "due to": the drug stopped is no current medication and
    its reason is no diagnosis."""
    c = read(ex, "stopped sertraline last month d/t nausea. 29F, GAD, not pregnant, NKDA")
    assert not c.values.get("current_medications")
    assert c.diagnosis().text.startswith("GAD") and "nausea" not in c.diagnosis().text
