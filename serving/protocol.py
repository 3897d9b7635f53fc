"""Pydantic models of the OpenAI-compatible assistant API, requests and responses.

Requests validate themselves; the messages inside them are the assistant's own `ChatMessage`
(assistant.messages), so the API and the chat UI accept exactly the same turns. Responses are
typed as vLLM types its own: the structured result rides along as `rxassist`, a
`ConsultationResult`, serialised as docs/formats.md shows it.
"""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, field_serializer, \
    field_validator, model_serializer, model_validator

from recommend.schemas import ConsultationResult
# The assistant owns the size policy (its UI path never passes through HTTP); the API rejects
# the same sizes early, with the offending field named, before any work is done.
from assistant.messages import NO_USER_TEXT, ChatMessage, TextPart, has_user_text, no_surrogates
from assistant.policy import MAX_CHARS as MAX_MESSAGE_CHARS
from assistant.policy import MAX_MESSAGES
from serving.api_limits import MAX_BODY_BYTES

MAX_MODEL_CHARS = 128     # model ids are short registered names (assistant.config)
MAX_USER_CHARS = 256

__all__ = ["MAX_BODY_BYTES", "MAX_MESSAGE_CHARS", "MAX_MESSAGES", "ChatMessage", "TextPart",
           "ChatCompletionRequest", "ChatCompletionResponse", "ChatCompletionChunk",
           "ModelList", "completion", "completion_chunks", "model_list"]


class ChatCompletionRequest(BaseModel):
    # OpenAI clients send many optional sampling fields; they are accepted and ignored because
    # the assistant decodes with its own safe settings.
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1, max_length=MAX_MODEL_CHARS)
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    stream: bool = False
    user: str | None = Field(None, max_length=MAX_USER_CHARS)

    @field_validator("model", "user")
    @classmethod
    def _plain(cls, v):
        return no_surrogates(v)

    @model_validator(mode="after")
    def _has_user_turn(self):
        if not has_user_text(self.messages):
            raise ValueError(NO_USER_TEXT)
        return self

    def plain_messages(self) -> list[dict[str, str]]:
        return [{"role": m.role, "content": m.text()} for m in self.messages]


# The typed result becomes JSON here and nowhere else on the way out: docs/formats.md's shape
# (optional extras left out when empty), for the whole response and the last stream chunk.
WireResult = Annotated[ConsultationResult, PlainSerializer(ConsultationResult.to_dict)]


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def _now() -> int:
    return int(time.time())


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class CompletionChoice(BaseModel):
    index: int = 0
    message: ResponseMessage
    finish_reason: Literal["stop"] = "stop"


class ChatCompletionResponse(BaseModel):
    id: str = Field(default_factory=_completion_id)
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=_now)
    model: str
    choices: list[CompletionChoice]
    rxassist: WireResult


class DeltaMessage(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None


class StreamChoice(BaseModel):
    index: int = 0
    delta: DeltaMessage
    finish_reason: Literal["stop"] | None = None

    @field_serializer("delta")
    def _delta(self, delta: DeltaMessage) -> dict[str, Any]:
        return delta.model_dump(exclude_none=True)


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[StreamChoice]
    rxassist: WireResult | None = None     # on the last chunk only

    @model_serializer(mode="wrap")
    def _without_empty_result(self, handler) -> dict[str, Any]:
        d = handler(self)
        if self.rxassist is None:
            d.pop("rxassist", None)
        return d


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=_now)
    owned_by: str = "rxassist"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


def completion(model: str, content: str, result: ConsultationResult) -> ChatCompletionResponse:
    return ChatCompletionResponse(model=model, rxassist=result, choices=[
        CompletionChoice(message=ResponseMessage(content=content))])


def completion_chunks(model: str, pieces: list[str],
                      result: ConsultationResult) -> list[ChatCompletionChunk]:
    """The same answer as `completion`, as OpenAI stream chunks; the last carries `rxassist`."""
    cid, created = _completion_id(), _now()

    def chunk(delta: DeltaMessage, finish: Literal["stop"] | None = None,
              rxassist: ConsultationResult | None = None) -> ChatCompletionChunk:
        return ChatCompletionChunk(id=cid, created=created, model=model, rxassist=rxassist,
                                   choices=[StreamChoice(delta=delta, finish_reason=finish)])

    return [chunk(DeltaMessage(role="assistant", content="")),
            *(chunk(DeltaMessage(content=p)) for p in pieces),
            chunk(DeltaMessage(), "stop", result)]


def model_list(ids: list[str]) -> ModelList:
    now = _now()
    return ModelList(data=[ModelCard(id=i, created=now) for i in ids])
