"""Fixtures for the assistant's unit tests: a real Assistant over a FAKE model server
(tests/fake_model.py: the real openai client on an httpx MockTransport) and the real guardrails
and candidate index."""

from __future__ import annotations

import pytest

from assistant import Assistant, AssistantConfig
from tests.fake_model import FakeModel, first


@pytest.fixture
def make_assistant():
    def make(output=first(), adapters=("rx-fa-lora",), default_adapter="rx-fa-lora", **config):
        fake = FakeModel(output)
        # These tests pin the model's own choices; the evidence fill has its own tests.
        config.setdefault("fill_with_evidence", False)
        cfg = AssistantConfig(model_base_url="http://127.0.0.1:9/v1", base_model="smollm2",
                              adapters=list(adapters), default_adapter=default_adapter, **config)
        return Assistant(cfg, model_client=fake.client()), fake
    return make
