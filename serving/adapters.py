"""Adapter discovery: every subfolder holding a PEFT adapter_config.json, named by folder.

Clients address adapters by registered name only, never by a path they send (as vLLM does).
An adapter is offered only if it was trained for the served base model and its rank fits the
engine; anything skipped is reported with the reason instead of failing later inside vLLM.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("rxassist.serving")

from rxassist.adapters import ADAPTER_NAME_RE as _NAME
DEFAULT_MARKER = "DEFAULT_ADAPTER"  # file in an adapter dir naming the default adapter


@dataclass(frozen=True)
class Adapter:
    name: str
    path: Path
    rank: int
    base_model: str


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


def _model_key(name_or_path: str) -> str:
    return Path(str(name_or_path).rstrip("/")).name.lower()


def read_adapter(path: Path) -> Adapter:
    cfg = json.loads((path / "adapter_config.json").read_text())
    if not _NAME.match(path.name):
        raise ValueError(f"folder name {path.name!r} is not a valid adapter name")
    if cfg.get("peft_type", "LORA") != "LORA":
        raise ValueError(f"peft_type {cfg.get('peft_type')!r} is not LoRA")
    return Adapter(name=path.name, path=path.resolve(), rank=int(cfg.get("r", 8)),
                   base_model=str(cfg.get("base_model_name_or_path") or ""))


def discover(dirs: list[Path], base_model: str, max_rank: int) -> tuple[list[Adapter], list[Skipped]]:
    found: dict[str, Adapter] = {}
    skipped: list[Skipped] = []
    for root in dirs:
        if not Path(root).is_dir():
            continue
        for sub in sorted(Path(root).iterdir()):
            # Hidden folders are adapters still being written (install renames them in place).
            if sub.name.startswith(".") or not (sub / "adapter_config.json").is_file():
                continue
            try:
                adapter = read_adapter(sub)
            except (ValueError, json.JSONDecodeError) as e:
                skipped.append(Skipped(sub, str(e)))
                continue
            if adapter.base_model and _model_key(adapter.base_model) != _model_key(base_model):
                skipped.append(Skipped(sub, f"trained for {adapter.base_model!r}, not the served base"))
            elif adapter.rank > max_rank:
                skipped.append(Skipped(sub, f"rank {adapter.rank} exceeds --max-lora-rank {max_rank}"))
            elif adapter.name in found:
                skipped.append(Skipped(sub, f"name {adapter.name!r} already taken by {found[adapter.name].path}"))
            else:
                found[adapter.name] = adapter
    return list(found.values()), skipped


def default_adapter_name(dirs: list[Path], adapters: list[Adapter]) -> str | None:
    """The adapter named by the first DEFAULT_ADAPTER marker whose adapter is being served."""
    names = {a.name for a in adapters}
    for root in dirs:
        marker = Path(root) / DEFAULT_MARKER
        if marker.is_file():
            name = marker.read_text().strip()
            if name in names:
                return name
    return None
