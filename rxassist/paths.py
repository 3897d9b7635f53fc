"""Where rxassist keeps models, adapters and caches, and how a base-model option is resolved."""

from __future__ import annotations

import os
from pathlib import Path

from rxassist.errors import ConfigError, NotFound

REPO_ROOT = Path(__file__).resolve().parents[1]
# Adapters shipped in the repository on purpose (small, documented; see adapters/README.md).
SHIPPED_ADAPTERS_DIR = REPO_ROOT / "adapters"
SHIPPED_DATA_DIR = REPO_ROOT / "data"
DEFAULT_BASE_MODEL_NAME = "smollm2-135m-instruct"


def rxassist_home() -> Path:
    """RXASSIST_HOME, else the user's cache dir; models and caches live here, never in git."""
    env = os.environ.get("RXASSIST_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "rxassist"


def models_dir() -> Path:
    return rxassist_home() / "models"


def default_base_model_dir() -> Path:
    return models_dir() / DEFAULT_BASE_MODEL_NAME


def merged_models_dir() -> Path:
    """Adapters merged into their base model for fast serving (serving/merge.py)."""
    return rxassist_home() / "merged"


def user_adapters_dir() -> Path:
    return rxassist_home() / "adapters"


def resolve_base_model(spec: str | None, *, prepare: bool = True) -> str:
    """Turn a `--base-model` value into what transformers/vLLM load.

    None means the embedded default (SmolLM2-135M-Instruct), prepared from its GGUF on first use.
    An existing local folder is used as is; anything else is taken as a hub id, which only works
    where the hub (or its cache) is reachable, e.g. meta-llama/Llama-3.1-8B-Instruct on a GPU box.
    """
    if spec is None or spec in ("", "default", DEFAULT_BASE_MODEL_NAME):
        target = default_base_model_dir()
        if not (target / "config.json").exists():
            if not prepare:
                raise ConfigError(f"the default base model is not prepared at {target}; "
                                  "run `rxassist models prepare`")
            # Imported here: measured 0.23 s of import (python -X importtime) that every command
            # resolving a path would pay, for a step that runs once per machine.
            from rxassist.base_model import prepare_default_model
            prepare_default_model(target)
        return str(target)
    path = Path(spec).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise ConfigError(f"--base-model {spec!r} is a path but holds no config.json; "
                              "point it at a Hugging Face model folder")
        return str(path.resolve())
    if spec.startswith(("/", ".", "~")):
        raise NotFound(f"--base-model {spec!r} does not exist", param="base_model")
    return spec
