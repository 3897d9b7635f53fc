"""Federated FA-LoRA on a tiny model built in the test: a real Flower simulation (Ray backend)."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("flwr")

from finetune.fed_config import FederatedConfig  # noqa: E402
from finetune.federated import REPORT_FILE, run_federated  # noqa: E402

from .conftest import CASES, write_cases  # noqa: E402

RANK = 8


def config(tiny_model_dir, tmp_path, **kw) -> FederatedConfig:
    cases = write_cases(tmp_path / "cases.jsonl", CASES * 4)
    opts = dict(cases=cases, out=tmp_path / "adapter", sites=2, rounds=1, local_steps=2,
                batch_size=2, lr=1e-2, rank=RANK, base_model=str(tiny_model_dir), alpha=100.0,
                parallel_sites=2, threads=1)
    opts.update(kw)
    return FederatedConfig.build(**opts)


@pytest.mark.slow
def test_server_sees_only_b_arrays_and_aggregate_metrics(tiny_model_dir, tmp_path):
    seen = []
    cfg = config(tiny_model_dir, tmp_path, rounds=2)
    report = run_federated(cfg, observer=seen.append)

    # long enough that random float bytes cannot contain them by chance
    case_text = {c["diagnosis"]["text"] for c in CASES} | {
        d for c in CASES for d in c["drugs"] if len(d) >= 8}
    assert len(seen) == 2 * 2  # two sites, two rounds
    for msg in seen:
        assert not msg.has_error()
        content = msg.content
        assert set(content.keys()) == {"arrays", "metrics"}
        assert not content.config_records  # no strings at all travel to the server
        keys = list(content["arrays"].keys())
        assert keys and all(".lora_B." in k for k in keys)
        assert set(content["metrics"].keys()) == {"num-examples", "train-loss"}
        blob = b"".join(a.data for a in content["arrays"].values())
        for text in case_text:
            assert text.encode() not in blob
    # the adapter: plain PEFT LoRA, B trained, report with sites/rounds/bytes
    out = cfg.out
    assert (out / "adapter_config.json").is_file() and (out / "adapter_model.safetensors").is_file()
    saved = json.loads((out / REPORT_FILE).read_text())
    assert saved == report
    assert [s["name"] for s in report["sites"]] == ["hospital-1", "hospital-2"]
    assert report["steps_total"] == 2 * 2 * 2 and report["dp"]["enabled"] is False
    b = report["bytes_per_round"]
    assert 0 < b["fa_lora_b_only"] < b["lora_a_and_b_equivalent"]
    assert report["per_round"][0]["bytes_to_sites"] * 2 == b["fa_lora_b_only"]
    from safetensors.numpy import load_file
    weights = load_file(str(out / "adapter_model.safetensors"))
    assert any("lora_B" in k and np.abs(v).sum() > 0 for k, v in weights.items())
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".adapter")]  # no leftovers

    # FedAvg: the adapter's B is the example-weighted mean of the last round's site B
    last = seen[-2:]
    weights_n = [m.content["metrics"]["num-examples"] for m in last]
    site_b = [{k: a.numpy() for k, a in m.content["arrays"].items()} for m in last]
    for key, value in weights.items():
        if "lora_B" not in key:
            continue
        full = next(k for k in site_b[0] if k.replace(".default", "") == key)
        mean = sum(w * b[full] for w, b in zip(weights_n, site_b)) / sum(weights_n)
        np.testing.assert_allclose(value, mean, rtol=1e-5, atol=1e-7)


@pytest.mark.slow
def test_dp_reports_epsilon_and_noise_changes_b(tiny_model_dir, tmp_path):
    cfg = config(tiny_model_dir, tmp_path, noise_multiplier=1.0, clipping_norm=0.5, delta=1e-3)
    report = run_federated(cfg)
    dp = report["dp"]
    assert dp["enabled"] and dp["noise_multiplier"] == 1.0 and dp["clipping_norm"] == 0.5
    assert dp["delta"] == 1e-3 and 0 < dp["epsilon"] < float("inf")
    assert report["aggregation"].startswith("fedavg, uniform")


@pytest.mark.slow
def test_failing_site_is_named_and_no_adapter_is_left(tiny_model_dir, tmp_path):
    from finetune.fed_apps import SiteFailed

    good = write_cases(tmp_path / "good.jsonl", CASES)
    # every drug unknown to the candidate lists: the site has nothing to train on and fails
    bad = write_cases(tmp_path / "bad.jsonl",
                      [{**c, "drugs": ["notadrugxyz"]} for c in CASES])
    cfg = config(tiny_model_dir, tmp_path, cases=good, sites=1,
                 site_files=[f"clinic-b={bad}"])
    with pytest.raises(SiteFailed) as err:
        run_federated(cfg)
    assert err.value.sites == ["clinic-b"] and err.value.exit_code == 1
    assert not cfg.out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".adapter")]
