"""`rxassist serve --model-url`: reading a remote's model list, start-up refusals, and what a
client sees when the remote fails. The remote here is a FAKE vLLM on loopback
(tests/serving/fake_vllm.py); the real engine is in test_replicas_e2e.py."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from rxassist.cli import main
from rxassist.errors import ConfigError
from rxassist.paths import SHIPPED_ADAPTERS_DIR
from serving.remote import ModelCard, normalize_url, read_models
from tests.serving.fake_vllm import FakeVllm, free_port, vllm_cards

REPO = Path(__file__).resolve().parents[2]
KEY = "remote-model-key-0123456789abcdef"
DEFAULT = (SHIPPED_ADAPTERS_DIR / "DEFAULT_ADAPTER").read_text().strip()
BASE = "smollm2-135m-instruct"
CONSULT = ("58 year old man, essential hypertension, no known allergies, currently taking "
           "metformin")


def cards(raw: list[dict]) -> list[ModelCard]:
    return [ModelCard.read(c) for c in raw]


# -- the remote's model list -------------------------------------------------------------------
@pytest.mark.parametrize("given, expected", [
    ("http://10.0.0.5:8001", "http://10.0.0.5:8001/v1"),
    ("http://10.0.0.5:8001/v1/", "http://10.0.0.5:8001/v1"),
    ("https://gw.example/llm/v1", "https://gw.example/llm/v1"),
])
def test_url_is_the_openai_api_root(given, expected):
    assert normalize_url(given) == expected


@pytest.mark.parametrize("bad", ["10.0.0.5:8001", "ftp://h/v1", "http://h:99999/v1",
                                 "http://h:8001/v1?x=1"])
def test_bad_url_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="--model-url"):
        normalize_url(bad)


def test_vllm_lora_layout():
    m = read_models(cards(vllm_cards("llama-8b", ["a1", "a2"], max_model_len=8192)), "a1", None)
    assert (m.base, m.adapters, m.default, m.max_model_len) == ("llama-8b", ("a1", "a2"), "a1",
                                                                8192)


def test_rxassist_merged_layout_default_without_parent():
    # Another `rxassist serve`'s model port: the default adapter is served merged (no parent).
    raw = vllm_cards(BASE, ["other"])
    raw.insert(0, {"id": DEFAULT, "root": "/merged/x", "parent": None})
    m = read_models(cards(raw), DEFAULT, None)
    assert m.base == BASE and set(m.adapters) == {DEFAULT, "other"}


def test_merged_default_beside_base_only():
    raw = [{"id": DEFAULT, "root": "/merged/x", "parent": None},
           {"id": BASE, "root": "/models/" + BASE, "parent": None}]
    assert read_models(cards(raw), DEFAULT, None).base == BASE


def test_other_bases_and_unaddressable_names_are_not_offered():
    raw = vllm_cards("llama-8b", ["a1"]) + [{"id": "org/other-model", "parent": None},
                                             {"id": "x", "parent": "org/other-model"}]
    m = read_models(cards(raw), "a1", "llama-8b")
    assert m.adapters == ("a1",) and set(m.ignored) == {"org/other-model", "x"}


def test_ambiguous_base_asks_for_base_model():
    raw = [{"id": "m1", "parent": None}, {"id": "m2", "parent": None}]
    with pytest.raises(ValueError, match="--base-model"):
        read_models(cards(raw), None, None)
    assert read_models(cards(raw), None, "/models/m2").base == "m2"


def test_base_model_named_as_default_adapter_says_how():
    with pytest.raises(ValueError, match="--default-adapter base"):
        read_models(cards(vllm_cards(BASE, ["a1"])), BASE, None)


def test_missing_default_is_a_lookup_error():
    with pytest.raises(LookupError):
        read_models(cards(vllm_cards(BASE, [])), DEFAULT, None)


# -- start-up: each refusal is one paragraph and an exit code ----------------------------------
def serve(capsys, *args: str) -> tuple[int, str]:
    rc = main(["serve", "--port", str(free_port()), *args])
    err = capsys.readouterr().err.strip()
    return rc, err


def test_non_loopback_remote_without_key_is_refused(capsys):
    # Refused before any connection is tried (10.255.255.1 is never contacted).
    rc, err = serve(capsys, "--model-url", "http://10.255.255.1:8001/v1")
    assert rc == 2 and "--model-api-key" in err and "another machine" in err


@pytest.fixture()
def fake():
    server = FakeVllm(vllm_cards(BASE, [DEFAULT]), key=KEY).start()
    yield server
    server.stop()


def test_remote_without_the_default_adapter_fails_clearly(capsys):
    server = FakeVllm(vllm_cards(BASE, ["some-other-adapter"]), key=KEY).start()
    try:
        rc, err = serve(capsys, "--model-url", server.url, "--model-api-key", KEY)
    finally:
        server.stop()
    assert rc == 2
    assert f"does not serve the default adapter {DEFAULT!r}" in err
    assert "some-other-adapter" in err and "--default-adapter" in err
    assert "\n" not in err and "Traceback" not in err   # one paragraph


def test_wrong_model_key_fails_clearly(capsys, fake):
    rc, err = serve(capsys, "--model-url", fake.url, "--model-api-key", "wrong-key-0123456789abc")
    assert rc == 2 and "refused the model key" in err and "\n" not in err


def test_unreachable_remote_fails_clearly(capsys):
    rc, err = serve(capsys, "--model-url", f"http://127.0.0.1:{free_port()}/v1")
    assert rc == 1 and "no model server answered" in err and "\n" not in err


def test_named_default_adapter_missing(capsys, fake):
    rc, err = serve(capsys, "--model-url", fake.url, "--model-api-key", KEY,
                    "--default-adapter", "not-there")
    assert rc == 2 and "'not-there'" in err


# -- at request time: a real replica process against the fake remote --------------------------
API_KEY = "replica-api-key-0123456789abcdef"


@pytest.fixture(scope="module")
def replica():
    remote = FakeVllm(vllm_cards(BASE, [DEFAULT]), key=KEY).start()
    port = free_port()
    cmd = [sys.executable, "-m", "rxassist.cli", "serve", "--port", str(port), "--model-url",
           remote.url, "--model-api-key", KEY, "--api-key", API_KEY, "--adapter-rescan", "1",
           "--enforce-eager"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    env.pop("RXASSIST_API_KEY", None)
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if proc.poll() is not None:
            pytest.fail(f"replica exited {proc.returncode}: {proc.stdout.read()}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            pytest.fail("replica not healthy in 180 s")
        time.sleep(0.5)
    yield remote, url, proc
    proc.send_signal(signal.SIGTERM)
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
    remote.stop()
    # Nothing of a consultation is ever logged, whatever happened above.
    assert "hypertension" not in out and "metformin" not in out
    assert "--enforce-eager is ignored with --model-url" in out


def chat(url: str, key: str | None = API_KEY) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{url}/v1/chat/completions", headers=headers, timeout=60,
                      json={"model": "rxassist", "messages": [{"role": "user",
                                                               "content": CONSULT}]})


def assert_error_object(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert {"message", "type", "param", "code"} <= set(err)
    assert "Traceback" not in r.text
    return err


def test_replica_answers_through_the_remote_and_keeps_its_keys(replica):
    remote, url, _ = replica
    assert_error_object(chat(url, key=None), 401)
    r = chat(url)
    assert r.status_code == 200, r.text
    assert r.json()["rxassist"]["recommendations"]
    assert remote.chat_requests[-1]["model"] == DEFAULT   # 'rxassist' is the default adapter
    ids = [m["id"] for m in httpx.get(f"{url}/v1/models", headers={
        "Authorization": f"Bearer {API_KEY}"}).json()["data"]]
    assert ids == ["rxassist", "rxassist:base", f"rxassist:{DEFAULT}"]


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_remote_failures_reach_the_client_as_error_objects(replica, mode):
    remote, url, _ = replica
    remote.mode = mode
    try:
        err = assert_error_object(chat(url), 503)
    finally:
        remote.mode = "ok"
    assert err["type"] == "model_unavailable"
    assert chat(url).status_code == 200   # and the replica keeps serving


def health_when(url: str, status: int, timeout_s: float = 15) -> httpx.Response:
    """/health once the background check has seen the change (it runs every 2 s)."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = httpx.get(f"{url}/health", timeout=5)
        if r.status_code == status or time.monotonic() > deadline:
            return r
        time.sleep(0.5)


