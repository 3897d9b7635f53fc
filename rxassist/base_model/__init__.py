"""The embedded default base model (SmolLM2-135M-Instruct), prepared from its GGUF."""

from rxassist.base_model.prepare import GGUF_FILE, gguf_path, prepare_default_model

__all__ = ["GGUF_FILE", "gguf_path", "prepare_default_model"]
