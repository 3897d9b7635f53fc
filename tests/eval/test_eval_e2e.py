"""One small real run: the shipped test subset replayed through the real vLLM server."""

from __future__ import annotations

import json

import pytest

from rxassist.cli import main
from rxassist.paths import SHIPPED_DATA_DIR

SUBSET = SHIPPED_DATA_DIR / "cases" / "nhanes-2013-2014-test-200.jsonl"
CONTRACT_KEYS = {"n_cases", "model", "output_rate", "accuracy", "ingredient_accuracy", "recall",
                 "jaccard", "f1", "appropriateness", "duplicate_rate"}


def answerable_cases(path, n: int):
    """The first n held-out cases the recommendation layer has candidates for, as a case file:
    on thin evidence it abstains without asking the model, which these runs do not test."""
    from recommend.pipeline import RecommendSettings, prepare
    from rxassist.cases import read_cases

    cases = [c for c in read_cases(SUBSET).cases
             if prepare(c.patient, c.diagnosis, RecommendSettings()).messages is not None][:n]
    assert len(cases) == n
    path.write_text("".join(c.model_dump_json() + "\n" for c in cases))
    return path


@pytest.mark.e2e
def test_eval_run_against_real_vllm_server(vllm_server, tmp_path, capsys):
    out = tmp_path / "run"
    cases = answerable_cases(tmp_path / "cases.jsonl", 3)
    argv = ["eval", "run", "--cases", str(cases), "--base-url", vllm_server.base_url,
            "--model", vllm_server.model_name, "--out", str(out), "--limit", "3",
            "--no-progress", "--max-tokens", "200"]
    assert main(argv) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert CONTRACT_KEYS <= set(metrics)
    assert metrics["n_cases"] == 3 and metrics["complete"] is True
    assert metrics["model"] == vllm_server.model_name
    records = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert len(records) == 3 and all(r["error"] is None or r["raw"] is not None for r in records)
    # vLLM's structured output makes the answer parse: the tiny model still answers in schema.
    assert metrics["output_rate"] == 1.0
    # A rerun resumes: nothing left to ask, same metrics.
    assert main(argv) == 0
    assert json.loads((out / "metrics.json").read_text())["n_cases"] == 3
    assert "resuming: 3 case(s) already done, 0 to go" in capsys.readouterr().err


@pytest.mark.e2e
def test_eval_run_against_real_assistant_api(rx_server, tmp_path):
    import httpx

    base_url = f"{rx_server.api_url}/v1"
    model = httpx.get(f"{base_url}/models", timeout=30).json()["data"][0]["id"]
    out = tmp_path / "assistant"
    cases = answerable_cases(tmp_path / "cases.jsonl", 2)
    assert main(["eval", "run", "--cases", str(cases), "--target", "assistant",
                 "--base-url", base_url, "--model", model, "--out", str(out),
                 "--limit", "2", "--no-progress"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert CONTRACT_KEYS <= set(metrics) and metrics["n_cases"] == 2 and metrics["complete"]
    records = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    # Both cases state every field and have candidates: each reply recommends, only drugs
    # from its own shortlist, and the text the clinician reads names the first of them.
    for r in records:
        assert r["error"] is None and r["output"], r
        drugs = [d["drug"] for d in r["output"]]
        assert r["candidates"] and set(drugs) <= set(r["candidates"]), r
        assert drugs[0] in r["raw"], r
