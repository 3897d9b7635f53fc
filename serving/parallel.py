"""vLLM's own parallelism and LoRA slots, passed through to the engine `rxassist serve` starts.

    --tensor-parallel-size N        split every layer over N GPUs of one node
    --pipeline-parallel-size M      split the layers into M stages (across nodes, usually)
    --distributed-executor-backend  mp (one node) or ray (several nodes: a Ray cluster started
                                    beforehand, this command run on its head node)
    --max-loras / --max-cpu-loras   adapters in one batch on the GPU / kept loaded in CPU memory

rxassist adds nothing of its own here: the flags mean what vLLM's distributed-serving and LoRA
documentation says (docs/scaling.md has the commands). Checked before the engine starts, so a
bad combination is one clear message instead of a stack trace in the engine log.
"""

from __future__ import annotations

import importlib.util

from rxassist.errors import ConfigError

EXECUTOR_BACKENDS = ("mp", "ray", "uni", "external_launcher")


def parallel_args(cfg, *, lora: bool) -> list[str]:
    """The pass-through flags for one engine's command line (only those set away from 1/None,
    so the default command stays what vLLM would run anyway)."""
    args: list[str] = []
    if cfg.tensor_parallel_size > 1:
        args += ["--tensor-parallel-size", str(cfg.tensor_parallel_size)]
    if cfg.pipeline_parallel_size > 1:
        args += ["--pipeline-parallel-size", str(cfg.pipeline_parallel_size)]
    if cfg.distributed_executor_backend is not None:
        args += ["--distributed-executor-backend", cfg.distributed_executor_backend]
    if lora and cfg.max_cpu_loras is not None:
        args += ["--max-cpu-loras", str(cfg.max_cpu_loras)]
    return args


def check_parallel(cfg, *, merged: bool) -> None:
    """What vLLM would refuse late (or what would fight over the GPUs), refused now."""
    if cfg.max_cpu_loras is not None and cfg.max_cpu_loras < cfg.max_loras:
        raise ConfigError(f"--max-cpu-loras {cfg.max_cpu_loras} must be at least --max-loras "
                          f"{cfg.max_loras} (vLLM keeps every adapter of a batch in CPU memory "
                          "too)")
    world = cfg.tensor_parallel_size * cfg.pipeline_parallel_size
    if world > 1 and merged:
        raise ConfigError(
            f"--tensor-parallel-size x --pipeline-parallel-size = {world} GPUs per engine, but "
            "the merged default adapter runs two engines, which would each claim them; start "
            "with --merge-default off (one engine with every adapter as LoRA, the arrangement "
            "on GPUs)")
    if cfg.distributed_executor_backend == "ray" and importlib.util.find_spec("ray") is None:
        raise ConfigError("--distributed-executor-backend ray needs Ray in this environment "
                          "(pip install 'ray[default]' at the version vLLM pins), and a Ray "
                          "cluster started with `ray start --head` on this node and "
                          "`ray start --address=HEAD:6379` on the others")
