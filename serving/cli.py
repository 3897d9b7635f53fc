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
    p.set_defaults(func=run)


def _build_config(args):
    from pydantic import ValidationError

    from rxassist.errors import ConfigError, describe_validation
    from rxassist.paths import resolve_base_model
    from serving.config import EngineConfig, ServeConfig

    base = resolve_base_model(args.base_model)
    served_name = Path(base).name if Path(base).exists() else base
    try:
        engine = EngineConfig(base_model=base, served_name=served_name, host=args.host,
                              port=args.model_port, max_model_len=args.max_model_len,
                              max_lora_rank=args.max_lora_rank, enforce_eager=args.enforce_eager,
                              startup_timeout_s=args.startup_timeout,
                              log_path=rxassist_home() / "logs" / f"engine-{args.model_port}.log")
        kwargs = dict(host=args.host, port=args.port, default_adapter=args.default_adapter,
                      adapter_rescan_s=args.adapter_rescan,
                      request_timeout_s=args.request_timeout, engine=engine)
        if args.adapter_dir:
            kwargs["adapter_dirs"] = args.adapter_dir
        return ServeConfig(**kwargs)
    except ValidationError as e:
        raise ConfigError(describe_validation(e.errors(), option=True, first_only=True)[0]) from None


def run(args) -> int:
    import os

    from rxassist.errors import ConfigError, NotFound
    from serving.adapters import default_adapter_name, discover
    from serving.engine import PRIVACY_ENV, EngineProcess, ensure_port_free

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

    engine = EngineProcess(cfg.engine, adapters)
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
    try:
        engine.start()
        engine.wait_ready(should_stop=stop.is_set)
        _serve_api(cfg, engine, default, stop)
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
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
