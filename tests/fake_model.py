"""A FAKE model server for unit tests only: an httpx MockTransport under the real openai client.

`FakeModel(answer)` answers every chat completion with `answer(names, body)` (or a fixed string),
where `names` are the candidate names of the request's enum schema, so a test can say "choose
the first candidate" without knowing the shortlist. Requests are recorded. The real model is
exercised by the end-to-end tests under the heavy lock.
"""

from __future__ import annotations

import json
import threading
from typing import Callable

import httpx

from recommend.model_client import ModelClient, ModelSettings

Answer = Callable[[list[str], dict], str]


def first(n: int = 1) -> Answer:
    """An answer choosing the first n candidates (the shortlist is ranked by evidence)."""
    return lambda names, body: json.dumps({"choices": names[:n]})


def enum_names(body: dict) -> list[str]:
    fmt = body.get("response_format") or {}
    schema = (fmt.get("json_schema") or {}).get("schema") or {}
    items = (schema.get("properties", {}).get("choices") or {}).get("items") or {}
    if "$ref" in items:   # pydantic puts a Literal's enum inline; follow a $ref if it does not
        items = schema.get("$defs", {}).get(items["$ref"].split("/")[-1], {})
    return list(items.get("enum") or ([items["const"]] if "const" in items else []))


class FakeModel:
    def __init__(self, answer: str | Answer = first(), *, finish_reason: str = "stop",
                 status: int = 200):
        self.answer = answer
        self.finish_reason = finish_reason
        self.status = status
        self.requests: list[dict] = []
        self._lock = threading.Lock()

    @property
    def models(self) -> list[str]:
        """The served names asked for, first time each, in order."""
        return list(dict.fromkeys(r["model"] for r in self.requests))

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        with self._lock:
            self.requests.append(body)
        if self.status != 200:
            return httpx.Response(self.status, json={"error": {"message": "fake failure",
                                                               "type": "fake"}})
        content = self.answer if isinstance(self.answer, str) else self.answer(
            enum_names(body), body)
        return httpx.Response(200, json={
            "id": "fake", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "finish_reason": self.finish_reason,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 10, "total_tokens": 110}})

    def client(self, **settings) -> ModelClient:
        s = ModelSettings(**{"base_url": "http://fake-model/v1", "max_retries": 0, **settings})
        return ModelClient(s, transport=httpx.MockTransport(self.handle))
