"""Fine-tuning (docs/formats.md#fine-tuning-outputs): LoRA and FA-LoRA adapters that vLLM serves.

    FinetuneConfig.build(**options) -> FinetuneConfig   validated options (ConfigError names one)
    train(config, progress=True) -> dict                 runs/resumes, writes checkpoints + report
    install_adapter(checkpoint_dir, name, dest_dir=None) copies an adapter for `rxassist serve`
    adapter_name(method, rank, step) -> str              e.g. "fa-lora-r16-step1950"

Heavy imports (torch, transformers, peft) happen inside the functions that need them.
"""

from finetune.config import DEFAULT_TARGET_MODULES, VLLM_LORA_RANKS, FinetuneConfig
from finetune.install import adapter_name, install_adapter


def train(config: FinetuneConfig, *, progress: bool = True) -> dict:
    from finetune.trainer import train as _train
    return _train(config, progress=progress)


__all__ = ["DEFAULT_TARGET_MODULES", "VLLM_LORA_RANKS", "FinetuneConfig", "adapter_name",
           "install_adapter", "train"]
