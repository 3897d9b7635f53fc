"""Adapter discovery and the engine's command line/environment (no engine started here)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from rxassist.errors import ConfigError
from serving.adapters import DEFAULT_MARKER, default_adapter_name, discover
from serving.config import EngineConfig
from serving.vllm_process import EngineSpec, engine_command, engine_env, ensure_port_free
from serving.engines import use_merged

BASE = "/models/smollm2-135m-instruct"


def make_adapter(root: Path, name: str, *, r=16, base=BASE, peft_type="LORA") -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "adapter_config.json").write_text(json.dumps(
        {"peft_type": peft_type, "r": r, "base_model_name_or_path": base}))
    return d


def test_discover_names_by_folder_and_explains_skips(tmp_path):
    make_adapter(tmp_path / "a", "fa-lora-r16-step100")
    make_adapter(tmp_path / "a", "too-big", r=64)
    make_adapter(tmp_path / "a", "other-base", base="meta-llama/Llama-3.1-8B-Instruct")
    make_adapter(tmp_path / "a", "not-lora", peft_type="PREFIX_TUNING")
    make_adapter(tmp_path / "b", "fa-lora-r16-step100")  # same name in a later dir
    (tmp_path / "a" / "no-config").mkdir()
    found, skipped = discover([tmp_path / "a", tmp_path / "b", tmp_path / "missing"],
                              "/elsewhere/smollm2-135m-instruct", max_rank=32)
    assert [a.name for a in found] == ["fa-lora-r16-step100"]
    reasons = {s.path.name: s.reason for s in skipped}
    assert "exceeds" in reasons["too-big"]
    assert "trained for" in reasons["other-base"]
    assert "not LoRA" in reasons["not-lora"]
    assert "already taken" in reasons["fa-lora-r16-step100"]
    assert "no-config" not in reasons


def test_default_marker_must_name_a_served_adapter(tmp_path):
    make_adapter(tmp_path, "good")
    found, _ = discover([tmp_path], BASE, 32)
    (tmp_path / DEFAULT_MARKER).write_text("missing\n")
    assert default_adapter_name([tmp_path], found) is None
    (tmp_path / DEFAULT_MARKER).write_text("good\n")
    assert default_adapter_name([tmp_path], found) == "good"


def _cfg(tmp_path, **kw):
    kw.setdefault("api_key", "model-key-for-tests-0123456789")
    return EngineConfig(base_model=str(tmp_path), served_name="m", log_path=tmp_path / "e.log",
                        **kw)


def _lora_spec(cfg, adapters):
    return EngineSpec(model=cfg.base_model, served_names=(cfg.served_name,), port=cfg.port,
                      lora=True, adapters=tuple(adapters))


def test_engine_command_registers_adapters_by_name(tmp_path):
    make_adapter(tmp_path, "x")
    found, _ = discover([tmp_path], BASE, 32)
    cfg = _cfg(tmp_path, dtype="float32")
    cmd = engine_command(cfg, _lora_spec(cfg, found))
    assert cmd[1:3] == ["-m", "serving.vllm_entry"]   # vLLM's server minus HTTP adapter loading
    assert "--enable-lora" in cmd and cmd[cmd.index("--max-lora-rank") + 1] == "32"
    assert cmd[cmd.index("--lora-modules") + 1] == f"x={(tmp_path / 'x').resolve()}"
    assert cmd[cmd.index("--dtype") + 1] == "float32"
    assert "--enable-prefix-caching" in cmd and "--tokenizer" not in cmd


def test_merged_engine_has_no_lora_and_serves_the_adapter_name(tmp_path):
    cfg = _cfg(tmp_path, prefix_caching=False)
    merged = str(tmp_path / "merged")
    cmd = engine_command(cfg, EngineSpec(model=merged, served_names=("fa", "fa-alias"),
                                         port=9, lora=False), on_gpu=True)
    assert "--enable-lora" not in cmd and "--lora-modules" not in cmd
    names = cmd[cmd.index("--served-model-name") + 1:cmd.index("--host")]
    assert names == ["fa", "fa-alias"] and cmd[cmd.index("--port") + 1] == "9"
    assert cmd[cmd.index("--tokenizer") + 1] == merged
    assert cmd[cmd.index("--dtype") + 1] == "auto"  # GPU: vLLM's own choice
    assert "--no-enable-prefix-caching" in cmd


def test_cpu_dtype_follows_the_cpu(tmp_path, monkeypatch):
    import serving.vllm_process as engine_mod
    from serving.cpu import cpu_engine_dtype, has_native_bf16

    avx2 = tmp_path / "avx2"
    avx2.write_text("processor\t: 0\nflags\t\t: fpu sse avx avx2 fma avx512f\n\n"
                    "processor\t: 1\nflags\t\t: fpu avx2\n")
    amx = tmp_path / "amx"
    amx.write_text("processor\t: 0\nflags\t\t: avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert not has_native_bf16(avx2) and cpu_engine_dtype(avx2) == "float32"
    assert has_native_bf16(amx) and cpu_engine_dtype(amx) == "bfloat16"
    monkeypatch.setattr(engine_mod, "cpu_engine_dtype", lambda: cpu_engine_dtype(amx))
    cfg = _cfg(tmp_path)
    assert engine_mod.resolved_dtype(cfg, on_gpu=False) == "bfloat16"
    monkeypatch.setattr(engine_mod, "cpu_engine_dtype", lambda: cpu_engine_dtype(avx2))
    assert engine_mod.resolved_dtype(cfg, on_gpu=False) == "float32"
    assert engine_mod.resolved_dtype(_cfg(tmp_path, dtype="bfloat16"), on_gpu=False) == "bfloat16"


def test_engine_env_keeps_telemetry_off(tmp_path, monkeypatch):
    for var in ("VLLM_CPU_KVCACHE_SPACE", "VLLM_CPU_OMP_THREADS_BIND",
                "VLLM_CPU_NUM_OF_RESERVED_CPU"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr("serving.vllm_process.usable_cpus", lambda: [0, 1, 2, 3, 6])
    env = engine_env(_cfg(tmp_path), on_gpu=False)
    assert env["VLLM_NO_USAGE_STATS"] == "1" and env["DO_NOT_TRACK"] == "1"
    assert env["HF_HUB_OFFLINE"] == "1"  # local model folder: never reach for a hub
    assert env["VLLM_CPU_KVCACHE_SPACE"] == "1"
    assert env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] == "True"
    # every usable core, none reserved (vLLM's own default leaves one core idle)
    assert env["VLLM_CPU_OMP_THREADS_BIND"] == "0-3,6"
    assert env["VLLM_CPU_NUM_OF_RESERVED_CPU"] == "0"


def test_thread_binding_precedence_option_then_env_then_default(tmp_path, monkeypatch):
    monkeypatch.setenv("VLLM_CPU_OMP_THREADS_BIND", "1")
    monkeypatch.setenv("VLLM_CPU_NUM_OF_RESERVED_CPU", "1")
    env = engine_env(_cfg(tmp_path), on_gpu=False)
    assert env["VLLM_CPU_OMP_THREADS_BIND"] == "1" and env["VLLM_CPU_NUM_OF_RESERVED_CPU"] == "1"
    env = engine_env(_cfg(tmp_path, cpu_threads_bind="0-1", reserved_cpus=0), on_gpu=False)
    assert env["VLLM_CPU_OMP_THREADS_BIND"] == "0-1" and env["VLLM_CPU_NUM_OF_RESERVED_CPU"] == "0"
    with pytest.raises(ValueError):
        _cfg(tmp_path, cpu_threads_bind="0-1; rm -rf /")


def test_merge_default_on_cpu_only_unless_asked(tmp_path):
    make_adapter(tmp_path, "x")
    (a,), _ = discover([tmp_path], BASE, 32)
    assert use_merged(_cfg(tmp_path), a, on_gpu=False)
    assert not use_merged(_cfg(tmp_path), a, on_gpu=True)
    assert use_merged(_cfg(tmp_path, merge_default="on"), a, on_gpu=True)
    assert not use_merged(_cfg(tmp_path, merge_default="off"), a, on_gpu=False)
    assert not use_merged(_cfg(tmp_path), None, on_gpu=False)


def test_engine_key_travels_in_the_environment_not_argv(tmp_path):
    cfg = _cfg(tmp_path, adapter_dirs=[tmp_path])
    assert engine_env(cfg, on_gpu=False)["VLLM_API_KEY"] == "model-key-for-tests-0123456789"
    assert "model-key-for-tests-0123456789" not in " ".join(engine_command(cfg, _lora_spec(cfg, [])))
    assert "model-key-for-tests" not in repr(cfg)   # SecretStr: never in a log line


def test_engine_resolves_only_adapters_from_its_folders(tmp_path, monkeypatch):
    from serving import vllm_entry

    make_adapter(tmp_path, "good")
    make_adapter(tmp_path, "wide", r=64)
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    make_adapter(outside, "elsewhere")
    monkeypatch.setenv(vllm_entry.ENV_DIRS, str(tmp_path))
    monkeypatch.setenv(vllm_entry.ENV_BASE, BASE)
    monkeypatch.setenv(vllm_entry.ENV_RANK, "32")
    assert vllm_entry.folder_adapter("good").path == (tmp_path / "good").resolve()
    for name in ("wide", "elsewhere", "../" + outside.name + "/elsewhere", str(outside / "elsewhere")):
        assert vllm_entry.folder_adapter(name) is None, name


def test_engine_has_no_http_adapter_loading():
    import vllm.entrypoints.serve.lora.api_router as lora_http
    from fastapi import FastAPI

    from serving import vllm_entry

    vllm_entry.install()
    app = FastAPI()
    lora_http.attach_router(app)   # what vLLM calls when it builds its app
    paths = {getattr(r, "path", "") for r in app.routes}
    assert not {p for p in paths if "lora_adapter" in p}


def test_rank_vllm_cannot_serve_is_rejected(tmp_path):
    with pytest.raises(ValueError, match="max_lora_rank=24"):
        _cfg(tmp_path, max_lora_rank=24)


def test_busy_port_is_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(ConfigError, match=f"port {port} .* already in use"):
            ensure_port_free("127.0.0.1", port, "model engine")


def test_a_default_adapter_that_cannot_be_merged_is_a_clear_error(tmp_path, monkeypatch):
    from rxassist.errors import ModelUnavailable
    from serving.engines import ServingEngines

    monkeypatch.setenv("RXASSIST_HOME", str(tmp_path / "home"))
    make_adapter(tmp_path / "ad", "broken")  # a config but no weights; the base is no model
    found, _ = discover([tmp_path / "ad"], BASE, 32)
    with pytest.raises(ModelUnavailable, match="could not merge the default adapter 'broken'"):
        ServingEngines(_cfg(tmp_path / "ad"), found, "broken", on_gpu=False, log=lambda m: None)


def test_cpu_engine_reuses_the_compile_cache(tmp_path, monkeypatch):
    """vLLM 0.32's CPU AOT cache never reloads ('function' object has no attribute
    'finalize_loading'), so the CPU engine turns AOT off and keeps inductor's cache beside
    vLLM's; the user's variables and an explicit choice win."""
    for var in ("VLLM_USE_AOT_COMPILE", "TORCHINDUCTOR_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("VLLM_CACHE_ROOT", str(tmp_path / "vc"))
    env = engine_env(_cfg(tmp_path), on_gpu=False)
    assert env["VLLM_USE_AOT_COMPILE"] == "0"
    assert env["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "vc" / "torchinductor")
    assert "VLLM_USE_AOT_COMPILE" not in engine_env(_cfg(tmp_path), on_gpu=True)  # vLLM's own
    monkeypatch.setenv("VLLM_USE_AOT_COMPILE", "1")
    monkeypatch.setenv("TORCHINDUCTOR_CACHE_DIR", str(tmp_path / "mine"))
    env = engine_env(_cfg(tmp_path), on_gpu=False)
    assert env["VLLM_USE_AOT_COMPILE"] == "1" and env["TORCHINDUCTOR_CACHE_DIR"] == str(tmp_path / "mine")
    assert engine_env(_cfg(tmp_path, aot_compile=False), on_gpu=False)["VLLM_USE_AOT_COMPILE"] == "0"
    assert engine_env(_cfg(tmp_path, aot_compile=True), on_gpu=True)["VLLM_USE_AOT_COMPILE"] == "1"


def test_deferred_lora_engine_counts_as_starting(tmp_path, monkeypatch):
    """`rxassist serve` starts the LoRA engine once the assistant API is up; until then the
    engines are healthy as soon as the default one is, and start_lora() starts it once."""
    from serving import engines as engines_mod

    make_adapter(tmp_path / "ad", "dflt")
    make_adapter(tmp_path / "ad", "other")
    found, _ = discover([tmp_path / "ad"], BASE, 32)
    monkeypatch.setattr("serving.merge.ensure_merged", lambda base, a, log=None: (tmp_path, False))
    se = engines_mod.ServingEngines(_cfg(tmp_path / "ad"), found, "dflt", on_gpu=False,
                                    log=lambda m: None)
    started = []
    monkeypatch.setattr(se.main, "healthy", lambda: True)
    monkeypatch.setattr(se.main, "alive", lambda: True)
    monkeypatch.setattr(se.lora, "start", lambda: started.append(1) or
                        setattr(se.lora, "proc", object()))
    assert se.lora.proc is None and se.healthy() and se.alive()
    se.start_lora()
    se.start_lora()
    assert started == [1]
