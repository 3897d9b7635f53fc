"""Assistant configuration and the model-id registry it implies.

Model ids the assistant API lists (OpenAI `model` field):

    rxassist              -> the default adapter, or the base model when there is none
    rxassist:base         -> the base model without any adapter
    rxassist:<adapter>    -> that LoRA adapter, addressed by the name vLLM serves it under

An adapter is only ever addressed by a registered name, never by a path a client sends.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, \
    field_validator

from rxassist.adapters import is_adapter_name
from rxassist.errors import NotFound, config_error
from recommend.model_client import ModelSettings
from recommend.pipeline import RecommendSettings
from recommend.schemas import (MAX_CANDIDATES, MAX_OFFERED, MAX_RECOMMENDATIONS,
                              MAX_RECOMMENDATIONS_CAP, MODEL_MARGIN)

def _model_default(name: str):
    """A model-call default: the model client's own (recommend.model_client.ModelSettings)."""
    return ModelSettings.model_fields[name].default


MODEL_PREFIX = "rxassist"
BASE_SUFFIX = "base"


class AssistantConfig(BaseModel):
    """Where the served model lives and which adapters it offers.

    Built with keywords; a bad value raises ConfigError naming the field (`param`)."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    model_base_url: str = Field(description="vLLM's OpenAI API, e.g. http://127.0.0.1:8001/v1")
    base_model: str = Field(description="the served base model name as vLLM lists it")
    adapters: list[str] = Field(default_factory=list, description="LoRA adapter names vLLM serves")
    default_adapter: str | None = Field(
        None, description="adapter behind model id 'rxassist' (None -> base model)")
    api_key: str = Field(_model_default("api_key"), description="API key vLLM expects, if any")
    # A CPU engine under load writes a few tokens a second: raise this there.
    request_timeout_s: float = Field(_model_default("timeout_s"), gt=0,
                                     description="per model request, seconds")
    max_tokens: int = Field(_model_default("max_tokens"), ge=16, strict=True,
                            description="cap on the model's JSON answer")
    temperature: float = Field(_model_default("temperature"), ge=0, le=2,
                               description="0 = reproducible recommendations")
    compact_json: bool = Field(
        _model_default("compact_json"), description="also ask vLLM for JSON without free "
                                                    "whitespace (vLLM-only structured_outputs "
                                                    "option)")
    recommendations: int = Field(MAX_RECOMMENDATIONS, ge=1, le=MAX_RECOMMENDATIONS_CAP,
                                 strict=True, description="ranked recommendations per answer")
    choice: str = Field(_model_default("choice"), pattern="^(enum|logprob)$",
                        description="how the model chooses among candidates: enum (structured "
                                    "output) or logprob")
    fill_with_evidence: bool = Field(
        True, description="after the model's choices, add the next candidates in evidence order "
                          "up to `recommendations` ranked options (marked chosen_by=evidence)")
    candidate_limit: int = Field(MAX_CANDIDATES, ge=1, le=50, strict=True,
                                 description="candidates looked up per diagnosis")
    offer_limit: int = Field(MAX_OFFERED, ge=1, le=MAX_CANDIDATES, strict=True,
                             description="the best-supported safe candidates the model "
                                         "chooses among")
    model_margin: float | None = Field(
        MODEL_MARGIN, ge=0, description="a candidate whose evidence score beats the model's "
                                        "choice by more than this ranks above it (None: the "
                                        "model's choices always rank first)")

    pregnancy_ask_ages: tuple[float, float] = Field(
        (12, 50), description="a woman is asked her pregnancy status only from the first age up "
                              "to (not including) the second, in years; 'postmenopausal' "
                              "answers it at any age")

    @field_validator("pregnancy_ask_ages")
    @classmethod
    def _age_range(cls, v: tuple[float, float]) -> tuple[float, float]:
        low, high = v
        if not 0 <= low < high <= 130:
            raise ValueError(f"must be (low, high) years with 0 <= low < high <= 130, got {v!r}")
        return v

    reader: str = Field(
        "rules", pattern="^(rules|llm|both)$",
        description="who reads the consultation: rules (the deterministic reader), llm (the "
                    "served model through LangChain structured output, for comparison), or "
                    "both (the rules stay the authority; the model may only add caution)")
    reader_adapter: str | None = Field(
        None, description="adapter the model reader asks (None: the base model)")
    # Seven short fields fit in ~120 tokens; the cap stops a small model that loops in a list.
    reader_max_tokens: int = Field(256, ge=32, le=2048, strict=True,
                                   description="cap on the model reader's JSON answer")

    def __init__(self, **values):
        try:
            super().__init__(**values)
        except ValidationError as e:
            raise config_error(e) from None

    @field_validator("model_base_url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        if not re.match(r"^https?://\S+$", v):
            raise ValueError(f"must be an http(s) URL, got {v!r}")
        return v.rstrip("/")

    @field_validator("base_model")
    @classmethod
    def _non_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError(f"must be a non-empty model name, got {v!r}")
        return v

    @field_validator("adapters")
    @classmethod
    def _adapter_names(cls, adapters: list[str]) -> list[str]:
        out: list[str] = []
        for name in adapters:
            if not is_adapter_name(name):
                raise ValueError(f"{name!r} is not a valid adapter name (letters, digits, '.', "
                                 "'_', '-'; at most 64 characters)")
            if name == BASE_SUFFIX:
                raise ValueError(f"an adapter may not be called {BASE_SUFFIX!r}; "
                                 f"'{MODEL_PREFIX}:{BASE_SUFFIX}' means the base model")
            if name not in out:
                out.append(name)
        return out

    @field_validator("default_adapter", "reader_adapter")
    @classmethod
    def _adapter_is_served(cls, v: str | None, info: ValidationInfo) -> str | None:
        adapters = info.data.get("adapters", [])
        if v is not None and v not in adapters:
            raise ValueError(f"{v!r} is not one of adapters {adapters}")
        return v

    def recommend_settings(self):
        """How candidates become ranked recommendations (recommend.pipeline)."""
        return RecommendSettings(recommendations=self.recommendations,
                                 candidate_limit=self.candidate_limit,
                                 offer_limit=self.offer_limit,
                                 fill_with_evidence=self.fill_with_evidence,
                                 model_margin=self.model_margin)

    def model_settings(self):
        """The model client's settings (recommend.model_client): the one request definition."""
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
