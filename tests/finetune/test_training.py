"""FA-LoRA keeps A exactly as initialised and trains B; counts, checkpoints and resume are right."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file
from transformers import AutoConfig, AutoModelForCausalLM

from finetune.config import DEFAULT_TARGET_MODULES, FinetuneConfig
from finetune.params import lora_param_formula
from finetune.trainer import attach_lora, train

RANK = 8


def run(tiny_model_dir, cases_file, out, **kw):
    opts = dict(cases=cases_file, out=out, base_model=str(tiny_model_dir), rank=RANK,
                batch_size=2, max_steps=3, save_steps=1, threads=1)
    opts.update(kw)
    return train(FinetuneConfig.build(**opts), progress=False)


def weights(out, step):
    return load_file(str(out / f"checkpoint-{step}" / "adapter_model.safetensors"))


def test_fa_lora_freezes_a_exactly_and_trains_b(tiny_model_dir, cases_file, tmp_path):
    report = run(tiny_model_dir, cases_file, tmp_path / "fa", method="fa-lora", lr=1e-2)
    # The A a fresh model gets from the same seed: what "as initialised" means.
    torch.manual_seed(0)
    fresh = attach_lora(AutoModelForCausalLM.from_pretrained(tiny_model_dir),
                        FinetuneConfig.build(cases=cases_file, out=tmp_path, rank=RANK,
                                             max_steps=1, save_steps=1))
    init = {k.replace(".default", ""): v for k, v in fresh.state_dict().items() if "lora_" in k}
    first, last = weights(tmp_path / "fa", 1), weights(tmp_path / "fa", 3)
    a_keys = [k for k in last if "lora_A" in k]
    b_keys = [k for k in last if "lora_B" in k]
    assert len(a_keys) == len(b_keys) == 2 * len(DEFAULT_TARGET_MODULES)
    for k in a_keys:
        assert torch.equal(last[k], first[k]) and torch.equal(last[k], init[k]), k
    for k in b_keys:
        assert not torch.equal(last[k], first[k]), k
        assert not torch.equal(first[k], torch.zeros_like(first[k])), k  # B starts at 0
    assert report["method"] == "fa-lora" and report["steps"] == 3
    assert len(report["losses"]) == 3
    assert report["final_loss"] == pytest.approx(report["losses"][-1], abs=1e-5)


def test_plain_lora_trains_a_too(tiny_model_dir, cases_file, tmp_path):
    run(tiny_model_dir, cases_file, tmp_path, method="lora", lr=1e-2, max_steps=2)
    first, last = weights(tmp_path, 1), weights(tmp_path, 2)
    assert any(not torch.equal(first[k], last[k]) for k in last if "lora_A" in k)


def _hand_counts(cfg):
    h, i, v = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    kv = cfg.num_key_value_heads * (h // cfg.num_attention_heads)
    shapes = [(h, h), (h, kv), (h, kv), (h, h), (h, i), (h, i), (i, h)] * cfg.num_hidden_layers
    per_layer = h * h * 2 + h * kv * 2 + 3 * h * i + 2 * h  # projections + 2 RMSNorms
    base = v * h + cfg.num_hidden_layers * per_layer + h  # tied embeddings, final norm
    # By hand, not via lora_param_formula: rank x (in + out) for A and B of each layer.
    a = sum(RANK * fan_in for fan_in, _ in shapes)
    b = sum(RANK * fan_out for _, fan_out in shapes)
    assert (a, b) == lora_param_formula(shapes, RANK)
    return base, a, b


@pytest.mark.parametrize("method", ["fa-lora", "lora"])
def test_report_counts_match_hand_formula(tiny_model_dir, cases_file, tmp_path, method):
    run(tiny_model_dir, cases_file, tmp_path, method=method, max_steps=1)
    report = json.loads((tmp_path / "train_report.json").read_text())
    base, a, b = _hand_counts(AutoConfig.from_pretrained(tiny_model_dir))
    assert report["base_params"] == report["full_finetune_trainable_params"] == base
    assert report["total_params"] == base + a + b
    assert report["lora_equivalent_trainable_params"] == a + b
    assert report["trainable_params"] == (b if method == "fa-lora" else a + b)
    assert report["reduction_vs_full_finetune_pct"] == pytest.approx(
        100 * (1 - report["trainable_params"] / base), abs=1e-3)
    for key in ("method", "rank", "steps", "trainable_params", "total_params",
                "lora_equivalent_trainable_params", "final_loss", "attn_implementation"):
        assert key in report, key
    assert report["attn_implementation"] == "sdpa"  # no CUDA here
    assert report["rank"] == RANK and report["method"] == method


def test_resume_continues_bit_for_bit(tiny_model_dir, cases_file, tmp_path):
    straight = run(tiny_model_dir, cases_file, tmp_path / "a", max_steps=4, save_steps=2)
    run(tiny_model_dir, cases_file, tmp_path / "b", max_steps=2, save_steps=2)
    resumed = run(tiny_model_dir, cases_file, tmp_path / "b", max_steps=4, save_steps=2,
                  resume=True)
    assert resumed["resumed_from"].endswith("checkpoint-2")
    assert resumed["losses"] == straight["losses"]
    a, b = weights(tmp_path / "a", 4), weights(tmp_path / "b", 4)
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_is_a_plain_lora_adapter(tiny_model_dir, cases_file, tmp_path):
    run(tiny_model_dir, cases_file, tmp_path, max_steps=1, save_dtype="float16")
    folder = tmp_path / "checkpoint-1"
    cfg = json.loads((folder / "adapter_config.json").read_text())
    # LoRA-FA is an optimizer choice; vLLM needs a plain LoRA config.
    assert cfg["peft_type"] == "LORA" and cfg["r"] == RANK and not cfg.get("use_dora")
    assert cfg["lora_alpha"] == 2 * RANK and isinstance(cfg["lora_alpha"], int)
    assert sorted(cfg["target_modules"]) == sorted(DEFAULT_TARGET_MODULES)
    assert {t.dtype for t in weights(tmp_path, 1).values()} == {torch.float16}
