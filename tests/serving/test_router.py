"""The model-port router: each request reaches the engine serving its model, streaming intact,
and /v1/models joins both engines' lists. Two small HTTP servers stand in for the vLLM engines
(the real pair is exercised by tests/serving/test_serve_e2e.py)."""

from __future__ import annotations

import socket
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from serving.router import Upstream, create_router


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fake_engine(tag: str, names: list[str]) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    def health():
        return {}

    @app.get("/v1/models")
    def models():
        return {"object": "list", "data": [{"id": n, "object": "model"} for n in names]}

    @app.post("/v1/chat/completions")
    async def chat(request: Request):
        body = await request.json()
        if body["model"] not in names:
            return {"error": {"message": "not found"}}
        if body.get("stream"):
            async def gen():
                for part in ("data: a\n\n", "data: b\n\n", "data: [DONE]\n\n"):
                    yield part
            return StreamingResponse(gen(), media_type="text/event-stream")
        return {"engine": tag, "model": body["model"],
                "auth": request.headers.get("authorization")}

    @app.post("/v1/load_lora_adapter")
    async def load(request: Request):
        names.append((await request.json())["lora_name"])
        return {"engine": tag}

    return app


def _serve(app) -> tuple[str, uvicorn.Server]:
    port = _port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


@pytest.fixture
def router():
    lora_names = ["base-model", "other"]
    main_url, s1 = _serve(_fake_engine("main", ["default-adapter"]))
    lora_url, s2 = _serve(_fake_engine("lora", lora_names))

    def up(url):
        def healthy():
            try:
                return httpx.get(f"{url}/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False
        return Upstream(url, healthy, lambda: True, wait_s=5)

    url, s3 = _serve(create_router(up(main_url), up(lora_url), lambda: set(lora_names)))
    yield url
    for s in (s1, s2, s3):
        s.should_exit = True


def test_requests_reach_the_engine_serving_their_model(router):
    ask = lambda m: httpx.post(f"{router}/v1/chat/completions",  # noqa: E731
                               json={"model": m, "messages": []},
                               headers={"Authorization": "Bearer k"}).json()
    assert ask("default-adapter")["engine"] == "main"
    assert ask("base-model")["engine"] == "lora"
    assert ask("other")["engine"] == "lora"
    assert ask("default-adapter")["auth"] == "Bearer k"  # the engine's API key still applies
    assert "error" in ask("nobody")  # unknown names get the engine's own error


def test_model_list_joins_both_engines_and_hot_added_adapters_route_to_lora(router):
    ids = [m["id"] for m in httpx.get(f"{router}/v1/models").json()["data"]]
    assert ids == ["default-adapter", "base-model", "other"]
    r = httpx.post(f"{router}/v1/load_lora_adapter", json={"lora_name": "new", "lora_path": "/x"})
    assert r.json()["engine"] == "lora"
    assert httpx.post(f"{router}/v1/chat/completions",
                      json={"model": "new", "messages": []}).json()["engine"] == "lora"
    assert httpx.get(f"{router}/health").status_code == 200


def test_streaming_passes_through(router):
    with httpx.stream("POST", f"{router}/v1/chat/completions",
                      json={"model": "base-model", "messages": [], "stream": True}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "".join(r.iter_text()) == "data: a\n\ndata: b\n\ndata: [DONE]\n\n"


def test_listing_models_does_not_wait_for_a_starting_lora_engine():
    main_url, s1 = _serve(_fake_engine("main", ["default-adapter"]))
    starting = Upstream("http://127.0.0.1:9", lambda: False, lambda: True, wait_s=0.5)
    main = Upstream(main_url, lambda: True, lambda: True, wait_s=5)
    cards = lambda: [{"id": "base-model", "object": "model"}]  # noqa: E731
    url, s2 = _serve(create_router(main, starting, lambda: {"base-model"}, cards))
    try:
        t0 = time.monotonic()
        ids = [m["id"] for m in httpx.get(f"{url}/v1/models", timeout=3).json()["data"]]
        assert ids == ["default-adapter", "base-model"] and time.monotonic() - t0 < 2
        # a request for a name the starting engine serves waits, then fails cleanly
        r = httpx.post(f"{url}/v1/chat/completions", json={"model": "base-model"}, timeout=5)
        assert r.status_code == 503 and r.json()["error"]["type"] == "model_unavailable"
    finally:
        s1.should_exit = s2.should_exit = True
