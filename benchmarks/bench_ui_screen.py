"""What the clinician sees first: the chat UI of a checkout, measured in Chromium at 1280x900.

    PYTHONPATH=CHECKOUT .venv/bin/python benchmarks/bench_ui_screen.py [--label NAME] [TEXT ...]

Builds that checkout's UI over a scripted model (the first three candidates, evidence fill on,
as the assistant's default), sends each consultation and prints one JSON line per consultation:
the flag boxes shown, how many name two of the recommended alternatives as a pair, the pixel
row where the first recommendation starts (the fold is at 900), the page height, whether
non-English rule text (French ANSM entries) is rendered before anything is opened, and the
serious/critical axe-core violations. Run it on the base checkout and on this one to compare:
the scripted model makes both answer the same drugs.
"""

from __future__ import annotations

import argparse
import json
import re

from assistant import Assistant, AssistantConfig
from assistant.ui import build_ui
from tests.fake_model import FakeModel, first

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
DEFAULT = ["79 yo woman, knee osteoarthritis pain, on warfarin and lisinopril, no allergies, 62 kg",
           "28 yo woman, 20 weeks pregnant, UTI, sulfa allergy, on levothyroxine",
           "3 yo girl, 14 kg, acute otitis media, no allergies, no medications"]
# A few words of the French rule texts, to tell whether one is rendered.
FRENCH = re.compile(r"Association DECONSEILLEE|Précaution d'emploi|CONTRE-INDICATION|"
                    r"A prendre en compte|majoration du risque", re.I)

MEASURE = """() => {
  const q = s => [...document.querySelectorAll(s)];
  const newUi = document.querySelector('#answer-body') !== null;
  const flags = newUi ? q('#answer li.rx-flag').filter(e => e.checkVisibility())
                      : q('#flags li.rx-flag');
  const drugs = newUi ? q('#answer li.rx-rec .rx-drug').map(e => e.innerText.trim())
                      : q('#recommendations [role=gridcell][aria-colindex="2"]')
                          .map(e => e.innerText.trim()).filter(Boolean);
  const first = newUi ? document.querySelector('#answer li.rx-rec .rx-head')
                      : q('#recommendations [role=gridcell][aria-colindex="2"]')
                          .find(e => e.innerText.trim());
  const pairs = flags.filter(f => drugs.filter(d => f.innerText.includes(d)).length > 1).length;
  return {drugs, flag_boxes: flags.length, pair_flags: pairs,
          first_recommendation_y: first ? Math.round(first.getBoundingClientRect().top) : null,
          page_height: document.documentElement.scrollHeight,
          horizontal_overflow: document.documentElement.scrollWidth
                               > document.documentElement.clientWidth};
}"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("texts", nargs="*", default=DEFAULT)
    ap.add_argument("--label", default="checkout")
    args = ap.parse_args()
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    fake = FakeModel(first(3))
    cfg = AssistantConfig(model_base_url="http://127.0.0.1:9/v1", base_model="smollm2",
                          fill_with_evidence=True)
    demo = build_ui(Assistant(cfg, model_client=fake.client()))
    demo.queue().launch(server_name="127.0.0.1", prevent_thread_lock=True, quiet=True,
                        footer_links=[])
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for text in args.texts:
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(demo.local_url, wait_until="domcontentloaded")
                box = page.locator("#chat-input textarea")
                box.wait_for(timeout=60_000)
                box.fill(text)
                page.locator("#send").click()
                page.wait_for_function(
                    "() => /supports a clinician|Still needed/.test("
                    "document.querySelector('#chat').innerText)", timeout=120_000)
                page.wait_for_timeout(1500)
                page.evaluate("() => window.scrollTo(0, 0)")
                row = page.evaluate(MEASURE)
                row["french_rule_text_visible"] = bool(FRENCH.search(
                    page.evaluate("() => document.body.innerText")))
                violations = Axe().run(page).response["violations"]
                row["axe_serious_or_critical"] = sorted(
                    v["id"] for v in violations if v["impact"] in ("serious", "critical"))
                print(json.dumps({"label": args.label, "consultation": text[:40], **row}))
                page.close()
            browser.close()
    finally:
        demo.close()


if __name__ == "__main__":
    main()
