"""An existing OpenAI-compatible vLLM server as the model engine (`rxassist serve --model-url`).

Nothing is started: the remote's own `/v1/models` says which base model and adapters it serves,
its `/health` whether its engine runs. What is read here, and how:

    probe(remote, default, base_hint) -> RemoteModels   once at start-up; every failure is one
                                                         paragraph naming the cause (exit 1/2)
    RemoteEngine(remote, models)                         state() for /health: the last state a
                                                         background check saw, so a probe never
                                                         waits on the remote; refresh() checks
                                                         again and follows the adapter list a
                                                         deployment changes on its own

Which card is the base model: vLLM lists a LoRA adapter with `parent` set to its base, and a
model served as weights (a base, or an adapter merged into one) with `parent: null`. The base is
the card `--base-model` names, else the default adapter's parent, else the one parent of the
other adapters, else the only parent-less card besides the default; anything else is ambiguous
and start-up asks for `--base-model` rather than guess. Adapters are the cards whose parent is
that base, plus the default adapter (which may be served merged, without a parent).
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from rxassist.adapters import is_adapter_name
from rxassist.errors import ConfigError, ModelUnavailable, NotFound

# `--default-adapter base`: no adapter; model id 'rxassist' is the remote's base model. An
# adapter can never be called "base" (assistant.config), so the word is unambiguous.
NO_ADAPTER = "base"
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class RemoteSpec:
    """Where the remote is and how to reach it (the key stays out of reprs)."""

    base_url: str                       # ends in the OpenAI API root, e.g. http://h:8001/v1
    api_key: str | None = field(default=None, repr=False)
    timeout_s: float = PROBE_TIMEOUT_S

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}

    @property
    def health_url(self) -> str | None:
        """vLLM's /health sits beside /v1; a gateway with another path layout has none we know."""
        return self.base_url[:-3] + "/health" if self.base_url.endswith("/v1") else None

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""


def normalize_url(url: str) -> str:
    """`http://h:8001` and `http://h:8001/v1/` both mean vLLM's API root http://h:8001/v1; any
    other path (a gateway prefix such as /llm/v1) is kept as given."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--model-url {url!r} is not an http(s) URL such as "
                          "http://10.0.0.5:8001/v1")
    if parts.query or parts.fragment:
        raise ConfigError(f"--model-url {url!r}: give the API root without a query or fragment")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ConfigError(f"--model-url {url!r} has an invalid port") from None
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}{path or '/v1'}"


@dataclass(frozen=True)
class ModelCard:
    id: str
    parent: str | None
    root: str | None
    max_model_len: int | None

    @classmethod
    def read(cls, raw: dict) -> "ModelCard":
        mml = raw.get("max_model_len")
        return cls(id=str(raw.get("id", "")), parent=raw.get("parent") or None,
                   root=raw.get("root") or None,
                   max_model_len=mml if isinstance(mml, int) and mml > 0 else None)


@dataclass(frozen=True)
class RemoteModels:
    base: str                  # the name the remote serves the base model under
    base_root: str | None      # what the remote loaded it from (its folder or hub id)
    adapters: tuple[str, ...]  # names addressable as rxassist:<name>
    default: str | None        # behind model id 'rxassist' (None: the base model)
    max_model_len: int | None
    ignored: tuple[str, ...] = ()  # listed names rxassist cannot address (other bases, bad names)


class RemoteError(Exception):
    """What went wrong talking to the remote, as a sentence; `kind` picks the rxassist error."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind   # unreachable | key | unhealthy | invalid


def fetch_cards(remote: RemoteSpec, client: httpx.Client | None = None) -> list[ModelCard]:
    """GET /models; RemoteError naming the cause otherwise."""
    get = (client or httpx).get
    try:
        r = get(f"{remote.base_url}/models", headers=remote.headers, timeout=remote.timeout_s)
    except httpx.TimeoutException:
        raise RemoteError("unreachable", f"no answer within {remote.timeout_s:g} s") from None
    except httpx.HTTPError as e:
        raise RemoteError("unreachable", f"{type(e).__name__}: {e}"[:300]) from None
    if r.status_code in (401, 403):
        raise RemoteError("key", f"HTTP {r.status_code}")
    if r.status_code != 200:
        raise RemoteError("unhealthy", f"GET /models answered HTTP {r.status_code}")
    try:
        data = r.json()["data"]
        if not isinstance(data, list):
            raise TypeError
        return [ModelCard.read(d) for d in data if isinstance(d, dict) and d.get("id")]
    except (ValueError, KeyError, TypeError):
        raise RemoteError("invalid", "GET /models did not answer an OpenAI model list") from None


