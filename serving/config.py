"""Typed, validated configuration for `rxassist serve`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from rxassist.paths import SHIPPED_ADAPTERS_DIR, user_adapters_dir

from rxassist.adapters import VLLM_LORA_RANKS


class EngineConfig(BaseModel):
    """How the vLLM child process is started."""

    model_config = ConfigDict(extra="forbid")

    base_model: str = Field(description="resolved base model: local folder or hub id")
    served_name: str = Field(description="name vLLM lists the base model under")
    host: str = "127.0.0.1"
    port: int = Field(8001, ge=1, le=65535)
    max_model_len: int = Field(2048, ge=256, description="context window the engine reserves")
    max_lora_rank: int = Field(32, description="largest adapter rank the engine accepts")
    max_loras: int = Field(4, ge=1, description="adapters resident in one batch")
    # vLLM sizes 1 GiB at 46,592 tokens of SmolLM2 (22 full 2048-token contexts); the benchmark's
    # 8 concurrent requests peaked at 0.6% of it. vLLM reads this as whole GiB.
    kv_cache_gb: int = Field(1, ge=1, description="CPU KV cache per engine, GiB "
                                                  "(VLLM_CPU_KVCACHE_SPACE)")
    startup_timeout_s: float = Field(900, gt=0)
    enforce_eager: bool = Field(False, description="skip torch.compile (faster start, slower decode)")
    log_path: Path
    api_key: SecretStr = Field(description="the model API's own key (vLLM checks it); "
                                           "SecretStr keeps it out of reprs and logs")
    adapter_dirs: list[Path] = Field(default_factory=list,
                                     description="folders the engine may add adapters from, by name")
    dtype: str = Field("auto", pattern="^(auto|float32|bfloat16|float16)$",
                       description="auto: bfloat16 on CPUs with native bf16, else float32; "
                                   "vLLM's own choice on GPUs")
    cpu_threads_bind: str | None = Field(
        None, pattern=r"^(auto|nobind|[0-9,\-|]+)$",
        description="VLLM_CPU_OMP_THREADS_BIND; None: that variable if set, else every usable core")
    reserved_cpus: int | None = Field(
        None, ge=0, description="VLLM_CPU_NUM_OF_RESERVED_CPU; None: that variable if set, else 0")
    prefix_caching: bool = Field(True, description="reuse the KV cache of a shared prompt prefix")
    aot_compile: bool | None = Field(
        None, description="VLLM_USE_AOT_COMPILE; None: that variable if set, else off on CPUs "
                          "(vLLM 0.32's CPU build saves an AOT artifact it cannot load again, so "
                          "every start recompiled; without it torch's own inductor cache is "
                          "reused) and vLLM's default on GPUs")
    # Passed through to vLLM unchanged (serving/parallel.py, docs/scaling.md).
    tensor_parallel_size: int = Field(1, ge=1, description="GPUs each layer is split over")
    pipeline_parallel_size: int = Field(1, ge=1, description="pipeline stages (nodes, usually)")
    distributed_executor_backend: str | None = Field(
        None, pattern="^(mp|ray|uni|external_launcher)$",
        description="vLLM's executor: mp on one node, ray across nodes; None: vLLM's choice")
    max_cpu_loras: int | None = Field(None, ge=1, description="adapters kept in CPU memory "
                                                              "(None: vLLM's default)")
    merge_default: str = Field("auto", pattern="^(auto|on|off)$",
                               description="serve the default adapter merged into the weights "
                                           "(auto: on CPUs, where vLLM's LoRA path is slow)")

    @field_validator("max_lora_rank")
    @classmethod
    def _rank_vllm_accepts(cls, v: int) -> int:
        if v not in VLLM_LORA_RANKS:
            raise ValueError(f"max_lora_rank={v} is not one vLLM serves; choose from {VLLM_LORA_RANKS}")
        return v


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    adapter_dirs: list[Path] = Field(
        default_factory=lambda: [SHIPPED_ADAPTERS_DIR, user_adapters_dir()],
        description="folders whose subfolders are PEFT adapters, served by folder name")
    default_adapter: str | None = Field(
        None, description="adapter behind model id 'rxassist'; None picks the shipped default")
    adapter_rescan_s: float = Field(5.0, ge=0, description="0 disables hot-adding adapters")
    request_timeout_s: float = Field(600, gt=0, description="assistant's wait for one model answer")
    engine: EngineConfig
