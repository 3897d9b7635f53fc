"""rxassist.langchain: the documented tool example runs offline (FAKE model server,
tests/fake_model.py; the real assistant pipeline, guardrails and candidate index)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from langchain_core.messages import ToolMessage

from assistant import Assistant, AssistantConfig
from rxassist.langchain import (ConsultationInput, ConsultationOutput, consultation_runnable,
                                consultation_tool)
from recommend.schemas import ConsultationResult
from tests.fake_model import FakeModel, first

DOC = Path(__file__).resolve().parents[2] / "docs" / "readers.md"
SULFA = "34 yo woman, not pregnant, UTI, allergic to sulfa, on levothyroxine"


def example_code() -> str:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- example: langchain-tool[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert m, "the LangChain tool example is missing from " + str(DOC)
    return m.group(1)


def fake_assistant(answer=first(2)) -> tuple[Assistant, FakeModel]:
    fake = FakeModel(answer)
    cfg = AssistantConfig(model_base_url="http://127.0.0.1:9/v1", base_model="smollm2")
    return Assistant(cfg, model_client=fake.client()), fake


def test_the_documented_example_runs(monkeypatch, capsys):
    fake = FakeModel(first(2))
    # The example builds its own Assistant: its model client is the fake server's.
    monkeypatch.setattr("assistant.core.ModelClient", lambda settings: fake.client())
    scope: dict = {}
    exec(compile(example_code(), str(DOC), "exec"), scope)
    message, result = scope["message"], scope["result"]
    assert isinstance(message, ToolMessage) and message.tool_call_id == "call-1"
    assert isinstance(result, ConsultationResult) and result.status == "recommended"
    assert "Recommendations" in message.content
    # The sulfa allergy excluded co-trimoxazole before the model chose; the example prints it.
    out = capsys.readouterr().out
    assert "excluded: sulfamethoxazole; trimethoprim ['allergy']" in out
    assert fake.requests, "the example must reach the (fake) model server"


def test_the_tool_has_typed_arguments_and_no_way_around_the_guardrails():
    a, _ = fake_assistant()
    tool = consultation_tool(a)
    assert tool.args_schema is ConsultationInput
    assert set(tool.args) == {"text", "history", "model"}
    assert tool.response_format == "content_and_artifact"
    # Plain invoke answers the clinician's text; the typed result rides on tool calls.
    assert "Recommendations" in tool.invoke({"text": SULFA})


def test_a_multi_turn_consultation_through_the_runnable():
    a, _ = fake_assistant()
    run = consultation_runnable(a)
    first_turn = run.invoke("UTI in a 34 yo woman")
    assert isinstance(first_turn, ConsultationOutput)
    assert first_turn.result.status == "needs_info"
    history = [{"role": "user", "content": "UTI in a 34 yo woman"},
               {"role": "assistant", "content": first_turn.answer}]
    second = asyncio.run(run.ainvoke({"text": "not pregnant, allergic to sulfa",
                                      "history": history}))
    assert second.result.status == "recommended"
    assert second.result.patient.allergies == ["sulfa"]
    assert not second.critical_flags


def test_bad_calls_come_back_to_the_agent_as_tool_errors():
    a, _ = fake_assistant()
    tool = consultation_tool(a)
    call = {"type": "tool_call", "id": "c2", "name": tool.name,
            "args": {"text": SULFA, "model": "rxassist:nope"}}
    message = tool.invoke(call)
    assert message.status == "error" and "does not exist" in message.content
    with pytest.raises(Exception):        # the typed arguments reject an empty consultation
        tool.invoke({"text": ""})


def test_the_tool_inside_a_running_event_loop():
    a, _ = fake_assistant()
    tool = consultation_tool(a)

    async def agent_step():
        sync_answer = tool.invoke({"text": SULFA})     # a sync call from async code
        message = await tool.ainvoke({"type": "tool_call", "id": "c3", "name": tool.name,
                                      "args": {"text": SULFA}})
        return sync_answer, message

    sync_answer, message = asyncio.run(agent_step())
    assert "Recommendations" in sync_answer and message.artifact.status == "recommended"
