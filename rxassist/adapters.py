"""What a LoRA adapter must be for vLLM to serve it: its name and its rank.

One definition for `serving` (which registers adapters), `finetune` (which trains and installs
them) and `assistant.config` (which addresses them by name).
"""

import re

# A name a client may send as `model`; vLLM's own limit is looser, 64 characters keeps paths,
# logs and the UI's model list readable.
ADAPTER_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")

# The LoRA ranks vLLM can serve (its --max-lora-rank choices).
VLLM_LORA_RANKS: tuple[int, ...] = (1, 8, 16, 32, 64, 128, 256, 320, 512)


def is_adapter_name(name: object) -> bool:
    return isinstance(name, str) and ADAPTER_NAME_RE.match(name) is not None
