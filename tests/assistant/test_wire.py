"""What the default chat model (langchain-openai's ChatOpenAI) sends to vLLM, and how its
failures map to rxassist errors: ChatOpenAI over an httpx MockTransport, no network."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from langchain_openai import ChatOpenAI

from assistant import Assistant, AssistantConfig
from rxassist.errors import ModelUnavailable, NotFound
from rxassist.prompt import SYSTEM_PROMPT, response_format

MESSAGE = [{"role": "user", "content": "40 yo man, sinusitis, NKDA"}]


def completion(content: str, finish_reason: str = "stop") -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "m",
            "choices": [{"index": 0, "finish_reason": finish_reason,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}


def assistant_over(handler, compact: bool = False) -> Assistant:
    config = AssistantConfig(model_base_url="http://vllm.test/v1", base_model="smollm2",
                             adapters=["fa"], default_adapter="fa", compact_json=compact)

    def factory(name):
        return ChatOpenAI(model=name, base_url=config.model_base_url, api_key="EMPTY",
                          max_retries=0, temperature=0, max_tokens=config.max_tokens,
                          http_async_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    return Assistant(config, chat_model_factory=factory)


def test_request_carries_the_shared_prompt_and_schema():
    seen = []

    def handler(request: httpx.Request):
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=completion(json.dumps({"recommendations": [
            {"drug": "amoxicillin", "rationale": "first line"}]})))

    reply = asyncio.run(assistant_over(handler).respond(MESSAGE, model="rxassist:base"))
    body = seen[0]
    assert body["model"] == "smollm2"
    assert body["response_format"] == response_format()
    assert "structured_outputs" not in body
    asyncio.run(assistant_over(handler, compact=True).respond(MESSAGE))
    assert seen[1]["model"] == "fa"
    assert seen[1]["structured_outputs"]["disable_any_whitespace"] is True
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT}
    assert body["messages"][1]["content"].startswith("Patient:\nAge: 40 years")
    assert len(body["messages"]) == 2   # only the shared prompt, never the chat history
    assert reply.rxassist["recommendations"][0]["ingredients"] == ["amoxicillin"]


def test_cut_off_json_is_reported_not_guessed():
    def handler(request):
        return httpx.Response(200, json=completion('{"recommendations": [{"drug": "amox',
                                                   finish_reason="length"))

    reply = asyncio.run(assistant_over(handler).respond(MESSAGE))
    assert reply.rxassist["model_output"] == "truncated" and not reply.rxassist["recommendations"]


@pytest.mark.parametrize("status, error", [(500, ModelUnavailable), (503, ModelUnavailable),
                                           (404, NotFound), (400, ModelUnavailable)])
def test_http_errors_map_to_rxassist_errors(status, error):
    def handler(request):
        return httpx.Response(status, json={"error": {"message": "nope", "type": "x"}})

    with pytest.raises(error):
        asyncio.run(assistant_over(handler).respond(MESSAGE))
