"""`rxassist finetune` options: bad values get a clear message and exit code 2."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import pytest

from finetune.config import VLLM_LORA_RANKS
from finetune.install import install_adapter
from rxassist.cli import main

from .conftest import write_cases


def finetune(capsys, *args) -> tuple[int, str, str]:
    rc = main(["finetune", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def base_args(cases, out, model):
    return ["--cases", cases, "--out", out, "--base-model", model, "--max-steps", 1,
            "--save-steps", 1, "--rank", 8, "--threads", 1, "--no-progress"]


def test_ranks_match_what_vllm_serves():
    spec = importlib.util.find_spec("vllm")
    if spec is None:
        pytest.skip("vLLM not installed")
    # Read vLLM's own declaration without importing the engine (slow).
    src = (Path(spec.origin).parent / "config" / "lora.py").read_text()
    declared = re.search(r"MaxLoRARanks\s*=\s*Literal\[([^\]]*)\]", src).group(1)
    assert tuple(int(x) for x in declared.split(",")) == VLLM_LORA_RANKS


@pytest.mark.parametrize("option,value,needle", [
    ("--rank", 12, "--rank: 12 is not a rank vLLM can serve"),
    ("--method", "qlora", "--method"),
    ("--lr", -1, "--lr"),
    ("--batch-size", 0, "--batch-size"),
    ("--attn", "flash_attention_2", "flash-attn"),
])
def test_bad_option_exits_2_naming_it(capsys, tmp_path, cases_file, tiny_model_dir, option, value,
                                      needle):
    rc, _, err = finetune(capsys, *base_args(cases_file, tmp_path / "o", tiny_model_dir),
                          option, value)
    assert rc == 2 and needle in err, err


def test_missing_required_options(capsys):
    rc, _, err = finetune(capsys, "--cases", "x.jsonl")
    assert rc == 2 and "--max-steps" in err and "--out" in err


def test_empty_case_file(capsys, tmp_path, tiny_model_dir):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    rc, _, err = finetune(capsys, *base_args(empty, tmp_path / "o", tiny_model_dir))
    assert rc == 2 and "holds no valid case" in err


def test_malformed_lines_are_reported_and_skipped(capsys, tmp_path, tiny_model_dir):
    cases = write_cases(tmp_path / "c.jsonl", extra_lines=("{oops", '{"id": "x"}'))
    rc, out, err = finetune(capsys, *base_args(cases, tmp_path / "o", tiny_model_dir))
    assert rc == 0, err
    assert "c.jsonl:line 6: not valid JSON" in err and "line 7:" in err
    report = json.loads((tmp_path / "o" / "train_report.json").read_text())
    # 5 valid cases, one of which (c3) has no recorded drug among its candidates.
    assert report["malformed_lines"] == 2 and report["n_examples"] == 4
    assert report["skipped_not_in_candidates"] == 1
    assert json.loads(out)["steps"] == 1


def test_missing_case_file_and_base_model(capsys, tmp_path, cases_file, tiny_model_dir):
    rc, _, err = finetune(capsys, *base_args(tmp_path / "nope.jsonl", tmp_path / "o",
                                             tiny_model_dir))
    assert rc == 2 and "does not exist" in err
    rc, _, err = finetune(capsys, *base_args(cases_file, tmp_path / "o", tmp_path / "no-model"))
    assert rc == 2 and "--base-model" in err and "does not exist" in err


def test_unknown_target_module(capsys, tmp_path, cases_file, tiny_model_dir):
    rc, _, err = finetune(capsys, *base_args(cases_file, tmp_path / "o", tiny_model_dir),
                          "--target-modules", "q_proj,qkv_proj")
    assert rc == 2 and "qkv_proj not found" in err


def test_out_with_checkpoints_needs_resume(capsys, tmp_path, cases_file, tiny_model_dir):
    (tmp_path / "o" / "checkpoint-1").mkdir(parents=True)
    rc, _, err = finetune(capsys, *base_args(cases_file, tmp_path / "o", tiny_model_dir))
    assert rc == 2 and "--resume" in err


def test_install_copies_only_the_adapter(capsys, tmp_path, cases_file, tiny_model_dir):
    rc, _, err = finetune(capsys, *base_args(cases_file, tmp_path / "run", tiny_model_dir))
    assert rc == 0, err
    ckpt = tmp_path / "run" / "checkpoint-1"
    rc = main(["finetune", "install", str(ckpt), "--dest", str(tmp_path / "adapters")])
    out, err = capsys.readouterr()
    target = tmp_path / "adapters" / "fa-lora-r8-step1"  # the default name
    assert rc == 0 and out.strip() == str(target), err
    assert sorted(p.name for p in target.iterdir()) == ["adapter_config.json",
                                                        "adapter_model.safetensors"]
    rc = main(["finetune", "install", str(ckpt), "--dest", str(tmp_path / "adapters")])
    assert rc == 2 and "already exists" in capsys.readouterr().err
    rc = main(["finetune", "install", str(tmp_path), "--name", "x"])
    assert rc == 2 and "not a PEFT adapter folder" in capsys.readouterr().err
    with pytest.raises(Exception, match="--name"):
        install_adapter(ckpt, "../escape", tmp_path / "adapters")
