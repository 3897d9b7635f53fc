"""The merged default adapter: built once per (adapter content, base), reused, rebuilt on change.

A tiny Llama and LoRA adapter are built here, so this runs in seconds without the real model.
"""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
peft = pytest.importorskip("peft")
transformers = pytest.importorskip("transformers")

from serving.adapters import read_adapter  # noqa: E402
from serving.merge import MERGE_INFO, ensure_merged, merge_key  # noqa: E402


def _tiny_base(path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    cfg = transformers.LlamaConfig(vocab_size=32, hidden_size=16, intermediate_size=32,
                                   num_hidden_layers=2, num_attention_heads=2,
                                   num_key_value_heads=1, max_position_embeddings=64)
    torch.manual_seed(0)
    transformers.LlamaForCausalLM(cfg).save_pretrained(path)
    tok = Tokenizer(models.WordLevel({f"w{i}": i for i in range(32)}, unk_token="w0"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    transformers.PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="w0").save_pretrained(path)


def _adapter(base, out, seed):
    torch.manual_seed(seed)
    model = transformers.AutoModelForCausalLM.from_pretrained(base)
    pm = peft.get_peft_model(model, peft.LoraConfig(r=4, lora_alpha=8, init_lora_weights=False,
                                                    target_modules=["q_proj", "v_proj"]))
    pm.save_pretrained(out)
    return read_adapter(out)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-base")
    _tiny_base(path)
    return str(path)


def test_merge_is_built_once_reused_and_rebuilt_when_the_adapter_changes(base, tmp_path):
    root = tmp_path / "merged"
    adapter = _adapter(base, tmp_path / "ad", seed=1)
    first, built = ensure_merged(base, adapter, root=root)
    assert built and (first / MERGE_INFO).is_file()
    assert json.loads((first / MERGE_INFO).read_text())["key"] == merge_key(base, adapter)

    # the merged weights answer exactly as base + adapter through PEFT
    ids = torch.tensor([[1, 5, 7, 3]])
    peft_model = peft.PeftModel.from_pretrained(
        transformers.AutoModelForCausalLM.from_pretrained(base), str(adapter.path)).eval()
    merged = transformers.AutoModelForCausalLM.from_pretrained(first).eval()
    with torch.no_grad():
        torch.testing.assert_close(merged(ids).logits, peft_model(ids).logits,
                                   rtol=1e-4, atol=1e-5)
        plain = transformers.AutoModelForCausalLM.from_pretrained(base).eval()(ids).logits
    assert not torch.allclose(plain, merged(ids).logits)  # the adapter really is in there

    stamp = (first / "model.safetensors").stat().st_mtime_ns
    again, built = ensure_merged(base, adapter, root=root)
    assert (again, built) == (first, False)
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp  # reused, not rewritten

    changed = _adapter(base, tmp_path / "ad", seed=2)  # same folder and name, new weights
    second, built = ensure_merged(base, changed, root=root)
    assert built and second != first
    assert not first.exists()  # the stale version is cleaned up
    assert [p.name for p in root.iterdir()] == [second.name]


def test_an_unfinished_build_is_rebuilt(base, tmp_path):
    root = tmp_path / "merged"
    adapter = _adapter(base, tmp_path / "ad", seed=3)
    path, _ = ensure_merged(base, adapter, root=root)
    (path / MERGE_INFO).unlink()  # as if the previous start was killed mid-write
    again, built = ensure_merged(base, adapter, root=root)
    assert again == path and built and (path / MERGE_INFO).is_file()


def test_key_depends_on_the_base_model(base, tmp_path):
    adapter = _adapter(base, tmp_path / "ad", seed=4)
    assert merge_key(base, adapter) != merge_key("meta-llama/Llama-3.1-8B-Instruct", adapter)
