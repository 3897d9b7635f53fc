"""`rxassist serve`: one command starts the model engine, the assistant API and the chat UI."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path

from rxassist.paths import rxassist_home
from serving.api_limits import ApiLimits
from serving.config import EngineConfig, ServeConfig


def _default(model, name: str):
    """The default an option takes: the config model's own, declared once there."""
    return model.model_fields[name].default


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="start the model engine (vLLM), the assistant API and the chat UI",
                       description="Starts vLLM's OpenAI server with every adapter found, then the "
                                   "assistant API with the Gradio chat at /ui. Ctrl-C or SIGTERM "
                                   "stops everything.")
    p.add_argument("--host", default=_default(ServeConfig, "host"),
                   help="address of the assistant API and UI; anything but loopback needs --api-key")
    p.add_argument("--api-key", default=os.environ.get("RXASSIST_API_KEY"),
                   help="key(s) for the assistant API (Authorization: Bearer KEY) and the chat UI "
                        "(password); several comma-separated (default: $RXASSIST_API_KEY)")
    p.add_argument("--model-host", default=_default(EngineConfig, "host"),
                   help="address of the model API (default loopback: only this machine)")
    p.add_argument("--model-api-key", default=os.environ.get("RXASSIST_MODEL_API_KEY"),
                   help="the model API's own key (default: $RXASSIST_MODEL_API_KEY, else a new "
                        "one per start, written to $RXASSIST_HOME/run/model-api-key-PORT, 0600)")
    p.add_argument("--max-concurrent", type=int, default=ApiLimits.concurrent,
                   help="consultation turns processed at once")
    p.add_argument("--queue", type=int, default=ApiLimits.queue,
                   help="turns waiting for a slot; beyond that the API answers 429 + Retry-After")
    p.add_argument("--deadline", type=float, default=ApiLimits.deadline_s,
                   help="seconds one API request may take in all, queue included (then 504)")
    p.add_argument("--feedback", action="store_true",
                   help="let the chat UI store per-drug feedback (patient summary included) in "
                        "$RXASSIST_HOME/feedback/reviews.csv (owner-only); off by default")
    p.add_argument("--port", type=int, default=_default(ServeConfig, "port"),
                   help="assistant API and UI port")
    p.add_argument("--model-port", type=int, default=_default(EngineConfig, "port"),
                   help="vLLM model API port")
    p.add_argument("--base-model", default=None,
                   help="local model folder or hub id (default: embedded SmolLM2-135M-Instruct)")
    p.add_argument("--adapter-dir", action="append", type=Path, default=None,
                   help="folder of adapter folders (repeatable; default: the repo's adapters/ "
                        "and $RXASSIST_HOME/adapters)")
    p.add_argument("--default-adapter", default=None,
                   help="adapter behind model id 'rxassist' (default: the shipped default)")
    p.add_argument("--max-lora-rank", type=int, default=_default(EngineConfig, "max_lora_rank"))
    p.add_argument("--max-model-len", type=int, default=_default(EngineConfig, "max_model_len"))
    p.add_argument("--enforce-eager", action="store_true",
                   help="skip torch.compile in the engine: faster start, slower answers")
    p.add_argument("--startup-timeout", type=float,
                   default=_default(EngineConfig, "startup_timeout_s"),
                   help="seconds to wait for vLLM")
    p.add_argument("--request-timeout", type=float,
                   default=_default(ServeConfig, "request_timeout_s"),
                   help="seconds the assistant waits for one model answer")
    # No default here: the assistant's own (AssistantConfig.reader) applies, and parsing the
    # options does not import the assistant.
    p.add_argument("--reader", default=None, choices=["rules", "llm", "both"],
                   help="who reads the consultation: rules (default), llm (the served model "
                        "through LangChain structured output; for comparison) or both (the "
                        "rules stay the authority; the model may only add caution)")
    p.add_argument("--adapter-rescan", type=float, default=_default(ServeConfig, "adapter_rescan_s"),
                   help="seconds between scans for new adapters (0: never)")
    _add_speed_options(p)
    _add_scaling_options(p)
    p.set_defaults(func=run, serve_defaults={a.dest: a.default for a in p._actions})


