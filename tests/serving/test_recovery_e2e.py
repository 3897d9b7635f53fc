"""The engine comes back: kill vLLM under a running `rxassist serve`; /health says so with 503 +
Retry-After, and after the supervisor's restart the next consultation succeeds.

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


def _engine_pid(model_port: int) -> int:
    for conn in psutil.net_connections(kind="tcp"):
        if conn.laddr and conn.laddr.port == model_port and conn.status == "LISTEN" and conn.pid:
            return conn.pid
    raise AssertionError(f"nothing listens on the model port {model_port}")


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
    for path in logs:
        assert path.is_file(), path
        assert MARKER.lower() not in path.read_text(errors="replace").lower(), path


def test_engine_killed_is_restarted_and_serves_again(rx_server):
    pid = _engine_pid(rx_server.model_port)
    os.killpg(os.getpgid(pid), signal.SIGKILL)
    deadline = time.monotonic() + 30
    while True:
        h = httpx.get(f"{rx_server.api_url}/health", timeout=5)
        if h.status_code == 503:
            break
        assert time.monotonic() < deadline, "health never noticed the dead engine"
        time.sleep(0.5)
    assert h.headers.get("retry-after") and h.json()["error"]["type"] == "model_unavailable"
    during = _chat(rx_server, "58 year old man, hypertension, no known allergies, no medications")
    assert during.status_code in (200, 503), during.text   # 200 only if it came back already
    if during.status_code == 503:
        assert during.headers.get("retry-after")
    deadline = time.monotonic() + 900
    while httpx.get(f"{rx_server.api_url}/health", timeout=5).status_code != 200:
        assert rx_server.proc.poll() is None, "rxassist serve itself died"
        assert time.monotonic() < deadline, "the engine did not come back"
        time.sleep(2)
    after = _chat(rx_server, "58 year old man, hypertension, no known allergies, no medications")
    assert after.status_code == 200, after.text
    assert after.json()["rxassist"]["status"] in ("recommended", "needs_info")
