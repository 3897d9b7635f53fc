"""The vLLM OpenAI server as a supervised child process.

vLLM's own server (through serving.vllm_entry, which removes its HTTP adapter loading) is the
model API, alone on the model port or behind serving/router.py when two engines serve (see
serving/engines.py). We only start it with the right flags and environment (its key included),
wait until it is healthy, surface its last log lines when it dies, and stop its whole process
group on shutdown.
"""

from __future__ import annotations

import collections
import dataclasses
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from rxassist.errors import ConfigError, ModelUnavailable
from serving import vllm_entry
from serving.adapters import Adapter
from serving.config import EngineConfig
from serving.cpu import cpu_engine_dtype, cpu_list, usable_cpus
from serving.parallel import parallel_args

# Never phone home (patient data is sensitive, and nothing but the configured endpoints may be
# contacted): vLLM usage stats, hub telemetry, Gradio analytics and LangChain tracing stay off,
# in `rxassist serve` itself and in the engine it starts.
PRIVACY_ENV = {"VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_DISABLE_TELEMETRY": "1",
               "GRADIO_ANALYTICS_ENABLED": "False", "LANGSMITH_TRACING": "false",
               "LANGCHAIN_TRACING_V2": "false"}

_TCMALLOC_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4",
    "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
    "/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4",
)


def ensure_port_free(host: str, port: int, what: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        # As the servers themselves bind: a restarted engine's TIME_WAIT leftovers don't count.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            raise ConfigError(f"{what} port {port} on {host} is already in use; stop whatever "
                              f"holds it or pick another port") from None


def cuda_available() -> bool:
    try:
        import torch
        return bool(torch.cuda.is_available())
    except ImportError:
        return False


@dataclasses.dataclass(frozen=True)
class EngineSpec:
    """What one vLLM child serves: a model folder under some names, with or without LoRA.
    `host` None: the configured model host (an engine behind the router stays on loopback)."""

    model: str
    served_names: tuple[str, ...]
    port: int
    lora: bool
    adapters: tuple[Adapter, ...] = ()
    log_path: Path | None = None
    host: str | None = None


def resolved_dtype(cfg: EngineConfig, *, on_gpu: bool) -> str:
    if cfg.dtype != "auto" or on_gpu:
        return cfg.dtype  # on a GPU vLLM's "auto" (the model's own dtype) is right
    return cpu_engine_dtype()


def engine_env(cfg: EngineConfig, *, on_gpu: bool) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PRIVACY_ENV)
    # The key travels in the environment, not argv, so `ps` does not show it.
    env["VLLM_API_KEY"] = cfg.api_key.get_secret_value()
    # Lets vLLM ask a resolver for adapters it does not know yet; serving.vllm_entry removes the
    # HTTP load/unload routes this flag would add and resolves only rxassist's adapter folders.
    env["VLLM_ALLOW_RUNTIME_LORA_UPDATING"] = "True"
    env[vllm_entry.ENV_DIRS] = os.pathsep.join(str(d) for d in cfg.adapter_dirs)
    env[vllm_entry.ENV_BASE] = cfg.base_model
    env[vllm_entry.ENV_RANK] = str(cfg.max_lora_rank)
    if Path(cfg.base_model).exists():
        env["HF_HUB_OFFLINE"] = "1"
    if not on_gpu:
        env.setdefault("VLLM_CPU_KVCACHE_SPACE", str(cfg.kv_cache_gb))
        # vLLM binds its OpenMP threads to all cores but one by default ("auto" reserves a core
        # for the server process); on 2 cores that is half the machine. Measured: binding every
        # usable core with none reserved doubled throughput. An explicit option wins, then the
        # user's own environment, then this default.
        if cfg.cpu_threads_bind is not None:
            env["VLLM_CPU_OMP_THREADS_BIND"] = cfg.cpu_threads_bind
        else:
            env.setdefault("VLLM_CPU_OMP_THREADS_BIND", cpu_list(usable_cpus()))
        if cfg.reserved_cpus is not None:
            env["VLLM_CPU_NUM_OF_RESERVED_CPU"] = str(cfg.reserved_cpus)
        else:
            env.setdefault("VLLM_CPU_NUM_OF_RESERVED_CPU", "0")
        # torch.compile's cache across starts. vLLM 0.32 on CPUs compiles with plain inductor
        # (DYNAMO_TRACE_ONCE), yet its AOT cache loader expects vLLM's own backend, so every
        # reload failed ("'function' object has no attribute 'finalize_loading'") and each
        # start recompiled (~50-100 s here). Without AOT, torch's inductor caches (FX graph +
        # AOTAutograd) are reused; they live beside vLLM's cache, not in /tmp, so a reboot
        # keeps them. Measured: docs/benchmarks.md, start-up.
        if cfg.aot_compile is None:
            env.setdefault("VLLM_USE_AOT_COMPILE", "0")
        env.setdefault("TORCHINDUCTOR_CACHE_DIR", str(inductor_cache_dir(env)))
        # vLLM's CPU backend asks for tcmalloc and Intel OpenMP preloaded; add those present.
        preload = [p for p in env.get("LD_PRELOAD", "").split(":") if p]
        iomp = Path(sys.prefix) / "lib" / "libiomp5.so"
        for lib in [*(_c for _c in _TCMALLOC_CANDIDATES if Path(_c).exists())][:1] + \
                   ([str(iomp)] if iomp.exists() else []):
            if lib not in preload:
                preload.append(lib)
        if preload:
            env["LD_PRELOAD"] = ":".join(preload)
    if cfg.aot_compile is not None:  # an explicit choice wins, on any device
        env["VLLM_USE_AOT_COMPILE"] = "1" if cfg.aot_compile else "0"
    return env


