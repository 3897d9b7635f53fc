"""`rxassist serve`: one command starts the model engine, the assistant API and the chat UI."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from rxassist.paths import rxassist_home


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the model engine (vLLM), the assistant API and the chat UI",
                       description="Starts vLLM's OpenAI server with every adapter found, then the "
                                   "assistant API with the Gradio chat at /ui. Ctrl-C or SIGTERM "
                                   "stops everything.")
    p.add_argument("--host", default="127.0.0.1", help="address of the assistant API and UI")
    p.add_argument("--port", type=int, default=8000, help="assistant API and UI port")
    p.add_argument("--model-port", type=int, default=8001, help="vLLM model API port")
    p.add_argument("--base-model", default=None,
                   help="local model folder or hub id (default: embedded SmolLM2-135M-Instruct)")
    p.add_argument("--adapter-dir", action="append", type=Path, default=None,
                   help="folder of adapter folders (repeatable; default: the repo's adapters/ "
                        "and $RXASSIST_HOME/adapters)")
    p.add_argument("--default-adapter", default=None,
                   help="adapter behind model id 'rxassist' (default: the shipped default)")
    p.add_argument("--max-lora-rank", type=int, default=32)
    p.add_argument("--max-model-len", type=int, default=2048)
    p.add_argument("--enforce-eager", action="store_true",
                   help="skip torch.compile in the engine: faster start, slower answers")
    p.add_argument("--startup-timeout", type=float, default=900, help="seconds to wait for vLLM")
    p.add_argument("--request-timeout", type=float, default=600,
                   help="seconds the assistant waits for one model answer")
    p.add_argument("--adapter-rescan", type=float, default=5.0,
                   help="seconds between scans for new adapters (0: never)")
    _add_speed_options(p)
    p.set_defaults(func=run)


def _add_speed_options(p: argparse.ArgumentParser) -> None:
    """Engine settings chosen from measurements (README, "Serving speed"); each overridable."""
    g = p.add_argument_group("engine speed (defaults measured on a 2-core AVX2 CPU)")
    g.add_argument("--dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"],
                   help="engine dtype; auto: bfloat16 on CPUs with native bf16 (avx512_bf16/"
                        "amx_bf16), else float32 (2.3x faster than bf16 here); the model's own "
                        "on GPUs")
    g.add_argument("--cpu-threads-bind", default=None,
                   help="cores the CPU engine's threads run on, e.g. 0-3 (VLLM_CPU_OMP_THREADS_BIND;"
                        " default: that variable if set, else every core this process may use)")
    g.add_argument("--reserved-cpus", type=int, default=None,
                   help="cores kept free of engine threads (VLLM_CPU_NUM_OF_RESERVED_CPU; "
                        "default: that variable if set, else 0)")
    g.add_argument("--kv-cache-gb", type=int, default=1,
                   help="CPU KV cache per engine in GiB (default 1: 22 full contexts of the "
                        "embedded model; VLLM_CPU_KVCACHE_SPACE wins if set)")
    g.add_argument("--prefix-caching", action=argparse.BooleanOptionalAction, default=True,
                   help="reuse the KV cache of a prompt prefix shared by requests")
    g.add_argument("--merge-default", default="auto", choices=["auto", "on", "off"],
                   help="serve the default adapter merged into the weights, in an engine without "
                        "LoRA (auto: on CPUs; other adapters keep a LoRA engine)")


def _build_config(args):
    from pydantic import ValidationError

    from rxassist.errors import ConfigError
    from rxassist.paths import resolve_base_model
    from serving.config import EngineConfig, ServeConfig

    base = resolve_base_model(args.base_model)
    served_name = Path(base).name if Path(base).exists() else base
    try:
        engine = EngineConfig(base_model=base, served_name=served_name, host=args.host,
                              port=args.model_port, max_model_len=args.max_model_len,
                              max_lora_rank=args.max_lora_rank, enforce_eager=args.enforce_eager,
                              startup_timeout_s=args.startup_timeout,
                              dtype=args.dtype, cpu_threads_bind=args.cpu_threads_bind,
                              reserved_cpus=args.reserved_cpus, kv_cache_gb=args.kv_cache_gb,
                              prefix_caching=args.prefix_caching,
                              merge_default=args.merge_default,
                              log_path=rxassist_home() / "logs" / f"engine-{args.model_port}.log")
        kwargs = dict(host=args.host, port=args.port, default_adapter=args.default_adapter,
                      adapter_rescan_s=args.adapter_rescan,
                      request_timeout_s=args.request_timeout, engine=engine)
        if args.adapter_dir:
            kwargs["adapter_dirs"] = args.adapter_dir
        return ServeConfig(**kwargs)
    except ValidationError as e:
        err = e.errors()[0]
        raise ConfigError(f"--{'-'.join(str(x) for x in err['loc']).replace('_', '-')}: "
                          f"{err['msg']}") from None


def run(args) -> int:
    import os

    from rxassist.errors import ConfigError, NotFound
    from serving.adapters import default_adapter_name, discover
    from serving.engine import PRIVACY_ENV, ensure_port_free
    from serving.engines import ServingEngines

    os.environ.update(PRIVACY_ENV)  # before gradio or langchain are imported

    if args.port == args.model_port:
        raise ConfigError("--port and --model-port must differ")
    ensure_port_free(args.host, args.port, "assistant API")
    cfg = _build_config(args)
    adapters, skipped = discover(cfg.adapter_dirs, cfg.engine.base_model, cfg.engine.max_lora_rank)
    for s in skipped:
        print(f"rxassist serve: not serving adapter {s.path}: {s.reason}", file=sys.stderr)
    default = cfg.default_adapter or default_adapter_name(cfg.adapter_dirs, adapters)
    if cfg.default_adapter and cfg.default_adapter not in {a.name for a in adapters}:
        raise NotFound(f"--default-adapter {cfg.default_adapter!r} is not among the adapters "
                       f"found: {sorted(a.name for a in adapters) or 'none'}")

    stop = threading.Event()

    def _terminate(signum, _frame):
        stop.set()
        raise KeyboardInterrupt

    # Kept for the whole run: uvicorn re-raises the SIGTERM it caught after its own shutdown,
    # and this handler turns that into the KeyboardInterrupt that reaches `finally` below.
    signal.signal(signal.SIGTERM, _terminate)
    print(f"rxassist serve: starting the model engine on port {cfg.engine.port} "
          f"({cfg.engine.served_name}, {len(adapters)} adapter(s)); log: {cfg.engine.log_path}",
          file=sys.stderr, flush=True)
    engine = None
    try:
        engine = ServingEngines(cfg.engine, adapters, default)
        engine.start()
        engine.wait_ready(should_stop=stop.is_set)
        _serve_api(cfg, engine, default, stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if engine is not None:
            engine.stop()
    print("rxassist serve: stopped", file=sys.stderr, flush=True)
    return 0


def _serve_api(cfg, engine, default_adapter, stop: threading.Event) -> None:
    import httpx
    import uvicorn

    from assistant import Assistant, AssistantConfig
    from assistant.ui import build_ui
    from serving.app import create_app
    from serving.watcher import AdapterWatcher

    assistant = Assistant(AssistantConfig(
        model_base_url=engine.base_url, base_model=cfg.engine.served_name,
        adapters=[a.name for a in engine.adapters], default_adapter=default_adapter,
        # Two CPU cores with LoRA can take minutes per answer under load; the API client's own
        # timeout still bounds what a caller waits.
        request_timeout_s=cfg.request_timeout_s))

    def engine_healthy() -> bool:
        if not engine.alive():
            return False
        try:
            return httpx.get(f"http://{cfg.engine.host}:{cfg.engine.port}/health",
                             timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    app = create_app(assistant, engine_healthy=engine_healthy, ui=build_ui(assistant))
    watcher = AdapterWatcher(cfg, engine, assistant, stop)

    class Server(uvicorn.Server):
        async def startup(self, sockets=None):
            await super().startup(sockets)
            base = f"http://{cfg.host}:{cfg.port}"
            print(f"rxassist is ready (it supports clinicians, it does not replace them)\n"
                  f"  assistant API  {base}/v1\n  chat UI        {base}/ui\n"
                  f"  model API      {engine.base_url}", flush=True)

    # access_log off: URLs carry no patient data, but request logs are not needed by default.
    server = Server(uvicorn.Config(app, host=cfg.host, port=cfg.port, log_level="warning",
                                   access_log=False))
    watcher.start()
    server.run()
