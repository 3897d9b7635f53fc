"""The Gradio UI: translation functions, and the app driven through gradio_client."""

from __future__ import annotations

import csv
import json

import pytest

from assistant.answer_html import answer_html
from assistant.chart import chart_summary
from assistant.ui import ELEM_IDS, build_ui, correction_message, patient_values

from recommend.schemas import ConsultationResult

from .assistant_consultations import scripted_choice

SENTENCE = "34 yo woman, 20 weeks pregnant, UTI, allergic to sulfa, on levothyroxine"
# The fake model tries Bactrim first; it was excluded (sulfa allergy), so it gets what it may.
BACTRIM = json.dumps({"choices": ["sulfamethoxazole; trimethoprim", "cephalexin"]})
RESULT = ConsultationResult.model_validate({
          "status": "recommended", "model": "rxassist", "prompt_version": "test",
          "patient": {"age": 34.0, "sex": "female", "pregnant": True, "weight_kg": None,
                      "allergies": ["sulfa"], "current_medications": ["levothyroxine"]},
          "diagnosis": {"text": "UTI (urinary tract infection)"}, "unknown_fields": ["weight_kg"],
          "recommendations": [
              {"drug": "Bactrim DS", "ingredients": ["sulfamethoxazole", "trimethoprim"],
               "rationale": "x", "flags": ["allergy"], "severity": "critical"},
              {"drug": "cephalexin", "ingredients": ["cephalexin"], "rationale": "y", "flags": [],
               "severity": None}],
          "flags": [{"kind": "allergy", "severity": "critical", "ingredient": "sulfamethoxazole",
                     "drugs": ["Bactrim DS"], "message": "sulfa <allergy>", "basis": "rules"}]})


NSAIDS = ConsultationResult.model_validate({
          "status": "recommended", "model": "rxassist", "prompt_version": "test", "patient": {"age": 79.0, "sex": "female", "weight_kg": 62.0,
                                             "allergies": [],
                                             "current_medications": ["warfarin"]},
          "diagnosis": {"text": "knee osteoarthritis"}, "unknown_fields": [],
          "recommendations": [
              {"drug": "ibuprofen", "ingredients": ["ibuprofen"], "flags": ["interaction"],
               "severity": "warning",
               "rationale": "first-line per ACR/AF 2019 (oral NSAID; topical); label: OA"},
              {"drug": "naproxen", "ingredients": ["naproxen"], "flags": ["interaction"],
               "severity": "warning", "rationale": "first-line per ACR/AF 2019"}],
          "flags": [{"kind": "interaction", "severity": "warning", "ingredient": None,
                     "drugs": [d, "warfarin"],
                     "message": f"Interaction {d} + warfarin (current medication): risk of "
                                "bleeding. Also listed by: drug-interaction-mcp.",
                     "basis": "ANSM Thesaurus (2020 edition), entry AINS + ANTICOAGULANTS: "
                              "Association DECONSEILLEE. Avec les anticoagulants oraux"}
                    for d in ("ibuprofen", "naproxen")],
          "excluded": [{"drug": "aspirin", "ingredients": ["aspirin"], "reason": "critical",
                        "flags": [{"kind": "interaction", "severity": "critical",
                                   "ingredient": None, "drugs": ["aspirin", "warfarin"],
                                   "message": "Interaction aspirin + warfarin: contraindicated.",
                                   "basis": "rules"}]}]})


def test_answer_html_puts_each_flag_under_its_drug_and_escapes():
    out = answer_html(RESULT)
    assert "&lt;allergy&gt;" in out and "<allergy>" not in out
    assert out.index("Bactrim DS") < out.index("CRITICAL") < out.index("cephalexin")
    assert 'class="rx-chip rx-critical">CRITICAL<' in out     # a word, not colour alone


def test_answer_html_order_and_details():
    out = answer_html(NSAIDS)
    # 1. options, 2. excluded (collapsed, counted), 3. other flags: none here
    assert out.index('id="recommendations"') < out.index('<details id="excluded">')
    assert "Considered and excluded (1)" in out and "<details open" not in out
    first, second = out.split('data-rank="2"')
    assert "ibuprofen + warfarin" in first and "naproxen + warfarin" in second
    # The French rule text only inside a "details", marked as French.
    for part in out.split("DECONSEILLEE")[:-1]:
        assert part.rfind("<details") > part.rfind("</details>")
    assert '<dd lang="fr" class="rx-original">' in out and "Original text (French)" in out
    # "Also listed by" is for details; the visible line stays one sentence about this patient.
    assert "Also listed by" not in out.replace("<dd lang=\"en\">", "\n").split("\n")[0]


