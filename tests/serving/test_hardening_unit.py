"""Hardening of the assistant API with fakes: keys, bounded work, 4xx for bad input, and
nothing of the patient in logs. The real stack is covered in test_serve_e2e/test_recovery_e2e."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from dataclasses import dataclass

import httpx
import pytest
from fastapi.testclient import TestClient

from assistant import Assistant, AssistantConfig
from recommend.schemas import ConsultationResult
from rxassist.cases import Patient
from serving.app import ApiLimits, create_app
from serving.limits import ClientGone, Gate, run_guarded

KEY, KEY2 = "k" * 20 + "-first", "k" * 20 + "-second"
SECRET = "Zqxjvbrandtwell"


def real_assistant(output=None) -> Assistant:
    """The real assistant over a fake model server answering with the first candidate."""
    from tests.fake_model import FakeModel, first
    fake = FakeModel(output or first())
    return Assistant(AssistantConfig(model_base_url="http://127.0.0.1:9/v1", base_model="smollm2"),
                     model_client=fake.client())


@dataclass
class Turn:
    content: str
    result: ConsultationResult


class SlowAssistant:
    def __init__(self, delay: float):
        self.delay, self.cancelled = delay, 0

    def model_ids(self):
        return ["rxassist"]

    async def respond(self, messages, model="rxassist"):
        try:
            await asyncio.sleep(self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return Turn("ok", ConsultationResult(status="needs_info", patient=Patient(),
                                             model=model, prompt_version="test"))


def chat(content="45 yo man, UTI, no allergies, no medications", model="rxassist"):
    return {"model": model, "messages": [{"role": "user", "content": content}]}


# -- keys ------------------------------------------------------------------------------------------
def test_api_key_guards_every_route_but_health():
    c = TestClient(create_app(real_assistant(), engine_healthy=lambda: True, api_keys=[KEY, KEY2]))
    assert c.get("/health").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong-key-123456789"},
                    {"Authorization": f"Basic {KEY}"}):
        r = c.get("/v1/models", headers=headers)
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        assert set(r.json()["error"]) == {"message", "type", "param", "code"}
        assert c.post("/v1/chat/completions", json=chat(), headers=headers).status_code == 401
    for key in (KEY, KEY2):   # several keys: rotate one without locking anybody out
        auth = {"Authorization": f"Bearer {key}"}
        assert c.get("/v1/models", headers=auth).status_code == 200
        assert c.post("/v1/chat/completions", json=chat(), headers=auth).status_code == 200


def test_ui_asks_for_the_key_as_password():
    from assistant.ui import build_ui

    assistant = real_assistant()
    c = TestClient(create_app(assistant, engine_healthy=lambda: True, api_keys=[KEY],
                              ui=build_ui(assistant)))
    assert "login" in c.get("/ui/config").text.lower() or c.get("/ui/config").status_code in (401, 403)
    assert c.post("/ui/login", data={"username": "dr", "password": "wrong"}).status_code >= 400
    ok = c.post("/ui/login", data={"username": "dr", "password": KEY})
    assert ok.status_code == 200
    assert c.get("/ui/config").status_code == 200


# -- bounded work -------------------------------------------------------------------------------------
def test_chunked_body_over_the_limit_is_413():
    c = TestClient(create_app(real_assistant(), engine_healthy=lambda: True,
                              limits=ApiLimits(max_body_bytes=10_000)))

    def chunks():   # no Content-Length: only counting what is read can stop it
        yield b'{"model": "rxassist", "messages": [{"role": "user", "content": "'
        for _ in range(30):
            yield b"x" * 1000
        yield b'"}]}'

    r = c.post("/v1/chat/completions", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "request_too_large"


def test_long_model_name_is_400_and_not_echoed():
    c = TestClient(create_app(real_assistant(), engine_healthy=lambda: True))
    r = c.post("/v1/chat/completions", json=chat(model=SECRET * 100))
    assert r.status_code == 400 and r.json()["error"]["param"] == "model"
    assert SECRET not in r.text


def test_over_capacity_is_429_with_retry_after():
    slow = SlowAssistant(0.5)
    app = create_app(slow, engine_healthy=lambda: True, limits=ApiLimits(concurrent=1, queue=1))

    async def go():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://t") as c:
            return await asyncio.gather(*(c.post("/v1/chat/completions", json=chat())
                                          for _ in range(4)))

    codes = sorted(r.status_code for r in asyncio.run(go()))
    assert codes == [200, 200, 429, 429]
    busy = [r for r in asyncio.run(go()) if r.status_code == 429][0]
    assert int(busy.headers["retry-after"]) > 0 and busy.json()["error"]["type"] == "rate_limit_error"


def test_server_side_deadline_cancels_the_turn():
    slow = SlowAssistant(5)
    c = TestClient(create_app(slow, engine_healthy=lambda: True, limits=ApiLimits(deadline_s=0.3)))
    r = c.post("/v1/chat/completions", json=chat())
    assert r.status_code == 504 and r.json()["error"]["code"] == "deadline"
    assert slow.cancelled == 1


def test_client_disconnect_cancels_the_turn():
    slow = SlowAssistant(30)

    class GoneAfter:
        def __init__(self):
            self.calls = 0

        async def is_disconnected(self):
            self.calls += 1
            return self.calls > 2

    async def go():
        with pytest.raises(ClientGone):
            await run_guarded(GoneAfter(), Gate(1, 0), lambda: slow.respond([]), 60)
        await asyncio.sleep(0)

    asyncio.run(asyncio.wait_for(go(), 5))
    assert slow.cancelled == 1


# -- bad input is 4xx ---------------------------------------------------------------------------------
@pytest.mark.parametrize("text,param", [
    ("Age: 200, male, UTI, no allergies, no medications", "patient.age"),
    ("45 yo man, 0 kg, UTI, no allergies, no medications", "patient.weight_kg"),
    ("45 yo man weighing 600 kg, UTI, no allergies, no medications", "patient.weight_kg"),
])
def test_impossible_values_are_400_naming_the_field(text, param):
    c = TestClient(create_app(real_assistant(), engine_healthy=lambda: True))
    r = c.post("/v1/chat/completions", json=chat(text))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


def test_lone_surrogate_is_400_naming_the_field():
    c = TestClient(create_app(real_assistant(), engine_healthy=lambda: True))
    body = b'{"model": "rxassist", "messages": [{"role": "user", "content": "UTI \\ud800 45 male"}]}'
    r = c.post("/v1/chat/completions", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages.0.content"


def test_prompt_over_the_token_budget_is_400_naming_the_field():
    from assistant.budget import PromptBudget
    from rxassist.paths import resolve_base_model

    base = resolve_base_model(None)
    if not os.path.isdir(base):
        pytest.skip("the embedded model is not prepared (rxassist models prepare)")
    assistant = real_assistant()
    assistant.prompt_budget = PromptBudget.from_model(base, max_model_len=2048, max_tokens=640)
    c = TestClient(create_app(assistant, engine_healthy=lambda: True))
    meds = ", ".join(f"medication{i} {i} mg" for i in range(400))
    r = c.post("/v1/chat/completions",
               json=chat(f"45 yo man, UTI, no allergies, currently taking {meds}"))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == "current_medications"
    ok = c.post("/v1/chat/completions", json=chat())
    assert ok.status_code == 200


# -- nothing of the patient in logs -------------------------------------------------------------------
def test_unexpected_error_is_logged_by_type_and_place_only(caplog, capfd):
    class Broken:
        def model_ids(self):
            return ["rxassist"]

        async def respond(self, messages, model="rxassist"):
            raise RuntimeError(f"patient {messages[-1]['content']}")

    c = TestClient(create_app(Broken(), engine_healthy=lambda: True))  # re-raise would fail here
    with caplog.at_level(logging.DEBUG):
        r = c.post("/v1/chat/completions", json=chat(f"{SECRET}, 45 yo"))
    assert r.status_code == 500 and SECRET not in r.text
    assert "RuntimeError at test_hardening_unit.py" in caplog.text
    out, err = capfd.readouterr()
    assert SECRET not in caplog.text + out + err


# -- feedback -----------------------------------------------------------------------------------------
def test_feedback_file_is_private_and_formula_escaped(tmp_path):
    from assistant.feedback import save_feedback
    from recommend.schemas import ConsultationResult
    from rxassist.review_format import read_review

    result = ConsultationResult.model_validate({
        "status": "recommended", "prompt_version": "test",
        "patient": {"age": 40}, "diagnosis": {"text": "=HYPERLINK(\"http://x\")"},
        "recommendations": [{"drug": "amoxicillin", "rationale": "+cmd|' /C calc'!A0"}],
        "model": "rxassist"})
    path = save_feedback(result, "amoxicillin", "appropriate", "@SUM(1+1)", path=tmp_path / "f" / "r.csv")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    raw = path.read_text()
    assert "'=HYPERLINK" in raw and "'+cmd" in raw and "'@SUM" in raw
    row = read_review(path)[0]
    assert row.diagnosis.startswith("=HYPERLINK") and row.comment == "@SUM(1+1)"


def test_ui_offers_feedback_only_when_asked():
    from assistant.ui import build_ui

    assert "/feedback" not in str(build_ui(real_assistant()).get_api_info())
    assert "/feedback" in str(build_ui(real_assistant(), feedback=True).get_api_info())


def test_assistant_does_not_import_eval():
    import subprocess
    import sys

    code = ("import sys, assistant.core, assistant.feedback, assistant.ui; "
            "print(sorted(m for m in sys.modules if m == 'eval' or m.startswith('eval.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# -- output handling ----------------------------------------------------------------------------------
def test_chat_escapes_markdown_and_html_and_round_trips():
    from assistant.ui import _display, _history, escape_markdown

    evil = "UTI ![x](https://evil.example/p.png) <img src=https://evil.example> [a](b) `c`"
    shown = escape_markdown(evil)
    assert "\\!\\[x\\]" in shown and "\\<img" in shown and "\\`c\\`" in shown
    chat = _display([{"role": "user", "content": evil}, {"role": "assistant", "content": "**ok**"}])
    assert chat[1]["content"] == "**ok**"                      # emphasis from render stays
    assert _history(chat)[0]["content"] == evil                # the assistant sees the original


def test_chat_renders_no_remote_image():
    import markdown_it

    from assistant.ui import escape_markdown

    html = markdown_it.MarkdownIt("commonmark").render(
        escape_markdown("![x](https://evil.example/p.png) <img src=https://evil.example/q.png>"))
    assert "<img" not in html


def test_health_reports_a_restarting_engine_with_retry_after():
    c = TestClient(create_app(real_assistant(), engine_healthy=lambda: False,
                              engine_state=lambda: "restarting (attempt 2)"))
    r = c.get("/health")
    assert r.status_code == 503 and int(r.headers["retry-after"]) > 0
    assert r.json()["error"]["code"] == "engine_restarting"
    assert "restarting (attempt 2)" in r.json()["error"]["message"]
