"""The default adapter merged into its base model, built once and cached by content hash.

vLLM's LoRA path on CPU is plain PyTorch (and turns torch.compile off), so the adapter almost
every request uses is served as ordinary weights instead: PEFT's `merge_and_unload`, written to
`$RXASSIST_HOME/merged/<adapter>-<key>/`. The key hashes the adapter's files and the base model's
identity, so editing or replacing the adapter (or pointing at another base) builds a new folder,
and an unchanged pair reuses the folder built before: start-up pays the merge once.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from rxassist.paths import merged_models_dir
from serving.adapters import Adapter

MERGE_INFO = "rxassist-merge.json"  # written last: a folder without it is an unfinished build
_FORMAT = 1  # bump when the way a folder is built changes, so old folders are rebuilt


def _hash_files(h, root: Path, names: list[str]) -> None:
    for name in sorted(names):
        f = root / name
        h.update(name.encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
        h.update(b"\0")


def merge_key(base_model: str, adapter: Adapter) -> str:
    """sha256 over the adapter's files and the base model's identity (its config and weights'
    sizes and mtimes for a local folder: hashing gigabytes of base weights on every start would
    cost more than the merge saves; a hub id is taken as it is)."""
    h = hashlib.sha256(f"rxassist-merge-v{_FORMAT}\0".encode())
    files = [p.name for p in Path(adapter.path).iterdir()
             if p.is_file() and (p.suffix in (".json", ".safetensors", ".bin"))]
    _hash_files(h, Path(adapter.path), files)
    base = Path(base_model)
    if base.is_dir():
        h.update(str(base.resolve()).encode() + b"\0")
        for p in sorted(base.iterdir()):
            if p.is_file():
                st = p.stat()
                h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns}\0".encode())
        if (base / "config.json").is_file():
            _hash_files(h, base, ["config.json"])
    else:
        h.update(f"hub:{base_model}\0".encode())
    return h.hexdigest()


def merged_dir_for(base_model: str, adapter: Adapter, root: Path | None = None) -> Path:
    root = root or merged_models_dir()
    return root / f"{adapter.name}-{merge_key(base_model, adapter)[:16]}"


def is_built(path: Path) -> bool:
    return (path / MERGE_INFO).is_file() and (path / "config.json").is_file()


def build_merged(base_model: str, adapter: Adapter, out: Path, *, dtype: str = "float32") -> None:
    """Load base + adapter with PEFT, merge, and save a plain Hugging Face model folder."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch_dtype = getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(base_model, dtype=torch_dtype)
    model = PeftModel.from_pretrained(model, str(adapter.path)).merge_and_unload()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        AutoTokenizer.from_pretrained(base_model).save_pretrained(tmp)
        # Chat template and generation config travel with the tokenizer / model already; the
        # info file records what was merged, and its presence marks the build complete.
        (tmp / MERGE_INFO).write_text(json.dumps(
            {"format": _FORMAT, "adapter": adapter.name, "adapter_path": str(adapter.path),
             "base_model": base_model, "key": merge_key(base_model, adapter), "dtype": dtype},
            indent=2) + "\n")
        if out.exists():  # an unfinished build from an interrupted start
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def ensure_merged(base_model: str, adapter: Adapter, *, root: Path | None = None,
                  dtype: str = "float32", log=None) -> tuple[Path, bool]:
    """The merged folder for (base, adapter), built if missing; returns (path, built_now).

    Older folders of the same adapter name are removed once the new one exists: they belong to
    an adapter version that is gone and would only fill the disk.
    """
    root = root or merged_models_dir()
    root.mkdir(parents=True, exist_ok=True)
    out = merged_dir_for(base_model, adapter, root)
    if is_built(out):
        return out, False
    if log:
        log(f"merging adapter {adapter.name} into {base_model} (once; cached in {out})")
    build_merged(base_model, adapter, out, dtype=dtype)
    for old in root.glob(f"{adapter.name}-*"):
        if old != out and old.is_dir() and len(old.name) == len(out.name):
            shutil.rmtree(old, ignore_errors=True)
    return out, True


def _log_stderr(msg: str) -> None:
    print(f"rxassist serve: {msg}", file=sys.stderr, flush=True)
