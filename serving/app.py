"""FastAPI wiring only: routes, body limits, SSE framing and the Gradio mount.

The conversation logic lives in `assistant`; request/response shapes in `serving.protocol`;
error mapping in `serving.errors`.
"""

from __future__ import annotations

import json
import re
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse

from serving import protocol
from serving.errors import error_body, install_error_handlers


def split_for_stream(text: str) -> list[str]:
    """Stream line by line: the answer is complete and guardrail-checked before the first byte
    leaves (flags must never trail the drugs they concern), so chunks only pace the display."""
    return [p for p in re.split(r"(?<=\n)", text) if p]


def create_app(assistant, *, engine_healthy: Callable[[], bool], ui=None) -> FastAPI:
    app = FastAPI(title="rxassist", version="0.1.0",
                  description="Prescription assistant API (OpenAI-compatible). "
                              "It supports clinicians and does not replace them.")
    install_error_handlers(app)

    @app.middleware("http")
    async def _limit_body(request: Request, call_next):
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > protocol.MAX_BODY_BYTES:
            return JSONResponse(error_body(
                f"request body is {int(length)} bytes; at most {protocol.MAX_BODY_BYTES} "
                "are accepted", "invalid_request_error", code="request_too_large"),
                status_code=413)
        return await call_next(request)

    @app.get("/health")
    def health():
        if engine_healthy():
            return {"status": "ok"}
        return JSONResponse(error_body("model engine is not ready", "model_unavailable"),
                            status_code=503)

    @app.get("/v1/models")
    def models():
        return protocol.model_list(assistant.model_ids())

    @app.post("/v1/chat/completions")
    async def chat_completions(req: protocol.ChatCompletionRequest):
        turn = await assistant.respond(req.plain_messages(), model=req.model)
        if not req.stream:
            return protocol.completion(req.model, turn.content, turn.rxassist)
        chunks = protocol.completion_chunks(req.model, split_for_stream(turn.content),
                                            turn.rxassist)

        def sse():
            for c in chunks:
                yield f"data: {json.dumps(c, ensure_ascii=False)}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(sse(), media_type="text/event-stream")

    if ui is not None:
        import gradio as gr
        app = gr.mount_gradio_app(app, ui, path="/ui")
    return app
