"""`rxassist finetune federated` end to end: 2 sites, 1 round, a tiny step budget on the embedded
model in a real Flower simulation; `rxassist serve` hot-adds the adapter and answers with it."""

from __future__ import annotations

import json
import time

import httpx
import pytest

pytest.importorskip("flwr")

from rxassist.cli import main  # noqa: E402
from rxassist.paths import REPO_ROOT  # noqa: E402


@pytest.mark.e2e
def test_federated_adapter_is_hot_added_and_answers(rx_server, tmp_path, capsys):
    name = f"e2e-federated-{int(time.time())}"
    out = rx_server.adapter_dir / name  # written atomically: appears only when complete
    rc = main(["finetune", "federated", "--cases",
               str(REPO_ROOT / "data/cases/nhanes-2013-2014-train.jsonl"), "--sites", "2",
               "--max-site-cases", "12", "--rounds", "1", "--local-steps", "1",
               "--batch-size", "1", "--threads", "1", "--parallel-sites", "1", "--out", str(out)])
    assert rc == 0, capsys.readouterr().err
    report = json.loads((out / "federated_report.json").read_text())
    assert [s["name"] for s in report["sites"]] == ["hospital-1", "hospital-2"]
    assert report["rounds"] == 1 and report["steps_total"] == 2

    model_id = f"rxassist:{name}"
    deadline = time.monotonic() + 180
    while True:
        ids = [m["id"] for m in httpx.get(f"{rx_server.api_url}/v1/models", timeout=10)
               .json()["data"]]
        if model_id in ids:
            break
        assert time.monotonic() < deadline, f"{model_id} never listed: {ids}"
        time.sleep(2)
    reply = httpx.post(f"{rx_server.api_url}/v1/chat/completions", timeout=300, json={
        "model": model_id, "messages": [{"role": "user", "content":
                                         "58 yo woman, type 2 diabetes, no allergies, "
                                         "no current medications, eGFR normal"}]})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["rxassist"]["model"] == model_id
    assert body["choices"][0]["message"]["content"]