def _add_scaling_options(p: argparse.ArgumentParser) -> None:
    """An existing engine instead of our own; vLLM's parallelism for the one we start
    (docs/scaling.md)."""
    from serving.parallel import EXECUTOR_BACKENDS

    g = p.add_argument_group("beyond one machine (docs/scaling.md)")
    g.add_argument("--model-url", default=os.environ.get("RXASSIST_MODEL_URL"),
                   help="use the OpenAI-compatible vLLM server at this URL (e.g. "
                        "http://10.0.0.5:8001/v1) and start no engine; its /v1/models gives the "
                        "base model and adapters; another machine needs --model-api-key "
                        "(default: $RXASSIST_MODEL_URL)")
    g.add_argument("--tensor-parallel-size", type=int,
                   default=_default(EngineConfig, "tensor_parallel_size"),
                   help="vLLM: GPUs each layer is split over (one node)")
    g.add_argument("--pipeline-parallel-size", type=int,
                   default=_default(EngineConfig, "pipeline_parallel_size"),
                   help="vLLM: pipeline stages, usually one per node")
    g.add_argument("--distributed-executor-backend", default=None, choices=EXECUTOR_BACKENDS,
                   help="vLLM: mp on one node, ray across nodes (a Ray cluster started first)")
    g.add_argument("--max-loras", type=int, default=_default(EngineConfig, "max_loras"),
                   help="vLLM: adapters in one batch (LoRA engine)")
    g.add_argument("--max-cpu-loras", type=int, default=None,
                   help="vLLM: adapters kept loaded in CPU memory (>= --max-loras)")


def _add_speed_options(p: argparse.ArgumentParser) -> None:
    """Engine settings chosen from measurements (docs/benchmarks.md); each overridable."""
    g = p.add_argument_group("engine speed (defaults measured on a 2-core AVX2 CPU)")
    g.add_argument("--dtype", default=_default(EngineConfig, "dtype"), choices=["auto", "float32", "bfloat16", "float16"],
                   help="engine dtype; auto: bfloat16 on CPUs with native bf16 (avx512_bf16/"
                        "amx_bf16), else float32 (2.3x faster than bf16 here); the model's own "
                        "on GPUs")
    g.add_argument("--cpu-threads-bind", default=None,
                   help="cores the CPU engine's threads run on, e.g. 0-3 (VLLM_CPU_OMP_THREADS_BIND;"
                        " default: that variable if set, else every core this process may use)")
    g.add_argument("--reserved-cpus", type=int, default=None,
                   help="cores kept free of engine threads (VLLM_CPU_NUM_OF_RESERVED_CPU; "
                        "default: that variable if set, else 0)")
    g.add_argument("--kv-cache-gb", type=int, default=_default(EngineConfig, "kv_cache_gb"),
                   help="CPU KV cache per engine in GiB (default 1: 22 full contexts of the "
                        "embedded model; VLLM_CPU_KVCACHE_SPACE wins if set)")
    g.add_argument("--prefix-caching", action=argparse.BooleanOptionalAction,
                   default=_default(EngineConfig, "prefix_caching"),
                   help="reuse the KV cache of a prompt prefix shared by requests")
    g.add_argument("--merge-default", default=_default(EngineConfig, "merge_default"),
                   choices=["auto", "on", "off"],
                   help="serve the default adapter merged into the weights, in an engine without "
                        "LoRA (auto: on CPUs; other adapters keep a LoRA engine)")


def _build_config(args):
    from rxassist.errors import validated
    from rxassist.paths import SHIPPED_ADAPTERS_DIR, resolve_base_model, user_adapters_dir

    base = resolve_base_model(args.base_model)
    served_name = Path(base).name if Path(base).exists() else base
    engine = validated(
        EngineConfig, option=True, base_model=base, served_name=served_name,
        host=args.model_host, api_key=args.model_api_key_resolved,
        adapter_dirs=args.adapter_dir or [SHIPPED_ADAPTERS_DIR, user_adapters_dir()],
        port=args.model_port, max_model_len=args.max_model_len,
        max_lora_rank=args.max_lora_rank, enforce_eager=args.enforce_eager,
        startup_timeout_s=args.startup_timeout, dtype=args.dtype,
        cpu_threads_bind=args.cpu_threads_bind, reserved_cpus=args.reserved_cpus,
        kv_cache_gb=args.kv_cache_gb, prefix_caching=args.prefix_caching,
        merge_default=args.merge_default, tensor_parallel_size=args.tensor_parallel_size,
        pipeline_parallel_size=args.pipeline_parallel_size,
        distributed_executor_backend=args.distributed_executor_backend,
        max_loras=args.max_loras, max_cpu_loras=args.max_cpu_loras,
        log_path=rxassist_home() / "logs" / f"engine-{args.model_port}.log")
    kwargs = dict(host=args.host, port=args.port, default_adapter=args.default_adapter,
                  adapter_rescan_s=args.adapter_rescan, request_timeout_s=args.request_timeout,
                  engine=engine)
    if args.adapter_dir:
        kwargs["adapter_dirs"] = args.adapter_dir
    return validated(ServeConfig, option=True, **kwargs)


