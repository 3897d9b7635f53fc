"""Stateless replicas for real: two `rxassist serve --model-url` processes share one real vLLM
engine (the model port of an `rxassist serve` started for this module), consultations go
through both, one conversation hops between them, and the shipped nginx example balances them
where nginx is installed."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import MODEL_API_KEY, free_port, running_serve, tail

# The engine's start on a busy 2-core machine can take most of the default 900 s by itself.
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(1800)]

REPO = Path(__file__).resolve().parents[2]
CONSULT = ("58 year old man, essential hypertension, no known allergies, currently taking "
           "metformin.")


def start_replica(model_url: str, log: Path, *extra: str) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "rxassist.cli", "serve", "--model-url", model_url,
           "--model-api-key", MODEL_API_KEY, *extra]
    env = {k: v for k, v in os.environ.items() if k != "RXASSIST_API_KEY"}
    env["PYTHONPATH"] = str(REPO)
    with open(log, "w") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL, start_new_session=True)


@contextmanager
def replica(model_url: str, tmp: Path, name: str):
    port = free_port()
    log = tmp / f"{name}.log"
    proc = start_replica(model_url, log, "--port", str(port))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600   # Gradio and torch imports on a busy shared machine
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"replica {name} exited {proc.returncode}:\n{tail(log)}")
            try:
                if httpx.get(f"{url}/health", timeout=10).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"replica {name} not healthy in 600 s:\n{tail(log)}")
            time.sleep(1)
        yield url, port
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        # No consultation text in a replica's log, whatever the tests sent.
        text = log.read_text(errors="replace")
        assert "hypertension" not in text and "metformin" not in text


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """One engine for the module: a single LoRA engine without torch.compile (the layout a plain
    `vllm serve --enable-lora --lora-modules ...` lists), which starts fastest; the merged
    layout's model list is covered by test_remote_unit.py."""
    with running_serve(tmp_path_factory, "--merge-default", "off", "--enforce-eager") as server:
        yield server


@pytest.fixture(scope="module")
def replicas(engine, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("replicas")
    with ExitStack() as stack:
        a = stack.enter_context(replica(engine.model_url, tmp, "a"))
        b = stack.enter_context(replica(engine.model_url, tmp, "b"))
        yield a, b


def client(url: str) -> openai.OpenAI:
    # One turn took over 300 s on the shared machine; the server's deadline is 900 s.
    return openai.OpenAI(base_url=f"{url}/v1", api_key="EMPTY", max_retries=0, timeout=840)


def recommend(url: str, messages: list[dict]) -> dict:
    r = client(url).chat.completions.create(model="rxassist", messages=messages)
    return {"content": r.choices[0].message.content, "rx": r.model_extra["rxassist"]}


def drugs(turn: dict) -> list[str]:
    return [rec["drug"] for rec in turn["rx"]["recommendations"]]


def test_consultations_through_both_replicas_on_one_engine(replicas):
    (a, _), (b, _) = replicas
    via_a = recommend(a, [{"role": "user", "content": CONSULT}])
    via_b = recommend(b, [{"role": "user", "content": CONSULT}])
    assert drugs(via_a) and drugs(via_a) == drugs(via_b)   # one engine, temperature 0
    assert via_a["rx"]["patient"]["age"] == 58
    # Both list what the engine serves, the default adapter included.
    for url in (a, b):
        ids = [m.id for m in client(url).models.list()]
        assert ids[:2] == ["rxassist", "rxassist:base"] and len(ids) >= 3


def test_one_conversation_hops_between_replicas(replicas):
    (a, _), (b, _) = replicas
    first = [{"role": "user", "content": "58 year old man with essential hypertension"}]
    asked = recommend(a, first)
    assert asked["rx"]["missing_fields"]       # replica A asks for what is missing
    follow = first + [{"role": "assistant", "content": asked["content"]},
                      {"role": "user", "content": "no known allergies, currently taking "
                                                  "metformin"}]
    answered = recommend(b, follow)            # replica B answers from the history alone
    assert answered["rx"]["status"] == "recommended" and drugs(answered)


def test_streaming_through_a_replica(replicas):
    (a, _), _ = replicas
    chunks = list(client(a).chat.completions.create(
        model="rxassist", stream=True, messages=[{"role": "user", "content": CONSULT}]))
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra["rxassist"]["recommendations"]


def test_engine_without_the_default_adapter_refuses_start(engine):
    r = subprocess.run([sys.executable, "-m", "rxassist.cli", "serve", "--port",
                        str(free_port()), "--model-url", engine.model_url, "--model-api-key",
                        MODEL_API_KEY, "--default-adapter", "ward-7-adapter"],
                       capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert r.returncode == 2, r.stderr
    assert "does not serve the default adapter 'ward-7-adapter'" in r.stderr
    assert "Traceback" not in r.stderr


def nginx_config(template: str, listen: int, ports: list[int], tmp: Path) -> str:
    """The shipped example with this test's ports; logs and temp files under `tmp`."""
    conf = template.replace("listen 127.0.0.1:8100;", f"listen 127.0.0.1:{listen};")
    conf = re.sub(r"server 127\.0\.0\.1:8111 ", f"server 127.0.0.1:{ports[0]} ", conf)
    conf = re.sub(r"server 127\.0\.0\.1:8112 ", f"server 127.0.0.1:{ports[1]} ", conf)
    temps = "".join(f"    {k}_temp_path {tmp}/{k};\n" for k in
                    ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log warn;\n"
            f"events {{ worker_connections 256; }}\nhttp {{\n{temps}{conf}\n}}\n")


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_shipped_nginx_example_balances_the_replicas(replicas, tmp_path):
    (a, pa), (b, pb) = replicas
    listen = free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(nginx_config((REPO / "deploy" / "nginx" / "rxassist.conf").read_text(),
                                 listen, [pa, pb], tmp_path))
    subprocess.run(["nginx", "-p", str(tmp_path), "-c", str(conf)], check=True, timeout=30)
    lb = f"http://127.0.0.1:{listen}"
    try:
        assert httpx.get(f"{lb}/health", timeout=10).status_code == 200
        turns = [recommend(lb, [{"role": "user", "content": CONSULT}]) for _ in range(2)]
        assert drugs(turns[0]) and drugs(turns[0]) == drugs(turns[1])
        chunks = list(client(lb).chat.completions.create(
            model="rxassist", stream=True, messages=[{"role": "user", "content": CONSULT}]))
        assert chunks[-1].model_extra["rxassist"]["recommendations"]
        ui = httpx.get(f"{lb}/ui/", timeout=30, follow_redirects=True)
        assert ui.status_code == 200 and "gradio" in ui.text.lower()
    finally:
        subprocess.run(["nginx", "-p", str(tmp_path), "-c", str(conf), "-s", "quit"],
                       timeout=30)