def test_health_reports_the_remote_state(replica):
    remote, url, _ = replica
    remote.mode = "unhealthy"
    try:
        r = health_when(url, 503)
        assert_error_object(r, 503)
        assert r.json()["error"]["code"] == "engine_unhealthy" and r.headers["retry-after"]
    finally:
        remote.mode = "ok"
    assert health_when(url, 200).status_code == 200


def test_new_remote_adapter_is_offered(replica):
    remote, url, _ = replica
    remote.cards = remote.cards + vllm_cards(BASE, ["hospital-new"])[1:]
    deadline = time.monotonic() + 15
    headers = {"Authorization": f"Bearer {API_KEY}"}
    while time.monotonic() < deadline:
        ids = [m["id"] for m in httpx.get(f"{url}/v1/models", headers=headers).json()["data"]]
        if "rxassist:hospital-new" in ids:
            return
        time.sleep(0.5)
    pytest.fail(f"the remote's new adapter was not offered: {ids}")


def test_unreachable_remote_is_503_with_retry_after_and_recovers(replica):
    remote, url, _ = replica
    remote.stop()
    try:
        err = assert_error_object(r := chat(url), 503)
        assert int(r.headers["retry-after"]) > 0 and err["type"] == "model_unavailable"
        h = health_when(url, 503)
        assert h.status_code == 503 and h.json()["error"]["code"] == "engine_unreachable"
        assert int(h.headers["retry-after"]) > 0
    finally:
        remote.start()   # same port: the engine is back
    assert chat(url).status_code == 200
    assert health_when(url, 200).status_code == 200
