"""The messages of one request, validated in one place: the API's request model
(serving.protocol) is built from `ChatMessage`, and the assistant validates every history it is
given (the chat UI's too) with `validate_messages`, so both paths accept exactly the same turns.

Content is a string or a list of text parts; parts are joined with a newline, as vLLM joins
them, so two parts never run together into one word.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError, field_validator

from rxassist.errors import InvalidInput, describe_validation
from assistant.policy import MAX_CHARS, MAX_MESSAGES

Role = Literal["system", "user", "assistant", "developer", "tool"]
_SURROGATE = re.compile("[\ud800-\udfff]")


def no_surrogates(text: str | None) -> str | None:
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

    _text = field_validator("text")(classmethod(lambda cls, v: no_surrogates(v)))


def _part_text(part: Any) -> str | None:
    if isinstance(part, TextPart):
        return part.text
    if isinstance(part, dict) and part.get("type") == "text":
        return str(part.get("text", ""))
    return None     # an image or file part: no text for the consultation


def join_parts(content: Any) -> str:
    """OpenAI message content as one text, for a validated message and for the chat UI's
    history (whose parts are plain dicts) alike."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = (_part_text(p) for p in content)
        return "\n".join(t for t in texts if t is not None)
    return str(content)


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: Role
    content: str | list[TextPart] | None = None

    @field_validator("content")
    @classmethod
    def _size(cls, v):
        text = join_parts(v)
        if len(text) > MAX_CHARS:
            raise ValueError(f"message is {len(text)} characters; at most {MAX_CHARS} "
                             "are accepted")
        no_surrogates(text)
        return v

    def text(self) -> str:
        return join_parts(self.content)


Messages = TypeAdapter(list[ChatMessage])


def has_user_text(messages: list[ChatMessage]) -> bool:
    return any(m.role == "user" and m.text().strip() for m in messages)


NO_USER_TEXT = "messages must contain at least one non-empty user message"


def validate_messages(messages: Any) -> list[dict]:
    """A history as plain {role, content} dicts; InvalidInput naming the field otherwise."""
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("messages must be a non-empty list of {role, content} objects",
                           param="messages")
    if len(messages) > MAX_MESSAGES:
        raise InvalidInput(f"at most {MAX_MESSAGES} messages per request", param="messages")
    try:
        checked = Messages.validate_python(messages)
    except ValidationError as e:
        message, param = describe_validation(e.errors(), prefix="messages.", first_only=True,
                                             whole="messages")
        raise InvalidInput(message, param=f"messages.{param}" if param else "messages") from None
    if not has_user_text(checked):
        raise InvalidInput(NO_USER_TEXT, param="messages")
    return [{"role": m.role, "content": m.text()} for m in checked]
