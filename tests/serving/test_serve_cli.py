"""`rxassist serve` start-up failures: a clear one-paragraph error and exit code, never a hang."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

from tests.conftest import free_port


def serve(*args, timeout=600):
    return subprocess.run([sys.executable, "-m", "rxassist.cli", "serve", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_busy_api_port_exits_2_before_starting_the_engine():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = serve("--port", str(port), "--model-port", str(free_port()), timeout=60)
    assert r.returncode == 2
    assert f"port {port}" in r.stderr and "already in use" in r.stderr


def test_missing_model_folder_exits_2(tmp_path):
    r = serve("--base-model", str(tmp_path / "nope"), "--port", str(free_port()), timeout=60)
    assert r.returncode == 2
    assert "does not exist" in r.stderr


def test_bad_lora_rank_exits_2():
    r = serve("--max-lora-rank", "24", "--port", str(free_port()), timeout=60)
    assert r.returncode == 2 and "max-lora-rank" in r.stderr


def test_reachable_host_without_a_key_refuses_to_start(monkeypatch):
    monkeypatch.delenv("RXASSIST_API_KEY", raising=False)
    r = serve("--host", "0.0.0.0", "--port", str(free_port()), timeout=60)
    assert r.returncode == 2
    assert "--api-key" in r.stderr and "RXASSIST_API_KEY" in r.stderr


def test_exposed_model_api_needs_a_known_key():
    r = serve("--model-host", "0.0.0.0", "--port", str(free_port()), timeout=60)
    assert r.returncode == 2 and "--model-api-key" in r.stderr


def test_weak_key_is_refused():
    r = serve("--api-key", "short", "--port", str(free_port()), timeout=60)
    assert r.returncode == 2 and "at least 16" in r.stderr


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_engine_dying_at_startup_reports_its_log(tmp_path):
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "llama", "architectures": ["LlamaForCausalLM"]}))
    api, model = free_port(), free_port()
    r = serve("--base-model", str(broken), "--port", str(api), "--model-port", str(model))
    assert r.returncode == 1, r.stderr
    assert "the model engine exited" in r.stderr and "Last lines of" in r.stderr
    with socket.socket() as s:  # nothing left listening
        s.bind(("127.0.0.1", model))


def test_unknown_reader_exits_2_naming_the_choices():
    r = serve("--reader", "gpt", "--port", str(free_port()), timeout=60)
    assert r.returncode == 2
    assert "--reader" in r.stderr and "rules" in r.stderr and "both" in r.stderr