def _matches(card: ModelCard, hint: str) -> bool:
    name = Path(hint.rstrip("/")).name
    return card.id in (hint, name) or (card.root is not None
                                       and Path(card.root.rstrip("/")).name == name)


def pick_base(cards: list[ModelCard], default: str | None, hint: str | None) -> ModelCard:
    """The base model's card (rules in the module docstring); ValueError says why not."""
    by_id = {c.id: c for c in cards}
    bases = [c for c in cards if c.parent is None and c.id != default]
    if hint:
        found = [c for c in bases if _matches(c, hint)]
        if len(found) == 1:
            return found[0]
        raise ValueError(f"--base-model {hint!r} matches {len(found)} of the parent-less models "
                         f"it lists ({', '.join(c.id for c in bases) or 'none'})")
    if default is not None and by_id[default].parent in by_id:
        return by_id[by_id[default].parent]
    parents = {c.parent for c in cards if c.parent is not None and c.parent in by_id}
    if len(parents) == 1:
        return by_id[parents.pop()]
    if len(bases) == 1:
        return bases[0]
    raise ValueError(f"it is not clear which of {', '.join(c.id for c in bases) or 'no model'} "
                     "is the base model; name it with --base-model")


def read_models(cards: list[ModelCard], default: str | None, hint: str | None) -> RemoteModels:
    """The served names arranged for the assistant; ValueError/LookupError say what is wrong."""
    ids = [c.id for c in cards]
    if default is not None and default not in ids:
        raise LookupError(default)
    base = pick_base(cards, default, hint)
    if base.id == default:
        raise ValueError(f"{default!r} is the base model, not an adapter; for the base model "
                         f"without an adapter pass --default-adapter {NO_ADAPTER}")
    adapters, ignored = [], []
    for c in cards:
        if c.id == base.id:
            continue
        if (c.parent == base.id or c.id == default) and is_adapter_name(c.id) \
                and c.id != NO_ADAPTER:
            adapters.append(c.id)
        else:
            ignored.append(c.id)
    if default is not None and default not in adapters:
        raise ValueError(f"the default adapter {default!r} cannot be addressed by name (letters, "
                         "digits, '.', '_', '-'; at most 64 characters)")
    return RemoteModels(base=base.id, base_root=base.root, adapters=tuple(adapters),
                        default=default, max_model_len=base.max_model_len,
                        ignored=tuple(ignored))


def probe(remote: RemoteSpec, default: str | None, base_hint: str | None = None) -> RemoteModels:
    """Start-up check of the remote; each failure is one rxassist error with one paragraph."""
    where = f"--model-url {remote.base_url}"
    try:
        cards = fetch_cards(remote)
    except RemoteError as e:
        if e.kind == "key":
            raise ConfigError(
                f"{where} refused the model key ({e}). Pass the key the engine was started with "
                "(vLLM's --api-key or VLLM_API_KEY; for another `rxassist serve`, the one in its "
                "$RXASSIST_HOME/run/model-api-key-PORT) as --model-api-key or "
                "RXASSIST_MODEL_API_KEY.") from None
        if e.kind == "unreachable":
            raise ModelUnavailable(
                f"{where}: no model server answered ({e}). With --model-url rxassist starts no "
                "engine of its own: start the vLLM server first (or wait until its /health "
                "answers 200), check the host, port and path (the OpenAI API root, usually "
                "ending in /v1), and that this machine may reach it.") from None
        raise ModelUnavailable(
            f"{where} is not a usable OpenAI-compatible model server ({e}). Check that the URL "
            "points at vLLM's OpenAI API root (usually ending in /v1) and that its engine is "
            "healthy.") from None
    listed = ", ".join(c.id for c in cards) or "nothing"
    try:
        return read_models(cards, default, base_hint)
    except LookupError:
        raise NotFound(
            f"{where} does not serve the default adapter {default!r}; it lists: {listed}. Load "
            "the adapter into that engine (vLLM --lora-modules NAME=PATH, or its LoRA resolver "
            "from shared storage), or pick one it serves with --default-adapter NAME (or "
            f"--default-adapter {NO_ADAPTER} to use the base model without an adapter).",
            param="default_adapter") from None
    except ValueError as e:
        raise ConfigError(f"{where}: {e}; it lists: {listed}.") from None


