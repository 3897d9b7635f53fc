"""End to end through `rxassist serve` (the lead's `rx_server` fixture): the real vLLM engine with
the embedded model, the assistant API, and the Gradio UI (gradio_client; the browser:
test_ui_browser_e2e.py)."""

from __future__ import annotations

import json

import pytest

from .assistant_consultations import check, load

pytestmark = pytest.mark.e2e
CONSULTATIONS = load()
SENTENCE = "34 yo woman, 20 weeks pregnant, UTI, allergic to sulfa, on levothyroxine"


@pytest.fixture(scope="module")
def client(rx_server):
    from openai import OpenAI

    return OpenAI(base_url=f"{rx_server.api_url}/v1", api_key="EMPTY", timeout=300, max_retries=0)


def ask(client, history, model="rxassist"):
    resp = client.chat.completions.create(model=model, messages=history)
    return resp.choices[0].message.content, resp.to_dict()["rxassist"]


@pytest.mark.parametrize("consultation", CONSULTATIONS, ids=[c["id"] for c in CONSULTATIONS])
def test_consultation_through_the_server(client, consultation):
    history = []
    per_turn = consultation.get("expect_turns") or []
    for i, text in enumerate(consultation["turns"]):
        history.append({"role": "user", "content": text})
        content, rx = ask(client, history)
        history.append({"role": "assistant", "content": content})
        if i < len(per_turn):
            check(per_turn[i], content, rx, f"{consultation['id']} turn {i + 1}")
    check(consultation["expect"], content, rx, consultation["id"])
    if rx["status"] == "recommended":
        # vLLM enforces the schema, but the 135M base model can fill every string to its maximum
        # length and run out of tokens: then the reply must say so and recommend nothing.
        assert rx["model_output"] in ("parsed", "truncated"), content
        if rx["model_output"] == "parsed":
            # every drug in the list went through the guardrails
            assert len(rx["drugs"]) == len(rx["recommendations"]) >= 1
        else:
            assert rx["recommendations"] == [] and "cut off" in content


def test_every_model_id_answers(client):
    ids = [m.id for m in client.models.list().data]
    assert ids[:2] == ["rxassist", "rxassist:base"]
    for model_id in ids:
        content, rx = ask(client, [{"role": "user", "content": "40 yo man, sinusitis, NKDA"}],
                          model=model_id)
        assert rx["status"] == "recommended" and rx["model"] == model_id


def test_streaming_carries_the_same_answer(client):
    stream = client.chat.completions.create(
        model="rxassist", stream=True, messages=[{"role": "user", "content": "UTI"}])
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert "Still needed:" in text and "age" in text


def test_gradio_client_consultation(rx_server, tmp_path):
    from gradio_client import Client

    ui = Client(rx_server.ui_url, verbose=False)
    out = ui.predict(SENTENCE, [], "rxassist", api_name="/send")
    text, chat, age, sex, preg, weight, allergies, meds, dx, answer, summary, drug, more = out
    assert age == 34 and sex == "female" and preg == "yes" and allergies == "sulfa"
    assert "levothyroxine" in meds and "UTI" in dx
    if "cut off" not in json.dumps(chat[-1]):
        # every option shows its flags, or says it has none for this patient
        options = answer.split('<details id="excluded">')[0].split('class="rx-rec"')[1:]
        assert options and all("rx-chip" in o for o in options)
        assert summary.startswith("Prescription support (rxassist)")
    assert "supports a clinician" in json.dumps(chat[-1])


# The chat UI in a real browser: test_ui_browser_e2e.py.


# The five consultations the grounded recommender was built against, each with the first-line options a current guideline
# accepts (ADA 2024; IDSA 2010 + ACOG for pregnancy; AAP 2013; ACC/AHA 2023; ATS/IDSA 2019).
ISSUE_9 = [
    ("45 yo man, new type 2 diabetes, no meds, NKDA", {"metformin"}),
    ("28 yo woman, 20 weeks pregnant, UTI, sulfa allergy, on levothyroxine",
     {"nitrofurantoin", "cephalexin", "amoxicillin", "fosfomycin", "amoxicillin; clavulanate",
      "cefpodoxime"}),
    ("8 yo boy, 25 kg, acute otitis media, NKDA, no meds",
     {"amoxicillin", "amoxicillin; clavulanate", "cefdinir"}),
    ("70 yo man, atrial fibrillation, on metoprolol, NKDA",
     {"apixaban", "rivaroxaban", "dabigatran", "edoxaban", "warfarin", "diltiazem", "verapamil",
      "digoxin"}),
    ("30 yo man, community-acquired pneumonia, penicillin allergy, no meds",
     {"doxycycline", "azithromycin", "clarithromycin", "levofloxacin", "moxifloxacin"}),
]


@pytest.mark.parametrize("text, accepted", ISSUE_9, ids=[t.split(",")[1].strip()
                                                         for t, _ in ISSUE_9])
def test_issue_consultations_choose_among_safe_candidates(client, text, accepted):
    content, rx = ask(client, [{"role": "user", "content": text}])
    assert rx["status"] == "recommended", content
    recs = rx["recommendations"]
    assert 1 <= len(recs) <= 3 and all(r["drug"] in rx["candidates"] for r in recs)
    # No critical-flagged drug is ever offered; each rationale names its evidence.
    assert all(r["severity"] != "critical" for r in recs)
    assert all(r["rationale"] and r["rationale"] == r["evidence"] for r in recs)
    excluded = {e["drug"] for e in rx["excluded"]}
    assert not excluded & set(rx["candidates"])
    # A guideline-accepted first-line drug is among the (default adapter's) top 3.
    assert any(r["drug"] in accepted for r in recs), [r["drug"] for r in recs]
