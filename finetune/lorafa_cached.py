"""LoRA-FA with the projection computed once per frozen A, not at every step.

PEFT's LoraFAOptimizer (peft/optimizers/lorafa.py) projects B's gradient with
(A A^T + delta I)^+ and recomputes that pseudo-inverse for every LoRA layer at every step. A is
frozen in LoRA-FA, so the matrix never changes: on a GPU the per-step SVDs (one small cuSOLVER
call and a host sync per layer) made FA-LoRA slower per step than plain LoRA.

CachedLoraFAOptimizer keeps PEFT's maths and state layout (same state keys, same bf16 autocast
policy for the projection, same AdamW update), so checkpoints move between the two, and computes
the pseudo-inverses batched across layers of the same shape the first time it sees each A. The
cache is keyed on A's storage and version counter: loading new A weights (resume, a federated
round that ships A) invalidates it without anyone having to remember to.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
from peft.optimizers.lorafa import LoraFAOptimizer, create_lorafa_optimizer

# PEFT's regulariser for A A^T; the same value keeps the maths identical.
PINV_DELTA = 1e-8


def _cache_key(a: torch.Tensor) -> tuple:
    return (a.data_ptr(), a._version, tuple(a.shape), a.dtype, a.device)


def projections(matrices: list[torch.Tensor], delta: float = PINV_DELTA) -> list[torch.Tensor]:
    """(A A^T + delta I)^+ for each A, batched per (shape, dtype, device): one pinv call per
    group instead of one per layer."""
    out: list[torch.Tensor | None] = [None] * len(matrices)
    groups: dict[tuple, list[int]] = {}
    for i, a in enumerate(matrices):
        groups.setdefault((tuple(a.shape), a.dtype, a.device), []).append(i)
    for (shape, dtype, device), idx in groups.items():
        stack = torch.stack([matrices[i] for i in idx])
        eye = torch.eye(shape[0], dtype=dtype, device=device)
        inv = torch.linalg.pinv(stack @ stack.mT + delta * eye)
        for j, i in enumerate(idx):
            out[i] = inv[j]
    return out  # type: ignore[return-value]


class CachedLoraFAOptimizer(LoraFAOptimizer):
    """PEFT's LoRA-FA optimizer with (A A^T + delta I)^+ cached per frozen A."""

    def __init__(self, params, **kwargs):
        super().__init__(params, **kwargs)
        self._projection: dict[str, tuple[tuple, torch.Tensor]] = {}
        self.projection_computations = 0  # how many pseudo-inverses were computed (tests read it)

    @staticmethod
    def _scaling_factors(group: dict) -> list:
        if "scaling_factors" in group:
            return group["scaling_factors"]
        if "scaling_factor" in group:
            return [group["scaling_factor"]] * len(group["params"])
        raise KeyError("Expected optimizer param group to define `scaling_factors`.")

    @staticmethod
    def _split(group: dict, scaling: list) -> tuple[list, list]:
        """PEFT's pairing: consecutive parameters whose name holds "lora" are (A, B); any other
        parameter with a gradient gets plain AdamW."""
        pairs, plain, pending = [], [], []
        for p, n, s in zip(group["params"], group["names"], scaling):
            if "lora" in n:
                pending.append(p)
                if len(pending) == 2:
                    pairs.append((n[: n.find("lora")] + "lora", pending[0], pending[1], s))
                    pending = []
            elif p.grad is not None:
                plain.append((n, p))
        return pairs, plain

    def _refresh(self, pairs: list) -> None:
        stale = [(name, a) for name, a, _, _ in pairs
                 if self._projection.get(name, ((),))[0] != _cache_key(a)]
        if not stale:
            return
        for (name, a), inv in zip(stale, projections([a for _, a in stale])):
            self._projection[name] = (_cache_key(a), inv)
        self.projection_computations += len(stale)

    def _adam(self, group: dict, state: dict, p: torch.Tensor, grad: torch.Tensor,
              avg: str, avg_sq: str) -> None:
        exp_avg, exp_avg_sq = state[avg], state[avg_sq]
        beta1, beta2 = group["betas"]
        state["step"] += 1
        exp_avg.mul_(beta1).add_(grad, alpha=(1.0 - beta1))
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1.0 - beta2)
        denom = exp_avg_sq.sqrt().add_(group["eps"])
        step_size = group["lr"]
        if group["correct_bias"]:
            bias_correction1 = 1.0 - beta1 ** state["step"]
            bias_correction2 = 1.0 - beta2 ** state["step"]
            step_size = step_size * math.sqrt(bias_correction2) / bias_correction1
        p.addcdiv_(exp_avg, denom, value=-step_size)
        if group["weight_decay"] > 0.0:
            p.add_(p, alpha=(-group["lr"] * group["weight_decay"]))

    @torch.no_grad()
    def step(self, closure: Callable | None = None):
        from accelerate.utils.imports import is_bf16_available
        from peft.utils.other import infer_device

        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        bf16 = is_bf16_available()
        device_type = infer_device()
        for group in self.param_groups:
            pairs, plain = self._split(group, self._scaling_factors(group))
            self._refresh(pairs)
            for name, _a, b, scaling in pairs:
                if b.grad is None:  # PEFT would fail here; a B outside the graph is left alone
                    continue
                state = self.state[name]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg_B"] = torch.zeros_like(b)
                    state["exp_avg_sq_B"] = torch.zeros_like(b)
                inv = self._projection[name][1]
                # Same precision policy as PEFT (bf16 autocast where available) so the updates
                # match it; the projection itself is the cached one.
                with torch.autocast(device_type=device_type, dtype=torch.bfloat16, enabled=bf16):
                    grad_b = (1 / scaling**2) * (b.grad @ inv)
                if grad_b.dtype != b.grad.dtype:
                    grad_b = grad_b.to(b.grad.dtype)
                self._adam(group, state, b, grad_b, "exp_avg_B", "exp_avg_sq_B")
            for name, p in plain:
                state = self.state[name]
                if len(state) == 0:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                self._adam(group, state, p, p.grad, "exp_avg", "exp_avg_sq")
        return loss


def create_cached_lorafa_optimizer(model, r: int, lora_alpha: float, lr: float,
                                   weight_decay: float = 0.0) -> CachedLoraFAOptimizer:
    """Like peft.optimizers.create_lorafa_optimizer (freezes every lora_A, per-layer scaling),
    returning the cached optimizer."""
    reference = create_lorafa_optimizer(model, r=r, lora_alpha=lora_alpha, lr=lr,
                                        weight_decay=weight_decay)
    return CachedLoraFAOptimizer(reference.param_groups)