def inductor_cache_dir(env: dict[str, str]) -> Path:
    """Where the CPU engine keeps torch inductor's compiled graphs: under vLLM's cache root
    (VLLM_CACHE_ROOT, else $XDG_CACHE_HOME/vllm or ~/.cache/vllm, as vLLM resolves it)."""
    root = env.get("VLLM_CACHE_ROOT") or os.path.join(
        env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "vllm")
    return Path(os.path.expanduser(root)) / "torchinductor"


def engine_command(cfg: EngineConfig, spec: EngineSpec, *, on_gpu: bool = False) -> list[str]:
    # serving.vllm_entry: vLLM's OpenAI server without its HTTP adapter load/unload routes.
    cmd = [sys.executable, "-m", "serving.vllm_entry",
           "--model", spec.model, "--served-model-name", *spec.served_names,
           "--host", spec.host or cfg.host, "--port", str(spec.port),
           "--max-model-len", str(cfg.max_model_len),
           "--dtype", resolved_dtype(cfg, on_gpu=on_gpu),
           "--enable-prefix-caching" if cfg.prefix_caching else "--no-enable-prefix-caching",
           "--disable-uvicorn-access-log"]
    if spec.model != cfg.base_model:
        # A merged folder carries the base's tokenizer and chat template; naming it keeps the
        # prompt format byte-identical to the unmerged engine's.
        cmd += ["--tokenizer", spec.model]
    if spec.lora:
        cmd += ["--enable-lora", "--max-lora-rank", str(cfg.max_lora_rank),
                "--max-loras", str(cfg.max_loras)]
        if spec.adapters:
            cmd += ["--lora-modules", *(f"{a.name}={a.path}" for a in spec.adapters)]
    if cfg.enforce_eager:
        cmd.append("--enforce-eager")
    return cmd + parallel_args(cfg, lora=spec.lora)


def _die_with_parent() -> None:
    """Runs in the child before exec: if `rxassist serve` itself is killed (even SIGKILL), the
    kernel sends the engine SIGTERM, so no orphaned engine keeps its port and memory."""
    try:
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except OSError:  # not glibc/Linux: stop() on a clean shutdown still applies
        pass


def health_ok(host: str, port: int) -> bool:
    """Whether the server on host:port answers GET /health with 200 within 2 s."""
    try:
        return httpx.get(f"http://{host}:{port}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def tail_lines(path: Path, n: int = 15) -> str:
    try:
        with open(path, errors="replace") as fh:
            return "".join(collections.deque(fh, maxlen=n)).rstrip()
    except OSError:
        return "(no engine log)"


class EngineProcess:
    """One vLLM child. Without a spec it serves the base model with every adapter as LoRA on the
    configured port (the arrangement on GPUs, whose LoRA kernels are fast)."""

    def __init__(self, cfg: EngineConfig, adapters: list[Adapter], spec: EngineSpec | None = None,
                 *, on_gpu: bool | None = None):
        self.cfg = cfg
        self.spec = spec or EngineSpec(model=cfg.base_model, served_names=(cfg.served_name,),
                                       port=cfg.port, lora=True, adapters=tuple(adapters),
                                       log_path=cfg.log_path)
        self.adapters = list(adapters)
        self.proc: subprocess.Popen | None = None
        self.on_gpu = cuda_available() if on_gpu is None else on_gpu

    @property
    def log_path(self) -> Path:
        return self.spec.log_path or self.cfg.log_path

    @property
    def host(self) -> str:
        return self.spec.host or self.cfg.host

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.spec.port}/v1"

    def start(self) -> None:
        ensure_port_free(self.host, self.spec.port, "model engine")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "w")
        spec = self.spec
        if spec.lora:  # a restart registers the adapters hot-added since the first start too
            spec = dataclasses.replace(spec, adapters=tuple(self.adapters))
        cmd = engine_command(self.cfg, spec, on_gpu=self.on_gpu)
        # A new session lets stop() signal vLLM and all the workers it forks at once.
        self.proc = subprocess.Popen(cmd, stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=engine_env(self.cfg, on_gpu=self.on_gpu),
                                     start_new_session=True, preexec_fn=_die_with_parent)
        log.close()

    def _died(self, what: str) -> ModelUnavailable:
        return ModelUnavailable(
            f"the model engine {what} (model {self.spec.model!r}, port {self.spec.port}). "
            f"Last lines of {self.log_path}:\n{tail_lines(self.log_path)}")

    def wait_ready(self, should_stop=lambda: False) -> None:
        deadline = time.monotonic() + self.cfg.startup_timeout_s
        url = f"http://{self.host}:{self.spec.port}/health"
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise self._died(f"exited with code {code} during start-up")
            if should_stop():
                raise KeyboardInterrupt
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        self.stop()
        raise self._died(f"did not become healthy within {self.cfg.startup_timeout_s:g} s")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def healthy(self) -> bool:
        return self.alive() and health_ok(self.host, self.spec.port)

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.cfg.api_key.get_secret_value()}"}

    def load_adapter(self, adapter: Adapter) -> None:
        """Asks for the adapter by name once: the engine's folder resolver loads it (there is
        no HTTP route that takes a path)."""
        r = httpx.post(f"{self.base_url}/completions", timeout=120, headers=self.auth_headers,
                       json={"model": adapter.name, "prompt": "ok", "max_tokens": 1})
        if r.status_code >= 400:
            raise ModelUnavailable(f"vLLM refused adapter {adapter.name!r}: {r.text[:300]}")
        self.adapters.append(adapter)

    def stop(self, grace_s: float = 20) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        except ProcessLookupError:
            pass
