"""The cached LoRA-FA optimizer against PEFT's: same updates, projection computed once per A."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from peft import LoraConfig, get_peft_model  # noqa: E402
from peft.optimizers import create_lorafa_optimizer  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

from finetune.lorafa_cached import CachedLoraFAOptimizer, create_cached_lorafa_optimizer  # noqa: E402

RANK, ALPHA = 8, 16


def tiny_peft_model(seed: int = 0):
    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=97, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    model = LlamaForCausalLM(cfg)
    return get_peft_model(model, LoraConfig(
        r=RANK, lora_alpha=ALPHA, target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                                  "gate_proj", "up_proj", "down_proj"]))


def train(model, optimizer, steps: int) -> list[float]:
    gen = torch.Generator().manual_seed(1)
    losses = []
    for _ in range(steps):
        ids = torch.randint(0, 97, (2, 12), generator=gen)
        loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses


def lora_weights(model) -> dict:
    return {n: p.detach().clone() for n, p in model.named_parameters() if "lora_" in n}


def test_updates_match_peft_optimizer():
    ref_model, our_model = tiny_peft_model(), tiny_peft_model()
    before = lora_weights(ours_init := our_model)
    ref = create_lorafa_optimizer(ref_model, r=RANK, lora_alpha=ALPHA, lr=1e-2)
    ours = create_cached_lorafa_optimizer(ours_init, r=RANK, lora_alpha=ALPHA, lr=1e-2)
    ref_losses, our_losses = train(ref_model, ref, 6), train(our_model, ours, 6)

    assert our_losses == pytest.approx(ref_losses, rel=1e-5, abs=1e-6)
    ref_w, our_w = lora_weights(ref_model), lora_weights(our_model)
    moved = 0
    for name, w in our_w.items():
        torch.testing.assert_close(w, ref_w[name], rtol=1e-5, atol=1e-6, msg=name)
        if "lora_A" in name:
            assert torch.equal(w, before[name]), f"{name}: A must stay frozen"
        else:
            moved += int(not torch.equal(w, before[name]))
    assert moved == sum("lora_B" in n for n in our_w)  # every B really trained
    # Optimizer state keys and moments agree too, so checkpoints move between the two.
    assert ours.state.keys() == ref.state.keys()
    for key, st in ref.state.items():
        torch.testing.assert_close(ours.state[key]["exp_avg_B"], st["exp_avg_B"],
                                   rtol=1e-5, atol=1e-8)


def test_projection_computed_once_per_frozen_a():
    model = tiny_peft_model()
    opt = create_cached_lorafa_optimizer(model, r=RANK, lora_alpha=ALPHA, lr=1e-2)
    assert isinstance(opt, CachedLoraFAOptimizer)
    n_layers = sum("lora_A" in n for n, _ in model.named_parameters())
    calls = []
    real = torch.linalg.pinv
    torch.linalg.pinv = lambda x, *a, **k: (calls.append(x.shape), real(x, *a, **k))[1]
    try:
        train(model, opt, 4)
    finally:
        torch.linalg.pinv = real
    assert opt.projection_computations == n_layers
    # batched: one pinv per distinct A shape (q/k/v/o/gate/up share r x 32, down r x 48)
    assert len(calls) == 2 and sum(s[0] for s in calls) == n_layers


def test_new_a_weights_invalidate_the_cache():
    model = tiny_peft_model()
    opt = create_cached_lorafa_optimizer(model, r=RANK, lora_alpha=ALPHA, lr=1e-2)
    train(model, opt, 1)
    a_name, a = next((n, p) for n, p in model.named_parameters() if "lora_A" in n)
    with torch.no_grad():
        a.copy_(torch.randn_like(a))  # e.g. a resumed checkpoint or A shipped by a server
    train(model, opt, 1)
    key = a_name[: a_name.find("lora")] + "lora"
    expected = torch.linalg.pinv(a @ a.T + 1e-8 * torch.eye(RANK))
    torch.testing.assert_close(opt._projection[key][1], expected, rtol=1e-4, atol=1e-4)
