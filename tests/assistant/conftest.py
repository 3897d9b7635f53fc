"""Fixtures for the assistant's unit tests: a real Assistant over LangChain fake chat models."""

from __future__ import annotations

import itertools

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant import Assistant, AssistantConfig


class RecordingFactory:
    """factory(model_name) -> a fake chat model that answers `output` every time; remembers
    which served names were asked for and what messages each model saw."""

    def __init__(self, output: str):
        self.output = output
        self.names: list[str] = []

    def __call__(self, name: str):
        self.names.append(name)
        return GenericFakeChatModel(messages=itertools.repeat(AIMessage(content=self.output)))


@pytest.fixture
def make_assistant():
    def make(output: str = '{"recommendations": [{"drug": "amoxicillin", "rationale": "x"}]}',
             adapters=("rx-fa-lora",), default_adapter="rx-fa-lora"):
        factory = RecordingFactory(output)
        config = AssistantConfig(model_base_url="http://127.0.0.1:9/v1", base_model="smollm2",
                                 adapters=list(adapters), default_adapter=default_adapter)
        return Assistant(config, chat_model_factory=factory), factory
    return make
