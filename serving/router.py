"""The model API port in front of two engines: requests go to the engine serving their `model`.

On CPUs the default adapter is served merged by an engine without LoRA (vLLM turns torch.compile
off and runs a plain-PyTorch LoRA path for every token once LoRA is enabled: measured 23% slower
at 8 concurrent requests and 45% slower at 1, docs/benchmarks.md), and the base model with
every other adapter by a second engine with LoRA. Clients still see one vLLM-compatible API:
this thin proxy forwards each request unchanged (streaming included) and joins `/v1/models`.
It checks the model key itself (every path but /health), so nothing reaches past it without the
key, not even routes vLLM leaves open or a model list while the LoRA engine is starting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from serving.auth import MODEL_KEY_HINT, BearerAuth, KeyCheck
from serving.errors import MAX_ECHO_CHARS, MODEL_RETRY_AFTER_S, error_body

# Hop-by-hop headers (RFC 9110 section 7.6.1) and lengths the proxy recomputes.
_DROP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade",
         "proxy-connection", "te", "trailer"}


class Upstream:
    """One engine as the router sees it: its URL, whether it is up, and how to wait for it."""

    # Once an engine has answered, a not-healthy one is being restarted by the supervisor (or
    # briefly slow): wait this long, then answer 503 + Retry-After rather than hold the client.
    RESTART_WAIT_S = 5.0

    def __init__(self, url: str, healthy: Callable[[], bool], alive: Callable[[], bool],
                 wait_s: float):
        self.url, self.healthy, self.alive, self.wait_s = url.rstrip("/"), healthy, alive, wait_s
        self.was_up = False

    async def ready(self) -> bool:
        """True once the engine answers; waits while it is still starting for the first time
        (the LoRA engine starts after the default one, so the default path is ready first)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (min(self.wait_s, self.RESTART_WAIT_S) if self.was_up
                                  else self.wait_s)
        while loop.time() < deadline:
            if await asyncio.to_thread(self.healthy):
                self.was_up = True
                return True
            if not self.alive():
                return False
            await asyncio.sleep(0.5)
        return False


def create_router(main: Upstream, lora: Upstream, lora_names: Callable[[], set[str]],
                  lora_cards: Callable[[], list[dict]] | None = None, *, api_key: str):
    """`main` serves the merged default adapter; `lora` the base model and the other adapters;
    `lora_names()` is the current set of names `lora` serves (grows with hot-added adapters);
    `lora_cards()` lists them while `lora` is still starting, so listing models never waits;
    `api_key` is the model API's key, required on every path but /health."""
    client = httpx.AsyncClient(timeout=httpx.Timeout(None, connect=10))

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        await client.aclose()

    app = FastAPI(title="rxassist model API router", docs_url=None, redoc_url=None,
                  openapi_url=None, lifespan=lifespan)

    def unavailable(what: str) -> JSONResponse:
        return JSONResponse(error_body(f"the model engine for {what} is not available",
                                       "model_unavailable"), status_code=503,
                            headers={"Retry-After": str(MODEL_RETRY_AFTER_S)})

    @app.get("/health")
    async def health():
        if await asyncio.to_thread(main.healthy) and lora.alive():
            return JSONResponse({}, status_code=200)
        return unavailable("this server")

    @app.get("/v1/models")
    async def models(request: Request):
        headers = _forward_headers(request.headers)
        data: list = []
        for up in (main, lora):
            if up is lora and lora_cards is not None and lora.alive() and \
                    not await asyncio.to_thread(lora.healthy):
                data += lora_cards()  # still starting: its names are known already
                continue
            if not await up.ready():
                return unavailable("listing models")
            r = await client.get(f"{up.url}/v1/models", headers=headers)
            if r.status_code != 200:
                return JSONResponse(r.json(), status_code=r.status_code)
            data += r.json().get("data", [])
        return {"object": "list", "data": data}

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH"])
    async def forward(path: str, request: Request):
        body = await request.body()
        up = lora if _model_of(body) in lora_names() else main
        if not await up.ready():
            return unavailable((_model_of(body) or path)[:MAX_ECHO_CHARS])
        req = client.build_request(request.method, f"{up.url}/{path}", content=body,
                                   params=request.query_params,
                                   headers=_forward_headers(request.headers))
        try:
            r = await client.send(req, stream=True)
        except httpx.HTTPError:
            return unavailable((_model_of(body) or path)[:MAX_ECHO_CHARS])
        return StreamingResponse(r.aiter_raw(), status_code=r.status_code,
                                 headers=_forward_headers(r.headers),
                                 background=BackgroundTask(r.aclose))

    return BearerAuth(app, KeyCheck([api_key]), ("/health",), hint=MODEL_KEY_HINT)


def _forward_headers(headers) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() not in _DROP}


def _model_of(body: bytes) -> str | None:
    if not body:
        return None
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    model = payload.get("model") if isinstance(payload, dict) else None
    return model if isinstance(model, str) else None
