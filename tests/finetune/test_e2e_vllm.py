"""A checkpoint trained on the embedded base model is served by the real vLLM engine."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from finetune.config import FinetuneConfig
from finetune.install import install_adapter
from finetune.trainer import train

from .conftest import write_cases


@pytest.mark.e2e
def test_trained_checkpoint_is_served_by_vllm(rx_server, tmp_path):
    cases = write_cases(tmp_path / "cases.jsonl")
    # Cheap but real: the embedded SmolLM2 base, FA-LoRA, two steps of one example.
    config = FinetuneConfig.build(cases=cases, out=tmp_path / "run", method="fa-lora", rank=16,
                                  batch_size=1, max_steps=2, save_steps=1, threads=1)
    report = train(config, progress=False)
    assert report["steps"] == 2
    name = f"e2e-fa-lora-r16-{int(time.time())}"
    install_adapter(tmp_path / "run" / "checkpoint-2", name, rx_server.adapter_dir)

    models_url = f"{rx_server.model_url}/models"
    deadline = time.monotonic() + 180
    auth = rx_server.model_headers   # the model API needs its own key
    while name not in [m["id"] for m in
                       httpx.get(models_url, timeout=10, headers=auth).json()["data"]]:
        assert time.monotonic() < deadline, f"{name} never appeared in {models_url}"
        time.sleep(2)

    reply = httpx.post(f"{rx_server.model_url}/chat/completions", timeout=300,
                       headers=rx_server.model_headers, json={
        "model": name, "max_tokens": 16, "temperature": 0,
        "messages": [{"role": "user", "content": "Diagnosis: Type 2 diabetes mellitus"}]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["model"] == name
    assert body["choices"][0]["message"]["content"]