class RemoteEngine:
    """The remote as `rxassist serve` watches it: its state for /health and its adapter list.

    `refresh()` asks the remote (RemoteWatcher calls it every few seconds); `state()` answers at
    once from what the last refresh saw, so load-balancer probes never wait on a slow remote,
    and only checks itself when no refresh ran for `stale_s` (the watcher stopped)."""

    def __init__(self, remote: RemoteSpec, models: RemoteModels, *, stale_s: float = 30.0,
                 health_timeout_s: float = 5.0):
        self.remote, self.models = remote, models
        self.stale_s, self.health_timeout_s = stale_s, health_timeout_s
        self._lock = threading.Lock()
        # The start-up probe has just read the remote's model list.
        self._state: tuple[float, str] = (time.monotonic(), "ready")
        self._client = httpx.Client(timeout=health_timeout_s)

    @property
    def base_url(self) -> str:
        return self.remote.base_url

    def adapter_names(self) -> list[str]:
        return list(self.models.adapters)

    def _check(self) -> str:
        """"ready", or what is wrong in a few words (the first word becomes /health's code)."""
        spec = RemoteSpec(self.remote.base_url, self.remote.api_key, self.health_timeout_s)
        if spec.health_url is not None:
            try:
                r = self._client.get(spec.health_url)
            except httpx.HTTPError:
                return f"unreachable ({spec.base_url})"
            if r.status_code != 200:
                return f"unhealthy (its /health answered HTTP {r.status_code})"
        try:
            cards = fetch_cards(spec, self._client)
        except RemoteError as e:
            if e.kind == "key":
                return "refusing the model key"
            if e.kind == "unreachable":
                return f"unreachable ({spec.base_url})"
            return f"unhealthy ({e})"
        ids = {c.id for c in cards}
        if self.models.default is not None and self.models.default not in ids:
            return f"missing the default adapter {self.models.default}"
        if self.models.base not in ids:
            return f"missing the base model {self.models.base}"
        self._update(cards)
        return "ready"

    def refresh(self) -> str:
        with self._lock:
            self._state = (time.monotonic(), self._check())
            return self._state[1]

    def state(self) -> str:
        checked_at, state = self._state
        if time.monotonic() - checked_at >= self.stale_s:
            return self.refresh()
        return state

    def healthy(self) -> bool:
        return self.state() == "ready"

    def _update(self, cards: list[ModelCard]) -> None:
        """The deployment adds and removes adapters on its own; follow its list (the default
        is kept even while missing, so 'rxassist' never silently becomes another model)."""
        try:
            fresh = read_models(cards, self.models.default, self.models.base)
        except (LookupError, ValueError):
            return
        if fresh.adapters != self.models.adapters:
            self.models = fresh

    def close(self) -> None:
        self._client.close()


class RemoteWatcher(threading.Thread):
    """Refreshes the remote's state every `state_s` seconds; every `adapters_s` seconds (0:
    never) hands a changed adapter list to `on_adapters`."""

    def __init__(self, engine: RemoteEngine, on_adapters, stop: threading.Event,
                 adapters_s: float, state_s: float = 2.0):
        super().__init__(name="remote-engine-watcher", daemon=True)
        self.engine, self.on_adapters, self.stop_event = engine, on_adapters, stop
        self.adapters_s, self.state_s = adapters_s, state_s

    def run(self) -> None:
        known = self.engine.adapter_names()
        next_adapters = time.monotonic() + self.adapters_s
        while not self.stop_event.wait(self.state_s):
            try:
                self.engine.refresh()
            except Exception as e:  # the watcher must outlive one odd answer
                print(f"rxassist serve: checking the model server failed: {type(e).__name__}",
                      file=sys.stderr, flush=True)
                continue
            if self.adapters_s <= 0 or time.monotonic() < next_adapters:
                continue
            next_adapters = time.monotonic() + self.adapters_s
            now = self.engine.adapter_names()
            if now != known:
                known = now
                self.on_adapters(now)
