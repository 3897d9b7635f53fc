"""Kidney function and breastfeeding read from the consultation (assistant/extract/kidney.py),
and an impossible value answered 400 naming the field."""

from __future__ import annotations

import asyncio

import pytest

import guardrails
from assistant.extract import Extractor
from rxassist.errors import InvalidInput


@pytest.fixture(scope="module")
def ex():
    return Extractor(guardrails.find_drug_mentions)


@pytest.mark.parametrize("text, values", [
    ("55 M, new type 2 diabetes, eGFR 25", {"egfr": 25.0}),
    ("GFR of 40 mL/min/1.73 m2, cystitis", {"egfr": 40.0}),
    ("68 M, CrCl 28 mL/min, atrial fibrillation", {"crcl": 28.0}),
    ("creatinine clearance 45, UTI", {"crcl": 45.0}),
    ("70 F, UTI, CKD stage 4, NKDA", {"ckd_stage": 4}),
    ("CKD 3b, hypertension", {"ckd_stage": 3}),
    ("stage 5 CKD, itching", {"ckd_stage": 5}),
    ("72 M ESRD on dialysis, itching", {"ckd_stage": 5, "dialysis": True}),
    ("62 M on hemodialysis, hypertension", {"dialysis": True, "ckd_stage": 5}),
    ("CKD stage 3, not on dialysis, gout", {"ckd_stage": 3, "dialysis": False}),
    ("30 F breastfeeding, mastitis", {"breastfeeding": True}),
    ("30 F, not breastfeeding, mastitis", {"breastfeeding": False}),
    ("32세 여자, 모유 수유 중, 유방염", {"breastfeeding": True}),
    ("Breastfeeding: no\nDiagnosis: mastitis", {"breastfeeding": False}),
    ("Kidney function: eGFR 25 mL/min/1.73 m2, CKD stage 4, not on dialysis",
     {"egfr": 25.0, "ckd_stage": 4, "dialysis": False}),
    ("65세 남자, 투석 중, 고혈압", {"dialysis": True}),
    ("70세 여자, 만성 콩팥병 4기, 방광염", {"ckd_stage": 4}),
    ("60세 남자, 사구체여과율 25, 당뇨병", {"egfr": 25.0}),
])
def test_kidney_and_breastfeeding_values(ex, text, values):
    f = ex.extract(text)
    assert {k: f.values.get(k) for k in values} == values


def test_a_ckd_stage_is_also_a_coded_comorbidity_and_not_the_diagnosis(ex):
    f = ex.extract("70 F, UTI, CKD stage 4, NKDA")
    assert f.values["comorbidities"] == ["chronic kidney disease stage 4 (N18.4)"]
    assert f.diagnosis_candidates == ["UTI"]


@pytest.mark.parametrize("text, field", [
    ("60 M, gout flare, eGFR 0", "egfr"), ("60 M, gout flare, eGFR 400", "egfr"),
    ("CKD stage -1, hypertension", "ckd_stage"), ("CKD stage 7, hypertension", "ckd_stage"),
    ("CrCl 0, UTI", "crcl"),
])
def test_impossible_values_are_rejected_not_used(ex, text, field):
    f = ex.extract(text)
    assert field not in f.values and field in f.rejected


def test_the_eval_consultation_message_reads_back(ex):
    from eval.targets import consultation_message
    from rxassist.cases import Case
    case = Case.model_validate({"id": "x", "drugs": [], "diagnosis": {"text": "gout"},
                                "patient": {"age": 60, "egfr": 25, "ckd_stage": 4,
                                            "dialysis": False, "breastfeeding": False}})
    f = ex.extract(consultation_message(case))
    assert {k: f.values.get(k) for k in ("egfr", "ckd_stage", "dialysis", "breastfeeding")} == \
        {"egfr": 25.0, "ckd_stage": 4, "dialysis": False, "breastfeeding": False}


@pytest.mark.parametrize("text, param", [
    ("60 M, gout flare, NKDA, eGFR 0", "patient.egfr"),
    ("60 M, gout flare, NKDA, eGFR 400", "patient.egfr"),
    ("60 M, hypertension, NKDA, CKD stage -1", "patient.ckd_stage"),
])
def test_the_api_answers_400_naming_the_field(make_assistant, text, param):
    a, _ = make_assistant()
    with pytest.raises(InvalidInput) as e:
        asyncio.run(a.respond([{"role": "user", "content": text}]))
    assert e.value.param == param


def test_stated_kidney_function_reaches_the_patient_and_the_rules(make_assistant):
    a, _ = make_assistant()
    reply = asyncio.run(a.respond([{"role": "user", "content":
                                    "55 M, new type 2 diabetes, eGFR 25, NKDA, no meds"}]))
    rx = reply.result.to_dict()
    assert rx["patient"]["egfr"] == 25.0
    assert "metformin" not in [r["drug"] for r in rx["recommendations"]]
    assert "metformin" in [e["drug"] for e in rx["excluded"]]
