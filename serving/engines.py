"""The engines behind the model API port, arranged for speed on the machine at hand.

- merged (CPUs, default): the default adapter merged into the weights (serving/merge.py) in an
  engine without LoRA, compiled, which almost every request uses; the base model and every other
  adapter (hot-adding included) in a second engine with LoRA, started once the first is ready
  (by `rxassist serve` once the assistant API is up too, so neither waits for it: the two
  engines starting at once on 2 cores would slow the default one); serving/router.py joins
  them on the model port under the same names as a single engine would list. Both engines listen on loopback ports of their own and check
  the model key; the router binds the model host and checks the key too.
- single (GPUs, `--merge-default off`, or no default adapter): one engine with every adapter as
  LoRA on the model port, as vLLM's GPU LoRA kernels cost little.

`ServingEngines` has the interface `rxassist serve`, the assistant, the adapter watcher and the
supervisors (`members()`, one per engine process, restarted independently) use.
"""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

from rxassist.errors import ModelUnavailable
from serving.adapters import Adapter
from serving.config import EngineConfig
from serving.parallel import check_parallel
from serving.vllm_process import EngineProcess, EngineSpec, cuda_available, ensure_port_free


# The engines behind the router: reachable from this machine only, whatever --model-host says.
ENGINE_HOST = "127.0.0.1"


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def use_merged(cfg: EngineConfig, default: Adapter | None, *, on_gpu: bool) -> bool:
    if default is None or cfg.merge_default == "off":
        return False
    return cfg.merge_default == "on" or not on_gpu


class ServingEngines:
    def __init__(self, cfg: EngineConfig, adapters: list[Adapter], default: str | None,
                 *, on_gpu: bool | None = None, log=None):
        self.cfg = cfg
        self.adapters = list(adapters)
        self.on_gpu = cuda_available() if on_gpu is None else on_gpu
        self._log = log or (lambda m: print(f"rxassist serve: {m}", file=sys.stderr, flush=True))
        default_adapter = next((a for a in adapters if a.name == default), None)
        self.merged = use_merged(cfg, default_adapter, on_gpu=self.on_gpu)
        check_parallel(cfg, merged=self.merged)
        self.lora: EngineProcess | None = None
        self._router_thread: threading.Thread | None = None
        self._router_server = None
        if not self.merged:
            self.main = EngineProcess(cfg, adapters, on_gpu=self.on_gpu)
            return
        from serving.merge import ensure_merged

        try:
            merged_path, built = ensure_merged(cfg.base_model, default_adapter, log=self._log)
        except (OSError, ValueError, RuntimeError) as e:  # unreadable/corrupt adapter or base
            raise ModelUnavailable(
                f"could not merge the default adapter {default!r} ({default_adapter.path}) into "
                f"{cfg.base_model!r}: {type(e).__name__}: {e}. Fix or remove the adapter, or "
                f"start with --merge-default off") from e
        if not built:
            self._log(f"serving adapter {default} merged (cached: {merged_path})")
        others = tuple(a for a in adapters if a.name != default)
        self.main = EngineProcess(cfg, [], EngineSpec(
            model=str(merged_path), served_names=(default,), port=free_port(ENGINE_HOST),
            lora=False, log_path=cfg.log_path, host=ENGINE_HOST), on_gpu=self.on_gpu)
        self.lora = EngineProcess(cfg, list(others), EngineSpec(
            model=cfg.base_model, served_names=(cfg.served_name,), port=free_port(ENGINE_HOST),
            lora=True, adapters=others, log_path=_lora_log(cfg.log_path), host=ENGINE_HOST),
            on_gpu=self.on_gpu)

    @property
    def base_url(self) -> str:
        return f"http://{self.cfg.host}:{self.cfg.port}/v1"

    @property
    def log_paths(self) -> list[Path]:
        return [self.main.log_path] + ([self.lora.log_path] if self.lora else [])

    def start(self) -> None:
        if self.merged:
            ensure_port_free(self.cfg.host, self.cfg.port, "model engine")
        self.main.start()

    def wait_ready(self, should_stop=lambda: False, *, defer_lora: bool = False) -> None:
        """Waits for the default engine, then starts the router, and the LoRA engine unless
        `defer_lora` (then `start_lora()` starts it; until then it counts as starting: its
        names are listed and its requests wait for it)."""
        self.main.wait_ready(should_stop)
        if self.lora is not None:
            if not defer_lora:
                self.start_lora()
            self._start_router()

    def start_lora(self) -> None:
        """Starts the LoRA engine if it has not been started (after the default engine: both
        at once would slow the default one's start)."""
        if self.lora is not None and self.lora.proc is None:
            self.lora.start()

    def _lora_alive(self) -> bool:
        """Running, or not started yet (deferred), which counts as starting."""
        return self.lora.proc is None or self.lora.alive()

    def _start_router(self) -> None:
        import uvicorn

        from serving.router import Upstream, create_router

        wait_s = self.cfg.startup_timeout_s
        main = Upstream(self.main.base_url[:-3], self.main.healthy, self.main.alive, wait_s)
        lora = Upstream(self.lora.base_url[:-3], self.lora.healthy, self._lora_alive, wait_s)
        app = create_router(main, lora, self._lora_names, self._lora_cards,
                            api_key=self.cfg.api_key.get_secret_value())
        self._router_server = uvicorn.Server(uvicorn.Config(
            app, host=self.cfg.host, port=self.cfg.port, log_level="warning", access_log=False))
        self._router_thread = threading.Thread(target=self._router_server.run,
                                               name="model-api-router", daemon=True)
        self._router_thread.start()

    def _lora_names(self) -> set[str]:
        return {self.cfg.served_name} | {a.name for a in self.lora.adapters}

    def _lora_cards(self) -> list[dict]:
        """Model cards shaped like vLLM's for the LoRA engine's names, before it answers."""
        base = self.cfg.served_name
        cards = [{"id": base, "object": "model", "owned_by": "vllm", "root": self.cfg.base_model,
                  "parent": None}]
        return cards + [{"id": a.name, "object": "model", "owned_by": "vllm",
                         "root": str(a.path), "parent": base} for a in self.lora.adapters]

    def members(self) -> list[tuple[str, EngineProcess]]:
        """The engine processes, each supervised (restarted) on its own."""
        if self.lora is None:
            return [("model engine", self.main)]
        return [("default-adapter engine", self.main), ("lora engine", self.lora)]

    def alive(self) -> bool:
        return self.main.alive() and (self.lora is None or self._lora_alive())

    def healthy(self) -> bool:
        return self.main.healthy() and (self.lora is None or self._lora_alive())

    def load_adapter(self, adapter: Adapter) -> None:
        target = self.lora or self.main
        if self.lora is not None:
            self.start_lora()
            self.lora.wait_ready()
        target.load_adapter(adapter)
        self.adapters.append(adapter)

    def stop(self) -> None:
        if self._router_server is not None:
            self._router_server.should_exit = True
        for engine in (self.lora, self.main):
            if engine is not None:
                engine.stop()
        if self._router_thread is not None:
            self._router_thread.join(timeout=10)


def _lora_log(main_log: Path) -> Path:
    return main_log.with_name(main_log.stem + "-lora" + main_log.suffix)
