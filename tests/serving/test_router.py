"""The model-port router: each request reaches the engine serving its model, streaming intact,
/v1/models joins both engines' lists, and nothing but /health passes without the model key.
Two small HTTP servers stand in for the vLLM engines (the real pair is exercised by
tests/serving/test_serve_e2e.py)."""

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

KEY = "model-key-for-router-tests-0123"
AUTH = {"Authorization": f"Bearer {KEY}"}


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

    @app.get("/metrics")
    def metrics():   # vLLM leaves some routes outside /v1 without its own key check
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

    url, s3 = _serve(create_router(up(main_url), up(lora_url), lambda: set(lora_names),
                                   api_key=KEY))
    yield url, lora_names
    for s in (s1, s2, s3):
        s.should_exit = True


def test_requests_reach_the_engine_serving_their_model(router):
    url, _ = router
    ask = lambda m: httpx.post(f"{url}/v1/chat/completions",  # noqa: E731
                               json={"model": m, "messages": []}, headers=AUTH).json()
    assert ask("default-adapter")["engine"] == "main"
    assert ask("base-model")["engine"] == "lora"
    assert ask("other")["engine"] == "lora"
    assert ask("default-adapter")["auth"] == AUTH["Authorization"]  # the engines check it too
    assert "error" in ask("nobody")  # unknown names get the engine's own error


def test_every_path_but_health_needs_the_model_key(router):
    url, _ = router
    for method, path in (("GET", "/v1/models"), ("POST", "/v1/chat/completions"),
                         ("GET", "/metrics"), ("POST", "/v1/load_lora_adapter")):
        for headers in ({}, {"Authorization": "Bearer wrong-key-0123456789abc"},
                        {"Authorization": KEY}):
            r = httpx.request(method, f"{url}{path}", headers=headers,
                              json={"model": "default-adapter", "messages": []})
            assert r.status_code == 401, (path, headers)
            assert r.json()["error"]["type"] == "authentication_error"
            assert "model API key" in r.json()["error"]["message"]
    assert httpx.get(f"{url}/health").status_code == 200
    assert httpx.get(f"{url}/metrics", headers=AUTH).json()["engine"] == "main"


def test_model_list_joins_both_engines_and_hot_added_adapters_route_to_lora(router):
    url, lora_names = router
    ids = [m["id"] for m in httpx.get(f"{url}/v1/models", headers=AUTH).json()["data"]]
    assert ids == ["default-adapter", "base-model", "other"]
    # no HTTP adapter loading through the router: the path goes nowhere special
    r = httpx.post(f"{url}/v1/load_lora_adapter", headers=AUTH,
                   json={"lora_name": "new", "lora_path": "/x"})
    assert r.status_code == 404
    lora_names.append("new")   # what the watcher's hot-add does (ServingEngines.load_adapter)
    assert httpx.post(f"{url}/v1/chat/completions", headers=AUTH,
                      json={"model": "new", "messages": []}).json()["engine"] == "lora"
    assert "new" in [m["id"] for m in httpx.get(f"{url}/v1/models", headers=AUTH).json()["data"]]


def test_streaming_passes_through(router):
    url, _ = router
    with httpx.stream("POST", f"{url}/v1/chat/completions", headers=AUTH,
                      json={"model": "base-model", "messages": [], "stream": True}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "".join(r.iter_text()) == "data: a\n\ndata: b\n\ndata: [DONE]\n\n"


def test_listing_models_does_not_wait_for_a_starting_lora_engine():
    main_url, s1 = _serve(_fake_engine("main", ["default-adapter"]))
    starting = Upstream("http://127.0.0.1:9", lambda: False, lambda: True, wait_s=0.5)
    main = Upstream(main_url, lambda: True, lambda: True, wait_s=5)
    cards = lambda: [{"id": "base-model", "object": "model"}]  # noqa: E731
    url, s2 = _serve(create_router(main, starting, lambda: {"base-model"}, cards, api_key=KEY))
    try:
        t0 = time.monotonic()
        ids = [m["id"] for m in httpx.get(f"{url}/v1/models", headers=AUTH,
                                          timeout=3).json()["data"]]
        assert ids == ["default-adapter", "base-model"] and time.monotonic() - t0 < 2
        # a request for a name the starting engine serves waits, then fails cleanly
        r = httpx.post(f"{url}/v1/chat/completions", json={"model": "base-model"}, timeout=5,
                       headers=AUTH)
        assert r.status_code == 503 and r.json()["error"]["type"] == "model_unavailable"
        assert r.headers["retry-after"]
    finally:
        s1.should_exit = s2.should_exit = True


def test_an_engine_that_was_up_and_is_restarting_gets_a_quick_503():
    state = {"healthy": True}
    main_url, s1 = _serve(_fake_engine("main", ["default-adapter"]))
    restarting = Upstream(main_url, lambda: state["healthy"], lambda: True, wait_s=600)
    restarting.RESTART_WAIT_S = 0.5
    lora = Upstream("http://127.0.0.1:9", lambda: False, lambda: False, wait_s=1)
    url, s2 = _serve(create_router(restarting, lora, lambda: set(), api_key=KEY))
    try:
        ask = lambda: httpx.post(f"{url}/v1/chat/completions", headers=AUTH,  # noqa: E731
                                 json={"model": "default-adapter", "messages": []}, timeout=10)
        assert ask().json()["engine"] == "main"
        state["healthy"] = False       # killed; the supervisor is starting it again
        t0 = time.monotonic()
        r = ask()
        assert r.status_code == 503 and r.headers["retry-after"] and time.monotonic() - t0 < 3
    finally:
        s1.should_exit = s2.should_exit = True
