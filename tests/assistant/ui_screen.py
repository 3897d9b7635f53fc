"""What the clinician's screen must show, checked in a real browser (Playwright + Debian's
Chromium at 1280x900). Shared by the fake-model browser test (test_ui_browser.py) and the one
against the real `rxassist serve` (test_ui_browser_e2e.py)."""

from __future__ import annotations

import os
import re

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
ANSWERED = ("() => { const t = document.querySelector('#chat').innerText;"
            " return /supports a clinician|Still needed|임상의|추가로 필요한/.test(t)"
            " && document.querySelector('#answer-body') !== null; }")


def sync_playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright as sp
    return sp


def open_page(browser, url):
    context = browser.new_context(viewport=VIEWPORT, permissions=["clipboard-read",
                                                                  "clipboard-write"])
    page = context.new_page()
    # Not "networkidle": the page keeps a queue connection open.
    page.goto(url, wait_until="domcontentloaded")
    page.locator("#chat-input textarea").wait_for(timeout=60_000)
    return page


def send_with_enter(page, text, timeout_ms=300_000):
    """Type the consultation and press Enter, as a clinician would (no click)."""
    before = page.locator("#chat [data-testid='bot'], #chat .bot").count()
    box = page.locator("#chat-input textarea")
    box.fill(text)
    box.press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll(\"#chat [data-testid='bot'], #chat .bot\").length > n",
        arg=before, timeout=timeout_ms)
    page.wait_for_function(ANSWERED, timeout=timeout_ms)
    page.wait_for_timeout(800)   # the same update fills the answer panel


def recommended(page) -> list[str]:
    return [t.strip() for t in page.locator("#answer li.rx-rec .rx-drug").all_inner_texts()]


def assert_first_recommendation_visible(page):
    assert page.evaluate("() => window.scrollY") == 0
    head = page.locator('#answer li.rx-rec[data-rank="1"] .rx-head')
    box = head.bounding_box()
    assert box is not None, "no first recommendation on the screen"
    assert 0 <= box["y"] and box["y"] + box["height"] <= VIEWPORT["height"], box
    assert head.is_visible()


def _names_in(line: str, names: list[str]) -> set[str]:
    found, rest = set(), line.lower()
    for name in sorted(names, key=len, reverse=True):   # "amoxicillin; clavulanate" first
        if name.lower() in rest:
            found.add(name)
            rest = rest.replace(name.lower(), " ")
    return found


def assert_no_pair_of_alternatives(page) -> int:
    names = recommended(page)
    lines = page.locator("#answer li.rx-flag").all_inner_texts()
    # In the reply, a flag is a line that starts with its severity word.
    chat_lines = [ln for ln in page.locator("#chat").inner_text().splitlines()
                  if re.match(r"\W*(CRITICAL|WARNING|INFO|위험|경고|참고)\b", ln)]
    for line in lines + chat_lines:
        assert len(_names_in(line, names)) <= 1, f"flag names two alternatives: {line}"
    return len(lines)


def assert_source_text_behind_details(page):
    """No original rule text in another language is rendered until its "details" opens; then
    it is shown, marked with its language."""
    foreign = page.evaluate(
        "() => [...document.querySelectorAll('#answer-body [lang]:not([lang=en])')]"
        ".map(e => [e.getAttribute('lang'), e.textContent])")
    shown = page.evaluate("() => document.body.innerText")
    for lang, text in foreign:
        assert text[:40] not in shown, f"{lang} source text visible before details: {text[:80]}"
    summaries = page.locator("#answer details.rx-more > summary")
    for i in range(summaries.count()):
        if summaries.nth(i).is_visible():
            summaries.nth(i).click()
    for el in page.locator("#answer li.rx-rec [lang]:not([lang=en])").all():
        lang = el.get_attribute("lang")
        assert el.is_visible() and lang in ("fr", "ko", "de", "es")
    return foreign


def assert_no_horizontal_overflow(page):
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    # Nothing inside the answer is wider than the answer itself.
    assert page.evaluate(
        "() => { const a = document.querySelector('#answer-body'); const w = a.clientWidth;"
        " return [...a.querySelectorAll('*')].every(e => e.scrollWidth <= w + 1); }")


def axe_serious(page) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [{"id": v["id"], "impact": v["impact"],
             "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def assert_copy_gives_the_chart_summary(page, must_contain):
    page.locator("#copy-summary").click()
    page.wait_for_timeout(500)
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.startswith(("Prescription support (rxassist)", "처방 지원"))
    for text in must_contain:
        assert text in copied, (text, copied)
    assert "<" not in copied and "**" not in copied
    return copied
