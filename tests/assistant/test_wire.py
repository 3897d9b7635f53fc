"""What the model client (recommend.model_client, on the openai client) sends to vLLM for the
assistant, and how its failures map to rxassist errors: an httpx MockTransport, no network."""

from __future__ import annotations

import asyncio
import json

import pytest

from assistant import Assistant, AssistantConfig
from rxassist.errors import ModelUnavailable, NotFound
from recommend.prompt import SYSTEM_PROMPT, response_format
from tests.fake_model import FakeModel, first

MESSAGE = [{"role": "user", "content": "40 yo man, sinusitis, NKDA"}]


def assistant_over(fake: FakeModel, **config) -> Assistant:
    cfg = AssistantConfig(model_base_url="http://vllm.test/v1", base_model="smollm2",
                          adapters=["fa"], default_adapter="fa", **config)
    return Assistant(cfg, model_client=fake.client(**{
        k: v for k, v in cfg.model_settings().model_dump().items() if k != "base_url"}))


def test_request_carries_the_shared_prompt_and_the_candidate_enum():
    fake = FakeModel(first())
    reply = asyncio.run(assistant_over(fake).respond(MESSAGE, model="rxassist:base"))
    body = fake.requests[0]
    names = reply.result.to_dict()["candidates"]
    assert body["model"] == "smollm2" and names and "amoxicillin" in names
    assert body["response_format"] == response_format(names, 3)
    assert "structured_outputs" not in body and body["max_tokens"] == 96
    assert body["messages"][0] == {"role": "system", "content": SYSTEM_PROMPT.format(k=3)}
    user = body["messages"][1]["content"]
    assert user.startswith("Patient:\nAge: 40 years")
    assert all(f"- {n}:" in user for n in names)        # the prompt carries the shortlist
    assert len(body["messages"]) == 2   # only the shared prompt, never the chat history
    assert reply.result.to_dict()["recommendations"][0]["drug"] == names[0]
    assert reply.result.to_dict()["usage"] == {"prompt_tokens": 100, "completion_tokens": 10}
    asyncio.run(assistant_over(fake, compact_json=True, recommendations=2).respond(MESSAGE))
    assert fake.requests[1]["model"] == "fa"
    assert fake.requests[1]["structured_outputs"]["disable_any_whitespace"] is True
    assert fake.requests[1]["response_format"]["json_schema"]["schema"]["properties"][
        "choices"]["maxItems"] == 2


def test_cut_off_json_is_reported_not_guessed():
    fake = FakeModel('{"choices": ["amox', finish_reason="length")
    reply = asyncio.run(assistant_over(fake).respond(MESSAGE))
    assert reply.result.to_dict()["model_output"] == "truncated" and not reply.result.to_dict()["recommendations"]
    assert "cut off" in reply.content


@pytest.mark.parametrize("status, error", [(500, ModelUnavailable), (503, ModelUnavailable),
                                           (404, NotFound), (400, ModelUnavailable)])
def test_http_errors_map_to_rxassist_errors(status, error):
    with pytest.raises(error):
        asyncio.run(assistant_over(FakeModel(status=status)).respond(MESSAGE))
