"""Parameter counts for the train report, computed from the model actually trained."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ParamCounts:
    trainable_params: int                  # what the optimizer updates in this run
    total_params: int                      # base model + adapter
    base_params: int                       # = what full fine-tuning would train
    lora_equivalent_trainable_params: int  # plain LoRA (A and B) at the same rank and modules
    lora_b_params: int                     # the B matrices alone (= FA-LoRA's trainable params)

    def as_report(self) -> dict:
        d = asdict(self)
        d["full_finetune_trainable_params"] = self.base_params
        d["reduction_vs_full_finetune_pct"] = _pct_less(self.trainable_params, self.base_params)
        d["reduction_vs_lora_pct"] = _pct_less(self.trainable_params,
                                               self.lora_equivalent_trainable_params)
        d["trainable_pct_of_total"] = round(100.0 * self.trainable_params / self.total_params, 4)
        return d


def _pct_less(part: int, whole: int) -> float:
    return round(100.0 * (1.0 - part / whole), 4) if whole else 0.0


def count_params(model) -> ParamCounts:
    """Counts on a PEFT LoRA model; named_parameters() already counts tied weights once."""
    trainable = total = lora_a = lora_b = 0
    for name, p in model.named_parameters():
        n = p.numel()
        total += n
        if p.requires_grad:
            trainable += n
        if ".lora_A." in name:
            lora_a += n
        elif ".lora_B." in name:
            lora_b += n
    return ParamCounts(trainable_params=trainable, total_params=total,
                       base_params=total - lora_a - lora_b,
                       lora_equivalent_trainable_params=lora_a + lora_b, lora_b_params=lora_b)


def lora_param_formula(shapes: list[tuple[int, int]], rank: int) -> tuple[int, int]:
    """(A params, B params) for Linear layers given as (in_features, out_features)."""
    return sum(rank * i for i, _ in shapes), sum(rank * o for _, o in shapes)
