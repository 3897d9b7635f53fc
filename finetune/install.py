"""Install a checkpoint as a named adapter that `rxassist serve` offers (by folder name)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from rxassist.errors import ConfigError, InvalidInput, NotFound
from rxassist.paths import user_adapters_dir

from rxassist.adapters import VLLM_LORA_RANKS

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")
from rxassist.adapters import ADAPTER_NAME_RE as _NAME


def adapter_name(method: str, rank: int, step: int) -> str:
    """The naming scheme for served adapters, e.g. fa-lora-r16-step1950."""
    return f"{method}-r{rank}-step{step}"


def check_adapter(folder: Path) -> dict:
    """The folder's adapter_config.json, after checking vLLM can load it as a plain LoRA."""
    folder = Path(folder)
    missing = [f for f in ADAPTER_FILES if not (folder / f).is_file()]
    if missing:
        raise NotFound(f"{folder} is not a PEFT adapter folder (missing {', '.join(missing)})",
                       param="checkpoint")
    try:
        cfg = json.loads((folder / "adapter_config.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise InvalidInput(f"{folder}/adapter_config.json is not JSON: {e}") from None
    if cfg.get("peft_type") != "LORA" or cfg.get("use_dora"):
        raise InvalidInput(f"{folder} is a {cfg.get('peft_type')} adapter"
                           f"{' with DoRA' if cfg.get('use_dora') else ''}; vLLM serves plain LoRA")
    if cfg.get("r") not in VLLM_LORA_RANKS:
        raise InvalidInput(f"{folder} has rank {cfg.get('r')}; vLLM serves ranks {VLLM_LORA_RANKS}")
    return cfg


def install_adapter(checkpoint_dir: str | Path, name: str, dest_dir: str | Path | None = None,
                    *, overwrite: bool = False) -> Path:
    """Copy the adapter files of `checkpoint_dir` to `dest_dir/name/` (default
    RXASSIST_HOME/adapters); training state stays behind. Returns the new folder."""
    if not _NAME.match(name):
        raise ConfigError(f"--name {name!r}: use letters, digits, '.', '_' or '-' "
                          "(it becomes the model name clients ask for)", param="name")
    src = Path(checkpoint_dir)
    check_adapter(src)
    dest_root = Path(dest_dir) if dest_dir is not None else user_adapters_dir()
    target = dest_root / name
    if target.exists() and not overwrite:
        raise ConfigError(f"adapter {name!r} already exists at {target}; pass --overwrite",
                          param="name")
    dest_root.mkdir(parents=True, exist_ok=True)
    tmp = dest_root / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for f in ADAPTER_FILES:
        shutil.copy2(src / f, tmp / f)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target
