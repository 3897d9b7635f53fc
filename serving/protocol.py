"""Pydantic models of the OpenAI-compatible assistant API: requests validate themselves."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The assistant owns the size policy (its UI path never passes through HTTP); the API rejects
# the same sizes early, with the offending field named, before any work is done.
from assistant.policy import MAX_CHARS as MAX_MESSAGE_CHARS
from assistant.policy import MAX_MESSAGES

MAX_BODY_BYTES = 2 * 1024 * 1024
MAX_MODEL_CHARS = 128     # model ids are short registered names (assistant.config)
MAX_USER_CHARS = 256
_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(text: str | None) -> str | None:
    # A lone surrogate (legal in JSON "\ud800" escapes) is not text: it cannot be encoded,
    # tokenised or written to a file, so it is refused here, naming its field.
    if text is not None and _SURROGATE.search(text):
        raise ValueError("contains an unpaired surrogate (\\ud800-\\udfff), which is not valid "
                         "Unicode text")
    return text


class TextPart(BaseModel):
    model_config = ConfigDict(extra="ignore")
    type: Literal["text"]
    text: str

    _text = field_validator("text")(classmethod(lambda cls, v: _no_surrogates(v)))


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"]
    content: str | list[TextPart] | None = None

    @field_validator("content")
    @classmethod
    def _size(cls, v):
        text = v if isinstance(v, str) or v is None else "".join(p.text for p in v)
        if text is not None and len(text) > MAX_MESSAGE_CHARS:
            raise ValueError(f"message is {len(text)} characters; at most {MAX_MESSAGE_CHARS} "
                             "are accepted")
        _no_surrogates(text)
        return v

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(p.text for p in self.content)


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
        return _no_surrogates(v)

    @model_validator(mode="after")
    def _has_user_turn(self):
        if not any(m.role == "user" and m.text().strip() for m in self.messages):
            raise ValueError("messages must contain at least one non-empty user message")
        return self

    def plain_messages(self) -> list[dict[str, str]]:
        return [{"role": m.role, "content": m.text()} for m in self.messages]


def _completion_id() -> str:
    return f"chatcmpl-{uuid.uuid4().hex}"


def completion(model: str, content: str, rxassist: dict) -> dict[str, Any]:
    return {"id": _completion_id(), "object": "chat.completion", "created": int(time.time()),
            "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "stop"}],
            "rxassist": rxassist}


def completion_chunks(model: str, pieces: list[str], rxassist: dict) -> list[dict[str, Any]]:
    """The same answer as `completion`, as OpenAI stream chunks; the last carries `rxassist`."""
    cid, created = _completion_id(), int(time.time())

    def chunk(delta: dict, finish: str | None = None) -> dict[str, Any]:
        return {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": p}) for p in pieces]
    last = chunk({}, "stop")
    last["rxassist"] = rxassist
    chunks.append(last)
    return chunks


def model_list(ids: list[str]) -> dict[str, Any]:
    now = int(time.time())
    return {"object": "list",
            "data": [{"id": i, "object": "model", "created": now, "owned_by": "rxassist"}
                     for i in ids]}
