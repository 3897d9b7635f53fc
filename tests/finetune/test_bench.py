"""The GPU benchmark script runs end to end on CPU with --tiny (so we know it works)."""

from __future__ import annotations

import importlib.util
import json

import pytest

from rxassist.paths import REPO_ROOT


@pytest.mark.slow
def test_bench_finetune_gpu_tiny_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location(
        "bench_finetune_gpu", REPO_ROOT / "benchmarks" / "bench_finetune_gpu.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--tiny", "--steps", "1", "--warmup", "0",
                       "--json", str(tmp_path / "b.json")]) == 0
    out = json.loads((tmp_path / "b.json").read_text())
    assert {(r["method"], r["attn"]) for r in out["results"]} >= {
        ("lora", "eager"), ("fa-lora", "eager"), ("lora", "sdpa"), ("fa-lora", "sdpa"),
        ("fa-lora-peft", "sdpa")}
    # the SDPA rows say which kernel really ran (read from the profiler, not assumed)
    assert all(r["sdpa_kernels"] for r in out["results"] if r["attn"] == "sdpa")
    fa = {r["rank"]: r for r in out["params"] if r["method"] == "fa-lora"}
    lora = {r["rank"]: r for r in out["params"] if r["method"] == "lora"}
    # In the tiny shape the projections' fan-ins and fan-outs sum to the same 512: B = A.
    assert fa[16]["trainable_params"] * 2 == lora[16]["trainable_params"]
    assert "time x" in capsys.readouterr().out