def test_answer_html_in_korean():
    out = answer_html(NSAIDS, "ko")
    assert 'lang="ko"' in out and "knee osteoarthritis 추천 약물" in out
    assert "경고" in out and "warfarin와(과) 상호작용" in out
    assert "검토 후 제외한 약물 (1)" in out
    assert "전체 설명 (영어)" in out and '<dd lang="en">Interaction ibuprofen' in out


def test_chart_summary_is_plain_text():
    text = chart_summary(NSAIDS)
    assert text.splitlines()[1] == ("Patient: 79-year-old; female; 62 kg; allergies: none; "
                                    "current medications: warfarin")
    assert "Diagnosis: knee osteoarthritis" in text
    assert "1. ibuprofen — first-line per ACR/AF 2019 (oral NSAID; topical)" in text
    assert "   - WARNING: Interaction ibuprofen + warfarin" in text
    assert "aspirin: CRITICAL" in text and "<" not in text and "**" not in text
    assert chart_summary(RESULT.model_copy(update={"status": "needs_info"})) == ""
    assert chart_summary(None) == ""


def test_patient_panel_round_trip():
    assert patient_values(RESULT) == (34.0, "female", "yes", None, "sulfa", "levothyroxine",
                                      "UTI (urinary tract infection)")
    assert correction_message(RESULT, *patient_values(RESULT)) is None
    msg = correction_message(RESULT, 45, "female", "no", 60, "sulfa, penicillin",
                             "levothyroxine", "UTI (urinary tract infection)")
    assert msg == ("Correction:\nAge: 45 years\nPregnant: no\nWeight: 60 kg\n"
                   "Allergies: sulfa, penicillin")


@pytest.fixture
def ui_client(make_assistant, tmp_path, monkeypatch):
    from gradio_client import Client

    monkeypatch.setenv("RXASSIST_HOME", str(tmp_path))
    assistant, _ = make_assistant(scripted_choice(json.dumps({"recommendations": [
        {"drug": "Bactrim DS"}, {"drug": "cephalexin"}]})))
    demo = build_ui(assistant, feedback=True)
    demo.queue().launch(server_name="127.0.0.1", server_port=None, prevent_thread_lock=True,
                        quiet=True)
    try:
        yield Client(demo.local_url, verbose=False), tmp_path, demo
    finally:
        demo.close()


def test_ui_consultation_correction_and_feedback(ui_client):
    client, home, demo = ui_client
    ids = {getattr(block, "elem_id", None) for block in demo.blocks.values()}
    assert set(ELEM_IDS) <= ids
    # Not pregnant: co-trimoxazole is a UTI candidate, which the sulfa allergy excludes.
    out = client.predict(SENTENCE.replace("20 weeks pregnant", "not pregnant"), [], "rxassist",
                         api_name="/send")
    text, chat, age, sex, preg, weight, allergies, meds, dx, answer, summary, drug, more = out
    assert text == "" and age == 34 and sex == "female" and preg == "no"
    assert allergies == "sulfa" and "UTI" in dx
    # Bactrim was excluded before the model chose: shown excluded, CRITICAL, never an option.
    excluded = answer.split('<details id="excluded">')[1]
    assert "CRITICAL" in excluded and "<b>sulfamethoxazole; trimethoprim</b>" in excluded
    options = answer.split('<details id="excluded">')[0]
    assert "cephalexin" in options and "sulfamethoxazole" not in options
    assert drug["value"] == "cephalexin" and "1. cephalexin" in summary
    # Editing the panel becomes a "Correction:" turn in the conversation.
    out = client.predict(chat, "rxassist", 45, "female", "yes", None, "sulfa, penicillin",
                         "levothyroxine", dx, api_name="/correct")
    chat = out[1]
    assert "Correction:" in json.dumps(chat[-2]) and out[2] == 45 and "penicillin" in out[6]
    # With the penicillin allergy the cephalosporins carry a cross-reactivity warning beside two
    # clean first-line options: the corrected answer offers nitrofurantoin; feedback is on it.
    saved = client.predict("nitrofurantoin", "not appropriate", "near term",
                           api_name="/feedback")
    assert "Saved" in saved
    rows = list(csv.DictReader(open(home / "feedback" / "reviews.csv")))
    assert rows[0]["recommended_drug"] == "nitrofurantoin" and rows[0]["appropriate"] == "no"
    assert rows[0]["source"] == "assistant-ui:rxassist"


def test_ui_names_its_actions_and_new_clears(ui_client):
    client, _, _ = ui_client
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/send", "/correct", "/new", "/feedback"} <= set(endpoints)
    out = client.predict(api_name="/new")
    assert out[0] == "" and out[1] == []
