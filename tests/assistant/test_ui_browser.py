"""The Gradio UI in a real browser (Debian's Chromium), over a fake chat model: a consultation
across turns, a correction from the patient panel, and per-drug feedback."""

from __future__ import annotations

import csv
import json
import os

import pytest

from assistant.ui import build_ui

from .assistant_consultations import scripted_choice
from .test_e2e_assistant import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.slow
# The fake model tries Bactrim first; it is excluded (sulfa allergy) before the model chooses.
BACTRIM = json.dumps({"recommendations": [{"drug": "Bactrim DS"}, {"drug": "cephalexin"}]})


@pytest.fixture
def ui_url(make_assistant, tmp_path, monkeypatch):
    monkeypatch.setenv("RXASSIST_HOME", str(tmp_path))
    demo = build_ui(make_assistant(scripted_choice(BACTRIM))[0], feedback=True)
    demo.queue().launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


def test_browser_turns_correction_and_feedback(ui_url, tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    def wait_value(selector, value):
        page.wait_for_function(f"() => document.querySelector({selector!r}).value === {value!r}",
                               timeout=60_000)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(ui_url, wait_until="domcontentloaded")
            box = page.locator("#chat-input textarea")
            box.wait_for(timeout=60_000)
            box.fill("34 yo woman, not pregnant")
            page.locator("#send").click()
            wait_value("#patient-age input", "34")
            assert "Still needed:" in page.locator("#chat").inner_text()
            box.fill("UTI, allergic to sulfa")
            page.locator("#send").click()
            wait_value("#patient-allergies textarea", "sulfa")
            assert "CRITICAL" in page.locator("#flags").inner_text()
            page.locator("#patient-allergies textarea").fill("sulfa, penicillin")
            page.locator("#apply-corrections").click()
            # The panel edit becomes a user turn; the reply confirms the corrected allergies.
            page.wait_for_function(
                "() => document.querySelector('#chat').innerText.includes("
                "'allergies: sulfa, penicillin')", timeout=60_000)
            assert "Correction:" in page.locator("#chat").inner_text()
            # cephalexin (cross-sensitivity with penicillin) is now flagged if shown, and never
            # the first choice: an equally supported option without a warning ranks above it.
            chat = page.locator("#chat").inner_text().rsplit("Recommendations for", 1)[-1]
            assert "1. cephalexin" not in chat
            if "cephalexin" in chat:
                assert "cephalexin" in page.locator("#flags").inner_text()
            page.locator("#feedback-verdict label").nth(1).click()   # "not appropriate"
            page.locator("#feedback-comment textarea").fill("sulfa allergy")
            page.locator("#feedback-save").click()
            page.wait_for_function(
                "() => document.querySelector('#feedback-status').innerText.includes('Saved')",
                timeout=30_000)
        finally:
            browser.close()
    rows = list(csv.DictReader(open(tmp_path / "feedback" / "reviews.csv")))
    assert [(r["appropriate"], r["comment"]) for r in rows] == [("no", "sulfa allergy")]
    assert rows[0]["recommended_drug"] and rows[0]["recommended_drug"] != "Bactrim DS"
