"""Clinician shorthand for diagnoses (assistant/data/dx_synonyms.tsv), plurals and misspellings
coded; "ED" read by its context; symptom plus a positive urine test; combination products and
brackets in a medication list; misspelt drug names kept for the guardrails to flag; a PMH list
that goes on after "X on drug"; one acute condition beside long-term ones, and asking which
condition is the question when that does not decide it."""

from __future__ import annotations

import re

import pytest

import guardrails
from assistant import render
from assistant.dialogue import fold
from assistant.extract import Extractor
from assistant.extract.coding import _icd, _shorthand, code_diagnosis


@pytest.fixture(scope="module")
def ex():
    return Extractor(guardrails.find_drug_mentions)


def _consult(ex, *turns):
    messages = []
    for turn in turns:
        messages.append({"role": "user", "content": turn})
        c = fold(messages, ex).consultation
        missing = c.missing()
        messages.append({"role": "assistant",
                         "content": render.needs_info(c, missing) if missing else "ok"})
    return c, messages[-1]["content"]


def test_every_shorthand_code_is_an_icd10cm_code():
    bad = {code for code in _shorthand().values() if code not in _icd()}
    assert not bad


@pytest.mark.parametrize("text, code", [
    ("smoking cessation", "F17.210"), ("GORD", "K21"), ("BPH", "N40"), ("OA knee", "M17"),
    ("LBP", "M54.50"), ("URTI", "J06.9"), ("LRTI", "J22"), ("CAP", "J18.9"), ("PE", "I26"),
    ("COPD exacerbation", "J44.1"), ("AECOPD", "J44.1"), ("HFrEF", "I50.9"), ("CCF", "I50.9"),
    ("T2DM", "E11"), ("diabetes", "E11.9"), ("IDA", "D50.9"), ("UC flare", "K51.90"),
    ("Crohn's", "K50"), ("migraine without aura", "G43.009"), ("MDD", "F32.9"),
    ("GAD", "F41.9"), ("Parkinson's", "G20"), ("hypothyroid", "E03.9"), ("PMR", "M35.3"),
    ("PCOS", "E28.2"), ("PHN", "B02.29"), ("Alzheimer's", "G30.9"), ("hyperK", "E87.5"),
    ("hyponatraemia", "E87.1"), ("GI bleed", "K92.2"), ("OSA", "G47.33"), ("croup", "J05.0"),
    ("head lice", "B85.0"), ("IBS-D", "K58.0"), ("cold sores", "B00.1"), ("mastitis", "N61.0"),
    ("mastitis L breast", "N61.0"), ("vaginal thrush", "B37.3"), ("water infection", "N39.0"),
])
def test_clinician_shorthand_is_coded(text, code):
    coded = code_diagnosis(text)
    assert coded is not None and coded.code == code, coded


@pytest.mark.parametrize("text", ["thrush", "ED", "PD", "tooth abscess"])
def test_ambiguous_shorthand_is_not_coded_alone(text):
    # "thrush" (oral or vaginal), "ED", "PD": read in context or not at all; a shorthand phrase
    # is found inside a longer diagnosis only beside sides, sites and severity words.
    assert code_diagnosis(text) is None


@pytest.mark.parametrize("text, code", [
    ("recurrent UTIs", "N39.0"), ("kidney stones", "N20.0"), ("UTIs", "N39.0"),
])
def test_plurals_are_coded(text, code):
    assert code_diagnosis(text).code == code


@pytest.mark.parametrize("text, code", [
    ("diabeetes", "E11.9"), ("hypertenshun", "I10"), ("pnuemonia", "J18.9"),
])
def test_misspelt_conditions_are_coded_as_similar(text, code):
    coded = code_diagnosis(text)
    assert coded.code == code and coded.how == "similar"


@pytest.mark.parametrize("text", ["vagina", "bradycardia", "cystosis", "mania"])
def test_a_real_word_is_never_read_as_its_neighbour(text):
    coded = code_diagnosis(text)
    assert coded is None or coded.how != "similar"


def test_mastitis_while_breastfeeding_gets_the_lactation_code(ex):
    assert code_diagnosis("mastitis", lactating=True).code == "O91.23"
    assert code_diagnosis("cellulitis", lactating=True).code.startswith("L03")
    c, _ = _consult(ex, "Pt 33F, breastfeeding, 3 weeks postpartum, c/o mastitis L breast, NKDA")
    assert c.diagnosis_record().icd10cm.code == "O91.23"


@pytest.mark.parametrize("text", [
    "45M smoker, wants to quit smoking", "52F keen to give up cigarettes, NKDA",
    "60 yo M here for smoking cessation, known depression on sertraline, NKDA",
])
def test_a_wish_to_quit_smoking_is_the_diagnosis(ex, text):
    assert ex.extract(text).diagnosis_candidates == ["smoking cessation"]


def test_ed_is_erectile_dysfunction_only_for_a_man_named_with_it(ex):
    assert ex.extract("Pt is 62 y/o male c/o ED. Hx: IHD on GTN prn").diagnosis_candidates == [
        "erectile dysfunction"]
    assert ex.extract("58M ED, T2DM on metformin").diagnosis_candidates == ["erectile dysfunction"]
    f = ex.extract("67M seen in ED for chest pain, NSTEMI")
    assert f.diagnosis_candidates == ["NSTEMI"]
    assert "erectile" not in " ".join(f.notes + f.diagnosis_candidates)
    assert ex.extract("55F presented to ED with cellulitis L leg").diagnosis_candidates == [
        "cellulitis L leg"]
    assert "erectile dysfunction" not in ex.extract("19F ED, anorexia nervosa").diagnosis_candidates


