"""`rxassist serve --model-url URL`: the assistant API and chat UI on an existing vLLM server.

No engine is started. The remote's `/v1/models` gives the base model and the adapters
(serving.remote); every protection of the local path stays: API keys, the admission gate and
deadline, body limits, error objects without patient data, 503 + Retry-After while the remote
cannot be reached. Nothing is kept between requests (the history travels with each one), so any
number of these replicas can share one engine behind a load balancer (docs/scaling.md).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from rxassist.errors import ConfigError

# Options that shape an engine rxassist starts; with --model-url there is none, so a value given
# for one of them is ignored, and said so.
LOCAL_ENGINE_OPTIONS = ("model_port", "model_host", "adapter_dir", "max_lora_rank",
                        "enforce_eager", "startup_timeout", "dtype", "cpu_threads_bind",
                        "reserved_cpus", "kv_cache_gb", "prefix_caching", "merge_default",
                        "tensor_parallel_size", "pipeline_parallel_size",
                        "distributed_executor_backend", "max_loras", "max_cpu_loras")


def _say(text: str) -> None:
    print(f"rxassist serve: {text}", file=sys.stderr, flush=True)


def ignored_options(args, defaults: dict) -> list[str]:
    return ["--" + name.replace("_", "-") for name in LOCAL_ENGINE_OPTIONS
            if hasattr(args, name) and getattr(args, name) != defaults.get(name)]


def remote_spec(args):
    """The remote's URL and key, refusing what would send patient data unprotected (exit 2)."""
    from serving.auth import is_loopback, parse_keys
    from serving.remote import RemoteSpec, normalize_url

    url = normalize_url(args.model_url)
    spec = RemoteSpec(url, args.model_api_key or None,
                      timeout_s=min(30.0, max(1.0, args.request_timeout)))
    if args.model_api_key:
        try:
            parse_keys(args.model_api_key)
        except ValueError as e:
            raise ConfigError(f"--model-api-key: {e}") from None
        if "," in args.model_api_key:
            raise ConfigError("--model-api-key: give the remote engine's one key, not a list")
    if not is_loopback(spec.host) and not args.model_api_key:
        raise ConfigError(
            f"--model-url {url} is on another machine ({spec.host}), and consultations (patient "
            "data) would go to it; an engine reachable over the network must require a key, so "
            "pass the one it was started with (vLLM --api-key) as --model-api-key KEY or "
            "RXASSIST_MODEL_API_KEY.")
    if not is_loopback(spec.host) and url.startswith("http://"):
        _say(f"warning: {url} is plain HTTP: the key and the consultations cross the network "
             "unencrypted; use https:// or a private network you trust")
    return spec


def default_adapter_choice(args) -> str | None:
    """--default-adapter, else the shipped default's name; `base` means no adapter."""
    from rxassist.paths import SHIPPED_ADAPTERS_DIR
    from serving.adapters import DEFAULT_MARKER
    from serving.remote import NO_ADAPTER

    name = args.default_adapter
    if name is None:
        marker = SHIPPED_ADAPTERS_DIR / DEFAULT_MARKER
        name = marker.read_text().strip() if marker.is_file() else NO_ADAPTER
    return None if name == NO_ADAPTER else name


def tokenizer_folder(models, base_model_opt: str | None) -> str | None:
    """A folder on this machine with the remote base model's tokenizer, to count a prompt's
    tokens before it is sent (as the local path does); None when there is none."""
    from rxassist.paths import default_base_model_dir

    if base_model_opt:
        p = Path(base_model_opt).expanduser()
        return str(p) if (p / "config.json").exists() else None
    embedded = default_base_model_dir()
    names = {models.base, Path((models.base_root or "").rstrip("/")).name}
    if embedded.name in names and (embedded / "config.json").exists():
        return str(embedded)
    if models.base_root and (Path(models.base_root) / "config.json").exists():
        return models.base_root   # the same path here: shared storage
    return None


def run_remote(args, defaults: dict) -> int:
    from rxassist.paths import DEFAULT_BASE_MODEL_NAME
    from serving.vllm_process import PRIVACY_ENV, ensure_port_free
    from serving.remote import RemoteEngine, probe

    import os
    os.environ.update(PRIVACY_ENV)  # before gradio or langchain are imported

    from serving.auth import check_keys

    api_keys = check_keys(args)
    spec = remote_spec(args)
    for opt in ignored_options(args, defaults):
        _say(f"warning: {opt} is ignored with --model-url (it configures an engine rxassist "
             "starts itself; set it on the remote vLLM server)")
    ensure_port_free(args.host, args.port, "assistant API")
    base_hint = None if args.base_model in (None, "", "default") else args.base_model
    if base_hint == DEFAULT_BASE_MODEL_NAME:
        base_hint = None
    models = probe(spec, default_adapter_choice(args), base_hint)
    if models.ignored:
        _say(f"not offering {', '.join(models.ignored)} (another base model's, or a name "
             "rxassist cannot address)")
    _say(f"using the model server at {spec.base_url}: base {models.base}, "
         f"{len(models.adapters)} adapter(s), default {models.default or 'none (base model)'}")
    engine = RemoteEngine(spec, models)
    stop = threading.Event()

    def _terminate(signum, _frame):
        stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)
    try:
        server = _build_api(args, engine, models, api_keys, stop, base_hint)
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        engine.close()
    _say("stopped")
    return 0


def _prompt_budget(assistant, models, args, base_hint):
    from assistant.budget import PromptBudget

    folder = tokenizer_folder(models, base_hint)
    max_len = models.max_model_len or args.max_model_len
    if folder is None:
        _say(f"no local tokenizer for {models.base}: a prompt too long for its context is "
             "refused by the remote engine, not counted here first (pass --base-model FOLDER "
             "with that model's tokenizer to count it here)")
        return None
    try:
        return PromptBudget.from_model(folder, max_len, assistant.config.max_tokens)
    except (OSError, ValueError) as e:
        _say(f"could not read the tokenizer in {folder} ({type(e).__name__}); prompt length is "
             "checked by the remote engine only")
        return None


def _build_api(args, engine, models, api_keys: list[str], stop: threading.Event, base_hint):
    from assistant import Assistant, AssistantConfig
    from assistant.ui import build_ui
    from serving.app import ApiLimits, create_app, ready_server
    from serving.remote import RemoteWatcher

    assistant = Assistant(AssistantConfig(
        model_base_url=engine.base_url, base_model=models.base,
        adapters=list(models.adapters), default_adapter=models.default,
        api_key=engine.remote.api_key or "EMPTY", request_timeout_s=args.request_timeout))
    assistant.prompt_budget = _prompt_budget(assistant, models, args, base_hint)
    limits = ApiLimits(concurrent=args.max_concurrent, queue=args.queue, deadline_s=args.deadline)
    app = create_app(assistant, engine_healthy=engine.healthy,
                     ui=build_ui(assistant, feedback=args.feedback), api_keys=api_keys,
                     limits=limits, engine_state=engine.state)

    def adapters_changed(names: list[str]) -> None:
        assistant.set_adapters(names)
        _say(f"the model server now serves {len(names)} adapter(s): {', '.join(names)}")

    watcher = RemoteWatcher(engine, adapters_changed, stop, adapters_s=args.adapter_rescan)

    return ready_server(app, args.host, args.port, api_keys, engine,
                        "remote; no engine started here", watcher.start)
