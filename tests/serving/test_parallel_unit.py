"""vLLM's parallelism and LoRA-slot flags reach the engine command unchanged, and combinations
vLLM would refuse late (or that would fight over GPUs) are refused before anything starts."""

from __future__ import annotations

import importlib.util

import pytest

from rxassist.cli import build_parser
from rxassist.errors import ConfigError
from serving.config import EngineConfig
from serving.vllm_process import EngineSpec, engine_command
from serving.parallel import check_parallel


def cfg(tmp_path, **kw) -> EngineConfig:
    return EngineConfig(base_model=str(tmp_path), served_name="m", log_path=tmp_path / "e.log",
                        api_key="model-key-for-tests-0123456789", **kw)


def flag(cmd: list[str], name: str) -> str | None:
    return cmd[cmd.index(name) + 1] if name in cmd else None


def test_default_command_has_no_parallel_flags(tmp_path):
    cmd = engine_command(cfg(tmp_path), EngineSpec(str(tmp_path), ("m",), 8001, lora=True))
    for name in ("--tensor-parallel-size", "--pipeline-parallel-size",
                 "--distributed-executor-backend", "--max-cpu-loras"):
        assert name not in cmd


def test_parallel_and_lora_slots_pass_through(tmp_path):
    c = cfg(tmp_path, tensor_parallel_size=4, pipeline_parallel_size=2,
            distributed_executor_backend="ray", max_loras=8, max_cpu_loras=32)
    lora = engine_command(c, EngineSpec(str(tmp_path), ("m",), 8001, lora=True))
    assert (flag(lora, "--tensor-parallel-size"), flag(lora, "--pipeline-parallel-size"),
            flag(lora, "--distributed-executor-backend"), flag(lora, "--max-loras"),
            flag(lora, "--max-cpu-loras")) == ("4", "2", "ray", "8", "32")
    plain = engine_command(c, EngineSpec(str(tmp_path), ("m",), 8001, lora=False))
    assert flag(plain, "--tensor-parallel-size") == "4" and "--max-cpu-loras" not in plain


def test_cli_options_reach_the_config():
    args = build_parser("serve").parse_args(
        ["serve", "--tensor-parallel-size", "2", "--pipeline-parallel-size", "3",
         "--distributed-executor-backend", "mp", "--max-loras", "6", "--max-cpu-loras", "12"])
    assert (args.tensor_parallel_size, args.pipeline_parallel_size,
            args.distributed_executor_backend, args.max_loras, args.max_cpu_loras) == \
        (2, 3, "mp", 6, 12)


def test_cpu_loras_below_gpu_loras_refused(tmp_path):
    with pytest.raises(ConfigError, match="--max-cpu-loras 2 must be at least --max-loras 4"):
        check_parallel(cfg(tmp_path, max_cpu_loras=2), merged=False)


def test_parallel_engine_with_merged_default_refused(tmp_path):
    with pytest.raises(ConfigError, match="--merge-default off"):
        check_parallel(cfg(tmp_path, tensor_parallel_size=2), merged=True)
    check_parallel(cfg(tmp_path, tensor_parallel_size=2), merged=False)


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="Ray is installed")
def test_ray_backend_without_ray_says_how(tmp_path):
    with pytest.raises(ConfigError, match="ray start --head"):
        check_parallel(cfg(tmp_path, distributed_executor_backend="ray"), merged=False)


def test_bad_values_rejected_by_the_config(tmp_path):
    with pytest.raises(ValueError):
        cfg(tmp_path, tensor_parallel_size=0)
    with pytest.raises(ValueError):
        cfg(tmp_path, distributed_executor_backend="threads")
