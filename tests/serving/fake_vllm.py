"""A FAKE vLLM OpenAI server on a loopback port, for unit tests of `serve --model-url` only.

It lists models shaped like vLLM's `/v1/models` (adapters with `parent`), checks a bearer key,
and answers chat completions by choosing the first candidate of the request's enum schema. A
test flips `mode` to make it fail the way a real remote can: "error" (HTTP 500 with an error
object), "garbage" (200 with a body that is not a completion), "unhealthy" (/health 503);
`stop()` makes it unreachable. The real engine is exercised by the end-to-end tests.
"""

from __future__ import annotations

import json
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from tests.fake_model import enum_names


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vllm_cards(base: str, adapters: list[str], *, max_model_len: int = 2048) -> list[dict]:
    cards = [{"id": base, "object": "model", "owned_by": "vllm", "root": f"/models/{base}",
              "parent": None, "max_model_len": max_model_len}]
    return cards + [{"id": a, "object": "model", "owned_by": "vllm", "root": f"/adapters/{a}",
                     "parent": base, "max_model_len": max_model_len} for a in adapters]


class FakeVllm:
    def __init__(self, cards: list[dict], key: str | None, port: int | None = None):
        self.cards, self.key = cards, key
        self.port = port or free_port()
        self.mode = "ok"
        self.chat_requests: list[dict] = []
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _app(self) -> FastAPI:
        app = FastAPI()

        def denied(request: Request) -> JSONResponse | None:
            if self.key and request.headers.get("authorization") != f"Bearer {self.key}":
                return JSONResponse({"error": "Unauthorized"}, status_code=401)
            return None

        @app.get("/health")
        def health():
            return PlainTextResponse("", status_code=503 if self.mode == "unhealthy" else 200)

        @app.get("/v1/models")
        def models(request: Request):
            return denied(request) or {"object": "list", "data": self.cards}

        @app.post("/v1/chat/completions")
        async def chat(request: Request):
            if (d := denied(request)) is not None:
                return d
            body = json.loads(await request.body())
            self.chat_requests.append(body)
            if self.mode == "error":
                return JSONResponse({"error": {"message": "engine core died", "type":
                                               "InternalServerError", "code": 500}},
                                    status_code=500)
            if self.mode == "garbage":
                return PlainTextResponse("<html>bad gateway</html>", status_code=200)
            ids = {c["id"] for c in self.cards}
            if body.get("model") not in ids:
                return JSONResponse({"error": {"message": f"The model `{body.get('model')}` "
                                               "does not exist.", "type": "NotFoundError",
                                               "code": 404}}, status_code=404)
            return {"id": "fake", "object": "chat.completion", "created": 0,
                    "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {
                        "role": "assistant",
                        "content": json.dumps({"choices": enum_names(body)[:1]})}}],
                    "usage": {"prompt_tokens": 100, "completion_tokens": 8, "total_tokens": 108}}

        return app

    def start(self) -> "FakeVllm":
        self._server = uvicorn.Server(uvicorn.Config(self._app(), host="127.0.0.1",
                                                     port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake vLLM did not start")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            self._thread.join(timeout=10)
            self._server = None
