"""The assistant API's HTTP contract, with a scripted fake assistant (the real one is e2e)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from recommend.schemas import ConsultationResult, RecommendationRow
from rxassist.cases import Patient
from rxassist.errors import ModelUnavailable, NotFound
from serving.app import create_app, split_for_stream
from serving.protocol import MAX_MESSAGE_CHARS


@dataclass
class Turn:
    content: str
    result: ConsultationResult


class ScriptedAssistant:
    def __init__(self):
        self.calls = []

    def model_ids(self):
        return ["rxassist", "rxassist:base"]

    async def respond(self, messages, model="rxassist"):
        self.calls.append((messages, model))
        if model not in self.model_ids():
            raise NotFound(f"model {model!r} does not exist", param="model")
        if "engine down" in messages[-1]["content"]:
            raise ModelUnavailable("the model engine cannot be reached")
        if "boom" in messages[-1]["content"]:
            raise RuntimeError("secret patient text")
        return Turn("1. amlodipine\nFlags: none\n", ConsultationResult(
            status="recommended", patient=Patient(), model=model, prompt_version="test",
            recommendations=[RecommendationRow(drug="amlodipine")]))


@pytest.fixture
def assistant():
    return ScriptedAssistant()


@pytest.fixture
def client(assistant):
    return TestClient(create_app(assistant, engine_healthy=lambda: True))


def _chat(client, body, **kw):
    return client.post("/v1/chat/completions", json=body, **kw)


def assert_openai_error(r, status, param=None):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"message", "type", "param", "code"}
    assert err["message"]
    if param is not None:
        assert err["param"] == param
    return err


def test_models_lists_ids(client):
    r = client.get("/v1/models")
    assert r.status_code == 200
    assert [m["id"] for m in r.json()["data"]] == ["rxassist", "rxassist:base"]


def test_health_reflects_engine():
    ok = TestClient(create_app(ScriptedAssistant(), engine_healthy=lambda: True))
    down = TestClient(create_app(ScriptedAssistant(), engine_healthy=lambda: False))
    assert ok.get("/health").status_code == 200
    assert_openai_error(down.get("/health"), 503)


def test_completion_carries_rxassist_field(client):
    r = _chat(client, {"model": "rxassist", "messages": [{"role": "user", "content": "htn"}]})
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"].startswith("1. amlodipine")
    assert body["rxassist"]["recommendations"][0]["drug"] == "amlodipine"


def test_content_parts_are_joined(client, assistant):
    r = _chat(client, {"model": "rxassist", "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Diagnosis: hypertension"},
                                     {"type": "text", "text": "Allergies: none"}]}]})
    assert r.status_code == 200
    # Joined as vLLM joins parts (a newline), so two fields never run together on one line.
    assert assistant.calls[-1][0] == [
        {"role": "user", "content": "Diagnosis: hypertension\nAllergies: none"}]


def test_request_and_assistant_accept_the_same_roles(client, assistant):
    from assistant.messages import validate_messages

    messages = [{"role": "user", "content": "UTI"}, {"role": "tool", "content": "x"}]
    assert _chat(client, {"model": "rxassist", "messages": messages}).status_code == 200
    assert validate_messages(messages) == assistant.calls[-1][0]


def test_docs_and_schema_need_the_key():
    keyed = TestClient(create_app(ScriptedAssistant(), engine_healthy=lambda: True,
                                  api_keys=["k1"]))
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert_openai_error(keyed.get(path), 401)
        assert keyed.get(path, headers={"Authorization": "Bearer k1"}).status_code == 200
    schema = keyed.get("/openapi.json", headers={"Authorization": "Bearer k1"}).json()
    assert "ChatCompletionResponse" in schema["components"]["schemas"]
    assert "ConsultationResult" in schema["components"]["schemas"]


def test_streaming_reassembles_to_same_answer(client):
    r = _chat(client, {"model": "rxassist", "stream": True,
                       "messages": [{"role": "user", "content": "htn"}]})
    assert r.status_code == 200
    events = [line[6:] for line in r.text.splitlines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "1. amlodipine\nFlags: none\n"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["rxassist"]["recommendations"][0]["drug"] == "amlodipine"


def test_bad_json_is_400(client):
    r = client.post("/v1/chat/completions", content=b"{not json",
                    headers={"content-type": "application/json"})
    assert_openai_error(r, 400)


@pytest.mark.parametrize("body,param", [
    ({"model": "rxassist", "messages": []}, "messages"),
    ({"model": "rxassist"}, "messages"),
    ({"messages": [{"role": "user", "content": "x"}]}, "model"),
    ({"model": "rxassist", "messages": [{"role": "wizard", "content": "x"}]}, "messages.0.role"),
    ({"model": "rxassist", "messages": [{"role": "system", "content": "only system"}]}, None),
    ({"model": "rxassist", "messages": "hello"}, "messages"),
])
def test_invalid_requests_are_400(client, body, param):
    err = assert_openai_error(_chat(client, body), 400, param)
    assert err["type"] == "invalid_request_error"


def test_oversized_message_is_400_and_server_keeps_serving(client):
    big = "a" * (MAX_MESSAGE_CHARS + 1)
    assert_openai_error(_chat(client, {"model": "rxassist",
                                       "messages": [{"role": "user", "content": big}]}), 400,
                        "messages.0.content")
    assert _chat(client, {"model": "rxassist",
                          "messages": [{"role": "user", "content": "htn"}]}).status_code == 200


def test_one_megabyte_body_is_413(client):
    big = "a" * (1024 * 1024 * 3)
    r = _chat(client, {"model": "rxassist", "messages": [{"role": "user", "content": big}]})
    assert_openai_error(r, 413)


def test_unknown_model_is_404(client):
    err = assert_openai_error(_chat(client, {"model": "gpt-17", "messages": [
        {"role": "user", "content": "htn"}]}), 404, "model")
    assert err["type"] == "not_found_error"


def test_engine_down_is_503(client):
    assert_openai_error(_chat(client, {"model": "rxassist", "messages": [
        {"role": "user", "content": "engine down"}]}), 503)


def test_unexpected_error_is_500_without_leaking_text():
    c = TestClient(create_app(ScriptedAssistant(), engine_healthy=lambda: True),
                   raise_server_exceptions=False)
    r = _chat(c, {"model": "rxassist", "messages": [{"role": "user", "content": "boom"}]})
    err = assert_openai_error(r, 500)
    assert "secret" not in err["message"]


def test_unknown_route_is_openai_404(client):
    assert_openai_error(client.get("/v1/nothing"), 404)


def test_split_for_stream_keeps_every_character():
    text = "Flags:\n- allergy\n\n1. x\nend"
    assert "".join(split_for_stream(text)) == text
