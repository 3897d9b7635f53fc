"""The clinician's screen against the real `rxassist serve` (vLLM engine with the embedded
model, the assistant API, the Gradio UI) in Debian's Chromium at 1280x900: three consultations,
each checked as the clinician sees it, and the same consultations over the API. Regenerates the
screenshots in docs/screenshots/.

RXASSIST_TEST_SERVE_URL=http://127.0.0.1:PORT runs them against a `rxassist serve` that is
already running (on a loaded machine its engine may need longer than the fixture's start-up)."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from guardrails import Flag
from assistant.flagview import sources

from .ui_screen import (CHROMIUM, CHROMIUM_ARGS, assert_copy_gives_the_chart_summary,
                        assert_first_recommendation_visible, assert_no_horizontal_overflow,
                        assert_no_pair_of_alternatives, assert_source_text_behind_details,
                        axe_serious, open_page, recommended, send_with_enter, sync_playwright)

pytestmark = pytest.mark.e2e
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CONSULTATIONS = {
    "elderly-warfarin-knee-oa": "79 yo woman, knee osteoarthritis pain, on warfarin and "
                                "lisinopril, no allergies, 62 kg",
    "pregnant-uti-sulfa": "28 yo woman, 20 weeks pregnant, UTI, sulfa allergy, on levothyroxine",
    "child-otitis-media": "3 yo girl, 14 kg, acute otitis media, no allergies, no medications",
}
# The README shows the first one under its historical name.
README_SHOT = "ui-consultation.png"


@dataclass
class Running:
    api_url: str
    ui_url: str


@pytest.fixture(scope="module")
def served(request):
    url = os.environ.get("RXASSIST_TEST_SERVE_URL")
    if url:
        return Running(url.rstrip("/"), url.rstrip("/") + "/ui")
    return request.getfixturevalue("rx_server")


@pytest.mark.parametrize("name", list(CONSULTATIONS))
def test_the_clinicians_screen(served, tmp_path, name):
    with sync_playwright()() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = open_page(browser, served.ui_url)
            send_with_enter(page, CONSULTATIONS[name])
            chat = page.locator("#chat").inner_text()
            if "cut off" in chat:   # the 135M model ran out of tokens: nothing to lay out
                pytest.skip("the model's answer was cut off")
            assert recommended(page), chat[-800:]
            assert_first_recommendation_visible(page)
            assert_no_pair_of_alternatives(page)
            assert_no_horizontal_overflow(page)
            serious = axe_serious(page)
            assert not serious, serious
            shot = tmp_path / f"ui-{name}.png"
            page.screenshot(path=str(shot))          # what fits at 1280x900, unscrolled
            assert_source_text_behind_details(page)
            assert not axe_serious(page)             # with every "details" open too
            assert_copy_gives_the_chart_summary(page, [f"1. {recommended(page)[0]} — "])
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, SCREENSHOTS / f"ui-{name}.png")
            if name == "elderly-warfarin-knee-oa":
                shutil.copy(shot, SCREENSHOTS / README_SHOT)
                page.screenshot(path=str(SCREENSHOTS / "ui-details-open.png"), full_page=True)
        finally:
            browser.close()


@pytest.mark.parametrize("name", list(CONSULTATIONS))
def test_the_api_content_starts_with_the_recommendations(served, name):
    from openai import OpenAI

    client = OpenAI(base_url=f"{served.api_url}/v1", api_key="EMPTY", timeout=300,
                    max_retries=0)
    resp = client.chat.completions.create(
        model="rxassist", messages=[{"role": "user", "content": CONSULTATIONS[name]}])
    content, rx = resp.choices[0].message.content, resp.to_dict()["rxassist"]
    assert rx["status"] == "recommended", content
    if rx["model_output"] == "truncated":
        pytest.skip("the model's answer was cut off")
    assert content.startswith("**Recommendations for "), content[:200]
    names = {r["drug"] for r in rx["recommendations"]}
    assert not [f for f in rx["flags"] if len(set(f["drugs"]) & names) > 1]
    originals = [s.original for f in rx["flags"] for s in sources(Flag(**f))
                 if s.language != "en"]
    assert not [o for o in originals if o[:40] in content]
