"""The engine's entry point: vLLM's OpenAI server, with adapters added by name only.

vLLM can add adapters to a running server two ways: its HTTP routes /v1/load_lora_adapter and
/v1/unload_lora_adapter (any caller names any server-readable path), or a LoRA resolver asked
for a model name it does not know yet. Both hang off VLLM_ALLOW_RUNTIME_LORA_UPDATING. Here the
HTTP routes are never attached, and the only resolver offers exactly the adapters that
`serving.adapters.discover` accepts in rxassist's adapter folders (valid name, trained for the
served base, rank that fits). A client can therefore only ever select a registered adapter by
name; the folder watcher hot-adds a new one by asking for it once, with the model key.

    python -m serving.vllm_entry <vLLM serve arguments>
    env: RXASSIST_LORA_DIRS (os.pathsep-separated), RXASSIST_LORA_BASE, RXASSIST_LORA_MAX_RANK
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

ENV_DIRS, ENV_BASE, ENV_RANK = "RXASSIST_LORA_DIRS", "RXASSIST_LORA_BASE", "RXASSIST_LORA_MAX_RANK"
_ids = itertools.count(1_000_000)  # far from the ids vLLM gives --lora-modules


def folder_adapter(name: str):
    """The Adapter called `name` in the configured folders, or None."""
    from serving.adapters import discover

    dirs = [Path(p) for p in os.environ.get(ENV_DIRS, "").split(os.pathsep) if p]
    found, _ = discover(dirs, os.environ.get(ENV_BASE, ""), int(os.environ.get(ENV_RANK, "32")))
    return next((a for a in found if a.name == name), None)


def install() -> None:
    try:
        import vllm.entrypoints.serve.lora.api_router as lora_http
        from vllm.lora.request import LoRARequest
        from vllm.lora.resolver import LoRAResolver, LoRAResolverRegistry
    except ImportError as e:   # never fall back to a server with HTTP adapter loading
        import vllm

        raise SystemExit(f"rxassist: vLLM {vllm.__version__} lacks {e.name}; the engine entry "
                         "point is written for vLLM 0.32's module layout") from None

    # vLLM imports attach_router from this module when it builds the app: make it a no-op.
    lora_http.attach_router = lambda app: None

    class FolderResolver(LoRAResolver):
        async def resolve_lora(self, base_model_name: str, lora_name: str):
            adapter = folder_adapter(lora_name)
            if adapter is None:
                return None
            return LoRARequest(lora_name=adapter.name, lora_int_id=next(_ids),
                               lora_path=str(adapter.path))

    LoRAResolverRegistry.register_resolver("rxassist-adapter-folders", FolderResolver())


def main() -> None:
    install()
    # What `python -m vllm.entrypoints.openai.api_server` runs (it reads sys.argv).
    from vllm.entrypoints.launchers.api_server.entry import main as vllm_main

    vllm_main()


if __name__ == "__main__":
    main()
