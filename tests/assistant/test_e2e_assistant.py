"""End to end through `rxassist serve` (the lead's `rx_server` fixture): the real vLLM engine with
the embedded model, the assistant API, and the Gradio UI in a real browser."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from .assistant_consultations import check, load

pytestmark = pytest.mark.e2e
CONSULTATIONS = load()
SENTENCE = "34 yo woman, 20 weeks pregnant, UTI, allergic to sulfa, on levothyroxine"
REPO = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


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
    text, chat, age, sex, preg, weight, allergies, meds, dx, more, flags, table, drug = out
    assert age == 34 and sex == "female" and preg == "yes" and allergies == "sulfa"
    assert "levothyroxine" in meds and "UTI" in dx
    rows = [r for r in table["data"] if r[1]]
    if "cut off" not in json.dumps(chat[-1]):
        assert rows and all(len(r) == 5 and r[4] for r in rows)   # every row states its flags
    assert "supports a clinician" in json.dumps(chat[-1])


def _chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright
    return sync_playwright


def test_browser_consultation_shows_the_flagged_table(rx_server, tmp_path):
    sync_playwright = _chromium()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            # Not "networkidle": the page keeps a queue connection open.
            page.goto(rx_server.ui_url, wait_until="domcontentloaded")
            page.locator("#chat-input textarea").wait_for(timeout=60_000)
            assert "does not replace" in page.locator("#intended-use").inner_text()
            # The example sentence in one message: the patient panel fills in and the table shows
            # whatever the model recommended, each drug with its guardrail flags.
            page.locator("#chat-input textarea").fill(SENTENCE)
            page.locator("#send").click()
            page.locator("#patient-allergies textarea").wait_for()
            page.wait_for_function(
                "() => document.querySelector('#patient-allergies textarea').value === 'sulfa'",
                timeout=300_000)
            page.wait_for_timeout(1000)   # let the table render the same update
            table = page.locator("#recommendations").inner_text()
            assert "Ingredients" in table
            assert page.locator("#patient-age input").input_value() == "34"
            # Whatever the small model recommends, each row says its flags, and any flag shows
            # in the panel above the chat, coloured by severity.
            # Gradio's Dataframe is an ARIA grid; column 5 is "Flags".
            flags_cells = page.locator(
                '#recommendations [role=gridcell][aria-colindex="5"]').all_inner_texts()
            flags_cells = [c for c in flags_cells if c.strip()]
            assert flags_cells, "the model's answer gave no table rows:\n" + page.locator(
                "#chat").inner_text()[-800:]
            assert all(c.strip() == "none" or ":" in c for c in flags_cells)
            flagged = [c for c in flags_cells if c.strip() != "none"]
            panel = page.locator("#flags").inner_text()
            if flagged:
                assert "review before prescribing" in panel
                box = page.locator("#flags").bounding_box()
                assert box["y"] < page.locator("#chat").bounding_box()["y"]
            # The clinician records an allergy to the first suggested drug in the patient panel.
            # The edit becomes a "Correction:" turn; if the model suggests that drug again it
            # must now be shown, in the table and the panel, as a critical allergy.
            first = page.locator('#recommendations [role=gridcell][aria-colindex="2"]')
            drug = first.first.inner_text().strip()
            page.locator("#patient-allergies textarea").fill(f"sulfa, {drug}")
            page.locator("#apply-corrections").click()
            page.wait_for_function(
                "d => document.querySelector('#chat').innerText.includes('allergies: sulfa, ' + d)",
                arg=drug, timeout=300_000)
            page.wait_for_timeout(1000)
            assert "Correction:" in page.locator("#chat").inner_text()
            drugs = page.locator('#recommendations [role=gridcell][aria-colindex="2"]')
            flags = page.locator('#recommendations [role=gridcell][aria-colindex="5"]')
            for i in range(drugs.count()):
                if drugs.nth(i).inner_text().strip().lower() == drug.lower():
                    assert flags.nth(i).inner_text().startswith("CRITICAL"), flags.nth(i)
                    assert "CRITICAL" in page.locator("#flags").inner_text()
            shot = tmp_path / "ui-consultation.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            docs = REPO / "docs" / "screenshots"
            docs.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, docs / "ui-consultation.png")
        finally:
            browser.close()


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
