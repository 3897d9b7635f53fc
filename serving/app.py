"""FastAPI wiring only: routes, SSE framing, the Gradio mount and the protective layers.

The conversation logic lives in `assistant`; request/response shapes in `serving.protocol`;
error mapping in `serving.errors`; keys in `serving.auth`; bounded work in `serving.limits`.

    SafeErrors -> BearerAuth (all but /health and /ui) -> BodyLimit -> FastAPI routes
"""

from __future__ import annotations

import json
import re
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from serving import protocol
from serving.api_limits import ApiLimits
from serving.auth import BearerAuth, KeyCheck
from serving.errors import MODEL_RETRY_AFTER_S, SafeErrors, error_body, install_error_handlers
from serving.limits import BodyLimit, Gate, run_guarded

OPEN_PATHS = ("/health", "/ui")


def split_for_stream(text: str) -> list[str]:
    """Stream line by line: the answer is complete and guardrail-checked before the first byte
    leaves (flags must never trail the drugs they concern), so chunks only pace the display."""
    return [p for p in re.split(r"(?<=\n)", text) if p]


def create_app(assistant, *, engine_healthy: Callable[[], bool], ui=None,
               api_keys: list[str] | None = None, limits: ApiLimits = ApiLimits(),
               engine_state: Callable[[], str] | None = None):
    app = FastAPI(title="rxassist", version="0.1.0",
                  description="Prescription assistant API (OpenAI-compatible). "
                              "It supports clinicians and does not replace them.")
    install_error_handlers(app)
    keys = KeyCheck(api_keys or [])
    gate = Gate(limits.concurrent, limits.queue, limits.retry_after_s)

    @app.get("/health")
    def health():
        if engine_healthy():
            return {"status": "ok"}
        state = engine_state() if engine_state else "not ready"
        return JSONResponse(error_body(f"model engine is {state}", "model_unavailable",
                                       code="engine_" + state.split()[0]),
                            status_code=503, headers={"Retry-After": str(MODEL_RETRY_AFTER_S)})

    @app.get("/v1/models", response_model=protocol.ModelList)
    def models():
        return JSONResponse(protocol.model_list(assistant.model_ids()).model_dump(mode="json"))

    # response_model documents the shape in /openapi.json; the body is the model's own dump.
    @app.post("/v1/chat/completions", response_model=protocol.ChatCompletionResponse)
    async def chat_completions(req: protocol.ChatCompletionRequest, request: Request):
        turn = await run_guarded(request, gate,
                                 lambda: assistant.respond(req.plain_messages(), model=req.model),
                                 limits.deadline_s)
        if not req.stream:
            return JSONResponse(protocol.completion(req.model, turn.content, turn.result)
                                .model_dump(mode="json"))
        chunks = protocol.completion_chunks(req.model, split_for_stream(turn.content),
                                            turn.result)

        def sse():
            for c in chunks:
                yield f"data: {json.dumps(c.model_dump(mode='json'), ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream")

    if ui is not None:
        import gradio as gr

        # The same keys open the chat: any user name, the key as password.
        auth = (lambda _user, password: keys.ok(password)) if keys else None
        app = gr.mount_gradio_app(app, ui, path="/ui", auth=auth, run_history=False,
                                  footer_links=[], show_error=False)
    # Gradio reads its own (small) bodies; its uploads are off in this UI.
    guarded = BearerAuth(BodyLimit(app, limits.max_body_bytes), keys, OPEN_PATHS)
    return SafeErrors(guarded)


def ready_server(app, host: str, port: int, api_keys: list[str], engine, model_note: str,
                 on_ready):
    """The API's server for both `rxassist serve` modes: `on_ready` runs only once the port is
    bound, so nothing starts behind an API that could not come up."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            if self.should_exit:  # the port could not be bound
                return
            on_ready()
            base = f"http://{host}:{port}"
            print(f"rxassist is ready (it supports clinicians, it does not replace them)\n"
                  f"  assistant API  {base}/v1\n  chat UI        {base}/ui\n"
                  f"  model API      {engine.base_url}  ({model_note})"
                  + ("" if api_keys else "\n  no --api-key: open to this machine's users only"),
                  flush=True)

    # access_log off: URLs carry no patient data, but request logs are not needed by default.
    return Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                 access_log=False))
