"""`rxassist serve` for real: vLLM CPU engine + assistant API + Gradio, over loopback."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

CONSULT = ("58 year old man, essential hypertension, no known allergies, "
           "currently taking metformin. Not pregnant obviously.")


def client(rx_server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{rx_server.api_url}/v1", api_key="EMPTY", max_retries=0,
                         timeout=300)


def test_health_and_model_lists(rx_server):
    assert httpx.get(f"{rx_server.api_url}/health").status_code == 200
    ids = [m.id for m in client(rx_server).models.list()]
    assert "rxassist" in ids and "rxassist:base" in ids
    engine_ids = [m["id"] for m in httpx.get(f"{rx_server.model_url}/models",
                                             headers=rx_server.model_headers).json()["data"]]
    assert rx_server.base_model_name in engine_ids
    for mid in ids:
        if mid.startswith("rxassist:") and mid != "rxassist:base":
            assert mid.split(":", 1)[1] in engine_ids  # every adapter is really in the engine


def test_model_api_needs_its_key_and_loads_no_adapter_by_path(rx_server, tmp_path):
    assert httpx.get(f"{rx_server.model_url}/models").status_code == 401
    assert httpx.get(f"{rx_server.model_url}/models",
                     headers={"Authorization": "Bearer wrong-key-0123456789"}).status_code == 401
    # vLLM's runtime load/unload routes are gone, even for the key holder.
    for route in ("load_lora_adapter", "unload_lora_adapter"):
        r = httpx.post(f"{rx_server.model_url}/{route}", headers=rx_server.model_headers,
                       json={"lora_name": "x", "lora_path": str(tmp_path)})
        assert r.status_code in (404, 405), (route, r.status_code)
    # A model name is never read as a path.
    r = httpx.post(f"{rx_server.model_url}/completions", headers=rx_server.model_headers,
                   json={"model": str(rx_server.adapter_dir), "prompt": "x", "max_tokens": 1})
    assert r.status_code == 404


def test_chat_turn_returns_answer_and_structured_result(rx_server):
    r = client(rx_server).chat.completions.create(
        model="rxassist", messages=[{"role": "user", "content": CONSULT}])
    content = r.choices[0].message.content
    assert content and "clinician" in content.lower()
    rx = r.model_extra["rxassist"]
    assert {"patient", "diagnosis", "recommendations", "flags", "missing_fields"} <= set(rx)
    assert rx["patient"]["age"] == 58 and rx["patient"]["sex"] == "male"
    for rec in rx["recommendations"]:
        assert rec["drug"] and isinstance(rec["ingredients"], list)
    # every flag has the guardrails contract shape
    for flag in rx["flags"]:
        assert {"kind", "severity", "message"} <= set(flag)


def test_streaming_ends_with_structured_result(rx_server):
    stream = client(rx_server).chat.completions.create(
        model="rxassist", stream=True, messages=[{"role": "user", "content": CONSULT}])
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert "recommendations" in chunks[-1].model_extra["rxassist"]


def test_bad_requests_get_openai_errors_and_server_keeps_serving(rx_server):
    c = client(rx_server)
    r = httpx.post(f"{rx_server.api_url}/v1/chat/completions", content=b"{oops",
                   headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    with pytest.raises(openai.NotFoundError):
        c.chat.completions.create(model="no-such-model",
                                  messages=[{"role": "user", "content": CONSULT}])
    with pytest.raises(openai.BadRequestError):
        c.chat.completions.create(model="rxassist", messages=[])
    with pytest.raises(openai.APIStatusError) as big:
        c.chat.completions.create(model="rxassist",
                                  messages=[{"role": "user", "content": "x" * (1024 * 1024)}])
    assert 400 <= big.value.status_code < 500
    assert "error" in big.value.response.json()
    ok = c.chat.completions.create(model="rxassist:base",
                                   messages=[{"role": "user", "content": CONSULT}])
    assert ok.choices[0].message.content


def test_gradio_ui_is_mounted(rx_server):
    from gradio_client import Client

    ui = Client(rx_server.ui_url, verbose=False)
    # The clinicians' chat itself, not any Gradio app: its own named actions are served.
    endpoints = ui.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/send", "/correct", "/new"} <= set(endpoints), sorted(endpoints)
    # Starting a new consultation answers with an empty chat and no result.
    out = ui.predict(api_name="/new")
    assert out[0] == "" and out[1] == []


def _save_random_adapter(base_dir: str, out, r: int = 8) -> None:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(base_dir)
    peft_model = get_peft_model(base, LoraConfig(r=r, lora_alpha=16,
                                                 target_modules=["q_proj", "v_proj"]))
    peft_model.save_pretrained(out)


def test_adapter_added_without_restart(rx_server):
    from rxassist.paths import resolve_base_model

    name = "hot-added-r8"
    tmp = rx_server.adapter_dir / f".{name}.partial"
    _save_random_adapter(resolve_base_model(None), tmp)
    tmp.rename(rx_server.adapter_dir / name)  # appear atomically, as an install would
    c = client(rx_server)
    deadline = time.monotonic() + 120
    while f"rxassist:{name}" not in [m.id for m in c.models.list()]:
        assert time.monotonic() < deadline, "hot-added adapter never appeared"
        time.sleep(1)
    engine_ids = [m["id"] for m in httpx.get(f"{rx_server.model_url}/models",
                                             headers=rx_server.model_headers).json()["data"]]
    assert name in engine_ids
    r = c.chat.completions.create(model=f"rxassist:{name}",
                                  messages=[{"role": "user", "content": CONSULT}])
    assert r.choices[0].message.content


def test_default_base_and_other_adapters_answer_on_one_model_port(rx_server):
    """The merged default engine and the LoRA engine sit behind one model port: every listed
    name answers there, with the assistant's model ids mapping onto them."""
    listed = [m["id"] for m in httpx.get(f"{rx_server.model_url}/models",
                                         headers=rx_server.model_headers).json()["data"]]
    models = openai.OpenAI(base_url=rx_server.model_url, api_key=rx_server.model_api_key,
                           max_retries=0, timeout=300)
    for name in listed:
        r = models.chat.completions.create(model=name, max_tokens=8, temperature=0,
                                           messages=[{"role": "user", "content": CONSULT}])
        assert r.model == name and r.choices[0].message.content is not None
    with pytest.raises(openai.NotFoundError):
        models.chat.completions.create(model="no-such-adapter", max_tokens=4,
                                       messages=[{"role": "user", "content": "hi"}])
    keyless = openai.OpenAI(base_url=rx_server.model_url, api_key="not-the-model-key-0123456",
                            max_retries=0, timeout=60)
    with pytest.raises(openai.AuthenticationError):   # the router checks the key itself
        keyless.chat.completions.create(model=listed[0], max_tokens=4,
                                        messages=[{"role": "user", "content": "hi"}])
