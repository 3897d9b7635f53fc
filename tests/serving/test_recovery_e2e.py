"""The engines come back: kill a vLLM engine under a running `rxassist serve` (the default-adapter
engine, then the LoRA engine: each is supervised on its own); /health says so with 503 +
Retry-After, and after the supervisor's restart the next request through it succeeds.

Also: a full consultation carrying a recognisable patient string leaves no trace of it in the
serve log or the engine log."""

from __future__ import annotations

import os
import signal
import time

import httpx
import psutil
import pytest

from rxassist.paths import rxassist_home

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1500)]

MARKER = "Zqxjvbrandtwell"   # a patient string no log line would contain by chance
CONSULT = (f"Patient {MARKER}, 58 year old man, essential hypertension, no known allergies, "
           f"currently taking metformin. {MARKER} says hello.")


def _engine_pids(rx_server) -> dict[str, int]:
    """The engine processes `serve` started, by role: "main" (the merged default adapter on
    CPUs; the only engine on GPUs) and "lora" (base model + other adapters, when there are two).
    Each leads its own process group; the model port itself is the router inside `serve`."""
    engines = []
    for child in psutil.Process(rx_server.proc.pid).children(recursive=True):
        try:
            cmd = child.cmdline()
            if "serving.vllm_entry" in cmd and os.getpgid(child.pid) == child.pid:
                engines.append((child.pid, "--enable-lora" in cmd))
        except (psutil.NoSuchProcess, ProcessLookupError):
            continue
    if len(engines) == 1:
        return {"main": engines[0][0]}
    roles = {("lora" if lora else "main"): pid for pid, lora in engines}
    assert len(engines) == 2 and set(roles) == {"main", "lora"}, engines
    return roles


def _wait_health(rx_server, status: int, within_s: float) -> httpx.Response:
    deadline = time.monotonic() + within_s
    while True:
        h = httpx.get(f"{rx_server.api_url}/health", timeout=5)
        if h.status_code == status:
            return h
        assert rx_server.proc.poll() is None, "rxassist serve itself died"
        assert time.monotonic() < deadline, f"/health never answered {status}"
        time.sleep(0.5)


def _chat(rx_server, content: str) -> httpx.Response:
    return httpx.post(f"{rx_server.api_url}/v1/chat/completions", timeout=600,
                      json={"model": "rxassist", "messages": [{"role": "user", "content": content}]})


def test_patient_text_leaves_no_trace_in_any_log(rx_server):
    r = _chat(rx_server, CONSULT)
    assert r.status_code == 200, r.text
    # And through the error paths: a bad field and an unknown model, both carrying the marker.
    assert _chat(rx_server, f"Age: 200, {MARKER}").status_code < 500
    bad = httpx.post(f"{rx_server.api_url}/v1/chat/completions", timeout=60,
                     json={"model": MARKER * 20, "messages": [{"role": "user", "content": MARKER}]})
    assert 400 <= bad.status_code < 500 and MARKER * 2 not in bad.text
    time.sleep(1)
    logs = [rx_server.log_path, rxassist_home() / "logs" / f"engine-{rx_server.model_port}.log"]
    lora_log = rxassist_home() / "logs" / f"engine-{rx_server.model_port}-lora.log"
    logs += [lora_log] if lora_log.is_file() else []   # the LoRA engine's, when there are two
    for path in logs:
        assert path.is_file(), path
        assert MARKER.lower() not in path.read_text(errors="replace").lower(), path


def test_engine_killed_is_restarted_and_serves_again(rx_server):
    os.killpg(_engine_pids(rx_server)["main"], signal.SIGKILL)
    h = _wait_health(rx_server, 503, 30)
    assert h.headers.get("retry-after") and h.json()["error"]["type"] == "model_unavailable"
    during = _chat(rx_server, "58 year old man, hypertension, no known allergies, no medications")
    assert during.status_code in (200, 503), during.text   # 200 only if it came back already
    if during.status_code == 503:
        assert during.headers.get("retry-after")
    _wait_health(rx_server, 200, 900)
    after = _chat(rx_server, "58 year old man, hypertension, no known allergies, no medications")
    assert after.status_code == 200, after.text
    assert after.json()["rxassist"]["status"] in ("recommended", "needs_info")


def test_lora_engine_killed_is_restarted_on_its_own(rx_server):
    pids = _engine_pids(rx_server)
    if "lora" not in pids:
        pytest.skip("one engine serves everything here (GPU or --merge-default off)")
    os.killpg(pids["lora"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while "lora engine" not in (h := _wait_health(rx_server, 503, 30)).json()["error"]["message"]:
        assert time.monotonic() < deadline, h.text   # /health names the engine being restarted
        time.sleep(0.2)
    assert h.headers.get("retry-after")
    assert _engine_pids(rx_server).get("main") == pids["main"]   # the default engine was spared
    _wait_health(rx_server, 200, 900)
    base = httpx.post(f"{rx_server.model_url}/chat/completions", timeout=600,
                      headers=rx_server.model_headers,
                      json={"model": rx_server.base_model_name, "max_tokens": 8,
                            "messages": [{"role": "user", "content": "hello"}]})
    assert base.status_code == 200, base.text
    after = _chat(rx_server, "58 year old man, hypertension, no known allergies, no medications")
    assert after.status_code == 200, after.text