@pytest.mark.parametrize("text, question", [
    ("30F c/o dysuria, MSU +ve, NKDA", ["urinary tract infection"]),
    ("30F dysuria and frequency, urine dip nitrite+, NKDA", ["urinary tract infection"]),
    ("30F dysuria, urine dip leuks+ nitrite neg, NKDA", ["dysuria"]),   # leucocytes alone: no
    ("30F dysuria, MSU negative, NKDA", ["dysuria"]),
    ("30F c/o dysuria, MSU +ve, pyelonephritis", ["pyelonephritis"]),   # a named condition wins
])
def test_urinary_symptoms_with_a_positive_urine_test_are_a_uti(ex, text, question):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question
    if question == ["urinary tract infection"]:
        assert any("read as a urinary tract infection" in n for n in f.notes)


def test_a_pregnant_woman_with_dysuria_and_positive_msu_gets_the_pregnancy_code(ex):
    c, _ = _consult(ex, "26 yo F 16/40 pregnant c/o dysuria, MSU +ve, NKDA")
    assert c.diagnosis_record().icd10cm.code.startswith("O23")


@pytest.mark.parametrize("text, meds", [
    ("28F, Meds: OCP (ethinyl estradiol/norgestimate), NKDA, UTI",
     ["ethinyl estradiol/norgestimate"]),
    ("60M, Meds: sacubitril/valsartan, bisoprolol. HFrEF", ["sacubitril/valsartan", "bisoprolol"]),
    ("55M HTN, takes amlodipine/benazepril, NKDA", ["amlodipine/benazepril"]),
    ("70M, Meds: Lipitor (atorvastatin), metformin 500 mg bid. UTI", ["atorvastatin", "metformin"]),
])
def test_a_combination_and_a_bracket_stay_one_medication(ex, text, meds):
    assert ex.extract(text).values["current_medications"] == meds
    for med in meds:
        assert guardrails.normalize(med).status != "unknown"


@pytest.mark.parametrize("text, meds", [
    ("70M T2DM, meds: metfromin, atorvastatn, lisinoprill. cellulitis. NKDA",
     ["metfromin", "atorvastatn", "lisinoprill"]),
    ("65F on metfromin and lisinoprill, UTI, NKDA", ["metfromin", "lisinoprill"]),
    ("72M AF on warfrin, now with cellulitis", ["warfrin"]),
])
def test_a_misspelt_drug_is_kept_and_the_guardrails_flag_it(ex, text, meds):
    assert ex.extract(text).values["current_medications"] == meds
    for med in meds:
        assert guardrails.normalize(med).status == "fuzzy"   # -> a name_guess flag


@pytest.mark.parametrize("text", ["65F on holiday, UTI", "60M on the ward, cellulitis"])
def test_a_word_after_on_is_a_drug_only_when_the_guardrails_read_one(ex, text):
    assert not ex.extract(text).values.get("current_medications")


def test_the_misspelling_reader_can_be_stubbed():
    stub = Extractor(guardrails.find_drug_mentions, drug_normalizer=lambda _name: None)
    assert not stub.extract("65F on metfromin, UTI").values.get("current_medications")


@pytest.mark.parametrize("text, question, comorbidities", [
    ("70M PMH: AF on warfarin, COPD, NKDA. c/o cough, CAP", ["CAP"],
     ["AF (atrial fibrillation)", "COPD (chronic obstructive pulmonary disease)"]),
    ("PMH: AF on warfarin, COPD. 70M with cellulitis", ["cellulitis"],
     ["AF (atrial fibrillation)", "COPD (chronic obstructive pulmonary disease)"]),
])
def test_a_history_list_goes_on_after_x_on_drug(ex, text, question, comorbidities):
    f = ex.extract(text)
    assert [re.sub(r" \(.*", "", q) for q in f.diagnosis_candidates] == question
    assert f.values["comorbidities"] == comorbidities
    assert f.values["current_medications"] == ["warfarin"]


@pytest.mark.parametrize("text, question", [
    ("65F HTN, UTI, NKDA", ["UTI"]), ("65F UTI, HTN, NKDA", ["UTI"]),
    ("58F asthma, URTI", ["URTI"]), ("70M COPD exacerbation, HTN", ["COPD exacerbation"]),
    ("45M gout, HTN", ["gout"]),
])
def test_one_acute_condition_beside_long_term_ones_is_the_question(ex, text, question):
    f = ex.extract(text)
    assert f.diagnosis_candidates == question and not f.diagnosis_choices
    assert f.values["comorbidities"]


def test_two_conditions_with_no_cue_are_asked_about_not_guessed(ex):
    c, reply = _consult(ex, "60M HTN, T2DM, NKDA")
    assert c.missing() == ["diagnosis"]
    assert "Which condition is the prescription for: HTN or T2DM?" in reply
    c, reply = _consult(ex, "60M HTN, T2DM, NKDA", "the diabetes")
    assert c.missing() == []
    assert c.diagnosis_record().icd10cm.code.startswith("E11")
    assert c.values["comorbidities"] == ["HTN (hypertension)"]


def test_korean_consultations_ask_which_condition_in_korean(ex):
    c, _ = _consult(ex, "60M HTN, T2DM, NKDA")
    assert "어느 질환에 대한 처방인가요" in render.needs_info(c, c.missing(), "ko")
