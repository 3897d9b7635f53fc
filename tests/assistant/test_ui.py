"""The Gradio UI: translation functions, and the app driven through gradio_client."""

from __future__ import annotations

import csv
import json

import pytest

from assistant.ui import (ELEM_IDS, build_ui, correction_message, flags_html, patient_values,
                          recommendations_table)

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


def test_table_is_colour_coded_by_severity():
    styler = recommendations_table(RESULT)
    html = styler.to_html()
    assert "#fde2e1" in html   # critical row red
    assert list(styler.data["Flags"]) == ["CRITICAL: allergy", "none"]


def test_flags_html_escapes_and_orders():
    out = flags_html(RESULT)
    assert "&lt;allergy&gt;" in out and "<allergy>" not in out
    assert "CRITICAL" in out and "basis: rules" in out


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
    text, chat, age, sex, preg, weight, allergies, meds, dx, more, flags, table, drug = out
    assert text == "" and age == 34 and sex == "female" and preg == "no" and more == ""
    assert allergies == "sulfa" and "UTI" in dx
    # Bactrim was excluded before the model chose: shown excluded, CRITICAL, never in the table.
    assert "CRITICAL" in flags and "sulfamethoxazole; trimethoprim excluded" in flags
    assert [row[1] for row in table["data"]] == ["cephalexin"]
    # Editing the panel becomes a "Correction:" turn in the conversation.
    out = client.predict(chat, "rxassist", 45, "female", "yes", None, "sulfa, penicillin",
                         "levothyroxine", dx, api_name="/correct")
    chat = out[1]
    assert "Correction:" in json.dumps(chat[-2]) and out[2] == 45 and "penicillin" in out[6]
    saved = client.predict("cephalexin", "not appropriate", "penicillin allergy",
                           api_name="/feedback")
    assert "Saved" in saved
    rows = list(csv.DictReader(open(home / "feedback" / "reviews.csv")))
    assert rows[0]["recommended_drug"] == "cephalexin" and rows[0]["appropriate"] == "no"
    assert rows[0]["source"] == "assistant-ui:rxassist"


def test_ui_names_its_actions_and_new_clears(ui_client):
    client, _, _ = ui_client
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/send", "/correct", "/new", "/feedback"} <= set(endpoints)
    out = client.predict(api_name="/new")
    assert out[0] == "" and out[1] == []