def run(args) -> int:
    from rxassist.errors import ConfigError, NotFound
    from serving.auth import check_keys, model_api_key, write_key_file
    from serving.adapters import default_adapter_name, discover
    from serving.vllm_process import PRIVACY_ENV, ensure_port_free
    from serving.engines import ServingEngines

    if args.model_url:  # an existing engine: nothing of ours to start
        from serving.remote_serve import run_remote
        return run_remote(args, args.serve_defaults)

    os.environ.update(PRIVACY_ENV)  # before gradio or langchain are imported

    if args.port == args.model_port:
        raise ConfigError("--port and --model-port must differ")
    api_keys = check_keys(args)
    ensure_port_free(args.host, args.port, "assistant API")
    args.model_api_key_resolved = model_api_key(args.model_api_key)
    cfg = _build_config(args)
    key_file = write_key_file(rxassist_home() / "run" / f"model-api-key-{cfg.engine.port}",
                              args.model_api_key_resolved)
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
        # Built while the engine starts (imports, tokenizer, the Gradio UI: ~5 s of one core
        # that the engine's own single-threaded start leaves free), so start-up does not wait
        # for it after the engine is ready.
        try:
            server = _build_api(cfg, engine, default, stop, api_keys, args)
        except Exception:
            # A broken model folder fails both; the engine's own error (with its log) says more.
            engine.wait_ready(should_stop=stop.is_set, defer_lora=True)
            raise
        # The LoRA engine (base model, other adapters) starts once the assistant API is up
        # (start_background below), so the default path is ready as soon as its own engine is.
        engine.wait_ready(should_stop=stop.is_set, defer_lora=True)
        print(f"rxassist serve: model API key in {key_file} (owner-only)", file=sys.stderr,
              flush=True)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        if engine is not None:
            engine.stop()
        key_file.unlink(missing_ok=True)
    print("rxassist serve: stopped", file=sys.stderr, flush=True)
    return 0


def _build_api(cfg, engine, default_adapter, stop: threading.Event, api_keys: list[str],
               args):
    """The assistant API server (not yet running); nothing here needs the engine to be up."""
    from assistant import Assistant, AssistantConfig
    from assistant.ui import build_ui
    from serving.vllm_process import health_ok
    from serving.app import create_app, ready_server
    from serving.supervisor import supervise
    from serving.watcher import AdapterWatcher

    assistant = Assistant(AssistantConfig(
        model_base_url=engine.base_url, base_model=cfg.engine.served_name,
        adapters=[a.name for a in engine.adapters], default_adapter=default_adapter,
        api_key=cfg.engine.api_key.get_secret_value(),   # the model API's own key
        # Two CPU cores with LoRA can take minutes per answer under load; the API client's own
        # timeout still bounds what a caller waits.
        request_timeout_s=cfg.request_timeout_s,
        **({"reader": args.reader} if args.reader else {})))

    from assistant.budget import PromptBudget

    assistant.prompt_budget = PromptBudget.from_model(
        cfg.engine.base_model, cfg.engine.max_model_len, assistant.config.max_tokens)
    supervisor = supervise(engine, stop)   # each engine process restarted on its own

    def engine_healthy() -> bool:
        return (engine.alive() and supervisor.state == "ready"
                and health_ok(cfg.engine.host, cfg.engine.port))

    limits = ApiLimits(concurrent=args.max_concurrent, queue=args.queue, deadline_s=args.deadline)
    app = create_app(assistant, engine_healthy=engine_healthy,
                     ui=build_ui(assistant, feedback=args.feedback), api_keys=api_keys,
                     limits=limits, engine_state=supervisor.describe)
    watcher = AdapterWatcher(cfg, engine, assistant, stop)

    def start_background() -> None:
        """Once the API answers: the LoRA engine, then what watches the engines and adapters
        (the supervisors would otherwise take the not-yet-started LoRA engine for a dead one)."""
        from rxassist.errors import RxAssistError

        try:
            engine.start_lora()
        except (RxAssistError, OSError) as e:  # the supervisor retries it
            print(f"rxassist serve: the LoRA engine did not start: {e}", file=sys.stderr,
                  flush=True)
        supervisor.start()
        watcher.start()

    return ready_server(app, cfg.host, cfg.port, api_keys, engine, "key required",
                        start_background)
