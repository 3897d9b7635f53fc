"""Assistant configuration and the model-id registry it implies.

Model ids the assistant API lists (OpenAI `model` field):

    rxassist              -> the default adapter, or the base model when there is none
    rxassist:base         -> the base model without any adapter
    rxassist:<adapter>    -> that LoRA adapter, addressed by the name vLLM serves it under

An adapter is only ever addressed by a registered name, never by a path a client sends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rxassist.errors import ConfigError, NotFound
from rxassist.schemas import MAX_CANDIDATES, MAX_RECOMMENDATIONS, MAX_RECOMMENDATIONS_CAP

MODEL_PREFIX = "rxassist"
BASE_SUFFIX = "base"
# vLLM accepts almost any adapter name; we keep ours to names that are safe inside a model id.
_ADAPTER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,127}$")


def _check_adapter_names(adapters: list[str], param: str) -> list[str]:
    if not isinstance(adapters, (list, tuple)):
        raise ConfigError(f"{param} must be a list of adapter names, got {type(adapters).__name__}",
                          param=param)
    out: list[str] = []
    for name in adapters:
        if not isinstance(name, str) or not _ADAPTER_NAME.match(name):
            raise ConfigError(f"{param}: {name!r} is not a valid adapter name "
                              "(letters, digits, '.', '_', '-'; at most 128 characters)", param=param)
        if name == BASE_SUFFIX:
            raise ConfigError(f"{param}: an adapter may not be called {BASE_SUFFIX!r}; "
                              f"'{MODEL_PREFIX}:{BASE_SUFFIX}' means the base model", param=param)
        if name not in out:
            out.append(name)
    return out


@dataclass
class AssistantConfig:
    """Where the served model lives and which adapters it offers."""

    model_base_url: str = field(metadata={"help": "vLLM's OpenAI API, e.g. http://127.0.0.1:8001/v1"})
    base_model: str = field(metadata={"help": "the served base model name as vLLM lists it"})
    adapters: list[str] = field(default_factory=list,
                                metadata={"help": "LoRA adapter names vLLM serves"})
    default_adapter: str | None = field(
        default=None, metadata={"help": "adapter behind model id 'rxassist' (None -> base model)"})
    api_key: str = field(default="EMPTY", metadata={"help": "API key vLLM expects, if any"})
    # A CPU engine under load writes a few tokens a second: raise this there.
    request_timeout_s: float = field(default=120, metadata={"help": "per model request, seconds"})
    # The answer names up to 5 candidates ({"choices": [...]}): ~40 tokens; 96 leaves room.
    max_tokens: int = field(default=96, metadata={"help": "cap on the model's JSON answer"})
    temperature: float = field(default=0.0, metadata={"help": "0 = reproducible recommendations"})
    compact_json: bool = field(
        default=False, metadata={"help": "also ask vLLM for JSON without free whitespace "
                                         "(vLLM-only structured_outputs option)"})
    recommendations: int = field(default=MAX_RECOMMENDATIONS,
                                 metadata={"help": "ranked recommendations per answer (1-5)"})
    choice: str = field(default="enum", metadata={
        "help": "how the model chooses among candidates: enum (structured output) or logprob"})
    candidate_limit: int = field(default=MAX_CANDIDATES,
                                 metadata={"help": "candidates looked up per diagnosis"})

    def __post_init__(self) -> None:
        if not isinstance(self.model_base_url, str) or not re.match(r"^https?://\S+$",
                                                                    self.model_base_url):
            raise ConfigError(f"model_base_url must be an http(s) URL, got {self.model_base_url!r}",
                              param="model_base_url")
        self.model_base_url = self.model_base_url.rstrip("/")
        if not isinstance(self.base_model, str) or not self.base_model.strip():
            raise ConfigError(f"base_model must be a non-empty model name, got {self.base_model!r}",
                              param="base_model")
        self.adapters = _check_adapter_names(self.adapters, "adapters")
        if self.default_adapter is not None and self.default_adapter not in self.adapters:
            raise ConfigError(f"default_adapter {self.default_adapter!r} is not one of adapters "
                              f"{self.adapters}", param="default_adapter")
        if not isinstance(self.request_timeout_s, (int, float)) or self.request_timeout_s <= 0:
            raise ConfigError(f"request_timeout_s must be > 0, got {self.request_timeout_s!r}",
                              param="request_timeout_s")
        if not isinstance(self.max_tokens, int) or self.max_tokens < 16:
            raise ConfigError(f"max_tokens must be an integer >= 16, got {self.max_tokens!r}",
                              param="max_tokens")
        if not isinstance(self.temperature, (int, float)) or not 0 <= self.temperature <= 2:
            raise ConfigError(f"temperature must be within [0, 2], got {self.temperature!r}",
                              param="temperature")
        if (not isinstance(self.recommendations, int)
                or not 1 <= self.recommendations <= MAX_RECOMMENDATIONS_CAP):
            raise ConfigError(f"recommendations must be within 1..{MAX_RECOMMENDATIONS_CAP}, "
                              f"got {self.recommendations!r}", param="recommendations")
        if self.choice not in ("enum", "logprob"):
            raise ConfigError(f"choice must be 'enum' or 'logprob', got {self.choice!r}",
                              param="choice")
        if not isinstance(self.candidate_limit, int) or not 1 <= self.candidate_limit <= 50:
            raise ConfigError(f"candidate_limit must be within 1..50, got "
                              f"{self.candidate_limit!r}", param="candidate_limit")

    def model_settings(self):
        """The model client's settings (rxassist.model_client): the one request definition."""
        from rxassist.model_client import ModelSettings
        # No silent retries: a clinician waiting on a timed-out answer is not kept for minutes.
        return ModelSettings(base_url=self.model_base_url, api_key=self.api_key,
                             timeout_s=self.request_timeout_s, max_retries=0,
                             temperature=self.temperature, max_tokens=self.max_tokens,
                             choice=self.choice, compact_json=self.compact_json)


def model_ids(adapters: list[str]) -> list[str]:
    return [MODEL_PREFIX, f"{MODEL_PREFIX}:{BASE_SUFFIX}"] + [f"{MODEL_PREFIX}:{a}" for a in adapters]


def resolve_model(model_id: str, *, base_model: str, adapters: list[str],
                  default_adapter: str | None) -> str:
    """The name to send to vLLM for an assistant model id; NotFound for anything unregistered."""
    if model_id == MODEL_PREFIX:
        if default_adapter is not None and default_adapter in adapters:
            return default_adapter
        return base_model
    if isinstance(model_id, str) and model_id.startswith(MODEL_PREFIX + ":"):
        suffix = model_id[len(MODEL_PREFIX) + 1:]
        if suffix == BASE_SUFFIX:
            return base_model
        if suffix in adapters:
            return suffix
    raise NotFound(f"model {model_id!r} does not exist; available: {', '.join(model_ids(adapters))}",
                   param="model", code="model_not_found")
