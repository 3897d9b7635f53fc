"""The stated care setting, and the answer that abstains on thin evidence (real index and
guardrails, fake model)."""

from __future__ import annotations

import pytest

from assistant.setting import read_setting
from tests.assistant.test_assistant import talk


@pytest.mark.parametrize("text, setting", [
    ("70 M admitted with community-acquired pneumonia", "inpatient"),
    ("inpatient, 65 F, pyelonephritis", "inpatient"),
    ("58 M in the ICU on the ventilator, VAP", "icu"),
    ("seen in the ED with an asthma attack", "inpatient"),
    ("72세 남자 폐렴으로 입원", "inpatient"),
    ("중환자실 패혈성 쇼크 환자", "icu"),
    ("45 F in clinic, cystitis", "outpatient"),
    ("45 M with ED, no meds", None),
    ("not admitted, CAP, going home", None),
    ("30 F, UTI", None),
])
def test_read_setting(text, setting):
    assert read_setting([text]) == setting


def test_the_last_stated_setting_wins():
    assert read_setting(["seen in clinic", "now admitted to the ward"]) == "inpatient"


def test_thin_evidence_abstains_with_reasons_and_a_question(make_assistant):
    a, fake = make_assistant()
    [reply] = talk(a, ["66 yo man, acute kidney injury, NKDA, no medications"])
    rx = reply.result.to_dict()
    assert rx["status"] == "nothing_survives" and rx["recommendations"] == []
    assert fake.requests == []
    assert "I have no reliable evidence" in reply.content
    assert "nephrotoxin" in reply.content and "?" in reply.content


def test_hypotension_gets_no_drug(make_assistant):
    a, fake = make_assistant()
    [reply] = talk(a, ["80 yo woman, hypotension, NKDA, on lisinopril"])
    rx = reply.result.to_dict()
    assert rx["recommendations"] == [] and "no reliable evidence" in reply.content
    assert all(e["excluded_by"] == "evidence" for e in rx["excluded"])


def test_the_answer_names_the_setting(make_assistant):
    a, _ = make_assistant()
    [reply] = talk(a, ["70 M admitted with community-acquired pneumonia, NKDA, no medications"])
    rx = reply.result.to_dict()
    assert any(n.startswith("setting: inpatient") for n in rx["notes"])
    assert "setting: inpatient" in reply.content
    assert "azithromycin; ceftriaxone" in rx["candidates"][:2]
