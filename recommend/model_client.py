"""The one model client: every request to the served model is built here, on the `openai` client.

Used by the assistant (async) and by `eval run`'s targets (sync). One request shape, so the
assistant and the eval suite ask the model exactly the same thing:

    choose(model, messages, names, k) -> Choice     the model picks up to k of `names`

Two ways to make the model choose only among the candidates (`ModelSettings.choice`):

    enum     vLLM structured output: the JSON schema's `choices` items are an enum of the names
             (recommend.schemas.answer_schema); one request, ~10 generated tokens. The default:
             see docs/recommending.md, "How the model chooses", for the measurement behind that.
    logprob  score every candidate by the log-probability of the answer naming it alone
             (`{"choices": ["<name>"]}` as a continued assistant turn, vLLM `prompt_logprobs`),
             one request per candidate, nothing generated; the best first, then any other
             whose share of the probability mass is at least `logprob_min_share`, up to k.

Retries, backoff and Retry-After are the openai client's (`max_retries`); errors are translated
once, in `translate_error`, into rxassist's error types. Prompts and answers are never logged.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

import openai
from pydantic import BaseModel, ConfigDict, Field

from rxassist.errors import ConfigError, ModelUnavailable, NotFound
from recommend.prompt import parse_choices, render_answer, response_format
from recommend.schemas import MAX_RECOMMENDATIONS, MAX_RECOMMENDATIONS_CAP

ChoiceMethod = Literal["enum", "logprob"]


class RequestRejected(ModelUnavailable):
    """The server refused this one request (a 4xx other than auth or an unknown model)."""


class ModelSettings(BaseModel):
    """Where the model is and how it is asked; one declaration of each default. The assistant,
    `eval run`'s targets and its judge each hold one (assistant.config, eval.config)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://\S+$")
    # The one model an eval target or judge asks; the assistant names a served model (adapter)
    # per request instead, so it leaves this empty.
    model: str | None = None
    api_key: str = Field("EMPTY", repr=False)
    # A CPU engine under load writes a few tokens a second: raise this there.
    timeout_s: float = Field(120.0, gt=0)
    max_retries: int = Field(2, ge=0, le=100)
    temperature: float = Field(0.0, ge=0, le=2)
    # 3 choices of ~8 tokens each plus the JSON frame fit in ~40 tokens; 96 leaves room.
    max_tokens: int = Field(96, ge=16, le=4096)
    choice: ChoiceMethod = "enum"
    logprob_min_share: float = Field(0.15, ge=0, le=1)
    # vLLM-only and additive: the same schema without the grammar's free whitespace.
    # False: no response_format (endpoints without structured output); the answer is still
    # validated against the shortlist, so nothing outside it is ever accepted.
    structured_output: bool = True
    # Off by default: tested with response_format alone on the vLLM CPU engine.
    compact_json: bool = False


@dataclass
class Choice:
    """What the model chose. `names` is None when it gave no valid choice."""

    names: list[str] | None
    status: Literal["parsed", "truncated", "unparseable"]
    raw: str = ""
    usage: dict[str, int] = field(default_factory=dict)
    scores: dict[str, float] | None = None     # logprob method: candidate -> log-probability


def translate_error(e: Exception, base_url: str, model: str) -> Exception:
    """An openai exception as the rxassist error callers handle (one place for the mapping)."""
    if isinstance(e, (openai.AuthenticationError, openai.PermissionDeniedError)):
        return ConfigError(f"{base_url} refused the API key (HTTP {e.status_code}); "
                           "set OPENAI_API_KEY or the configured key")
    if isinstance(e, openai.NotFoundError):
        return NotFound(f"the model server at {base_url} does not serve {model!r} "
                        f"({getattr(e, 'message', '')})"[:400], param="model",
                        code="model_not_found")
    if isinstance(e, (openai.APIConnectionError, openai.InternalServerError,
                      openai.RateLimitError)):
        return ModelUnavailable(f"the model server at {base_url} could not be reached "
                                f"({type(e).__name__})")
    if isinstance(e, openai.APIStatusError):
        return RequestRejected(f"the model server refused the request (HTTP {e.status_code}): "
                               f"{getattr(e, 'message', '')}"[:400])
    return e


def _usage(completion: Any) -> dict[str, int]:
    u = getattr(completion, "usage", None)
    if u is None:
        return {}
    return {"prompt_tokens": u.prompt_tokens or 0, "completion_tokens": u.completion_tokens or 0}


def _prompt_logprob(completion: Any) -> float:
    """Sum of the prompt tokens' log-probabilities (vLLM `prompt_logprobs`, actual tokens).

    The shared prefix (system + user turns) adds the same amount to every candidate, so sums
    rank candidates exactly as the answers' own log-probabilities do.
    """
    extra = getattr(completion, "model_extra", None) or {}  # None: not a completion at all
    entries = extra.get("prompt_logprobs")
    if not isinstance(entries, list):
        raise ModelUnavailable("the model server returned no prompt_logprobs: the logprob "
                               "choice needs vLLM's OpenAI server")
    total = 0.0
    for pos in entries:
        if not pos:
            continue
        # Asked with prompt_logprobs=0, each position holds one entry: the actual token.
        first = next(iter(pos.values()))
        total += float(first["logprob"])
    return total


class ModelClient:
    """Builds and sends the model requests; sync and async share the request builders."""

    def __init__(self, settings: ModelSettings, *, transport=None):
        """`transport`: an httpx transport for both clients (unit tests pass a MockTransport)."""
        self.s = settings
        self._transport = transport
        self._sync: openai.OpenAI | None = None
        self._async: openai.AsyncOpenAI | None = None

    # -- clients (connection pools, created on first use) ---------------------------------------
    def _client(self, client_cls, http_cls_name: str):
        """An openai client (sync or async) with this session's URL, key, timeout and retries."""
        http = None
        if self._transport is not None:
            import httpx
            http = getattr(httpx, http_cls_name)(transport=self._transport)
        return client_cls(base_url=self.s.base_url, api_key=self.s.api_key,
                          timeout=self.s.timeout_s, max_retries=self.s.max_retries,
                          http_client=http)

    @property
    def sync(self) -> openai.OpenAI:
        if self._sync is None:
            self._sync = self._client(openai.OpenAI, "Client")
        return self._sync

    @property
    def aio(self) -> openai.AsyncOpenAI:
        if self._async is None:
            self._async = self._client(openai.AsyncOpenAI, "AsyncClient")
        return self._async

    # -- request builders: the one definition of each request -----------------------------------
    def enum_request(self, model: str, messages: list[dict], names: Sequence[str],
                     k: int) -> dict:
        body: dict[str, Any] = {"model": model, "messages": messages,
                                "temperature": self.s.temperature,
                                "max_tokens": self.s.max_tokens}
        if not self.s.structured_output:
            return body
        fmt = response_format(names, k)
        body["response_format"] = fmt
        if self.s.compact_json:
            body["extra_body"] = {"structured_outputs": {
                "json": fmt["json_schema"]["schema"], "disable_any_whitespace": True}}
        return body

    def score_request(self, model: str, messages: list[dict], name: str) -> dict:
        answer = {"role": "assistant", "content": render_answer([name])}
        return {"model": model, "messages": [*messages, answer], "max_tokens": 1,
                "temperature": 0.0,
                "extra_body": {"add_generation_prompt": False, "continue_final_message": True,
                               "prompt_logprobs": 0}}

    def chat_request(self, model: str, messages: list[dict],
                     response_format: dict | None = None, max_tokens: int | None = None) -> dict:
        """A plain chat request (the assistant API as an eval target; the LLM judge)."""
        body: dict[str, Any] = {"model": model, "messages": messages,
                                "temperature": self.s.temperature}
        if response_format is not None:
            body["response_format"] = response_format
        if max_tokens is not None:
            body["max_tokens"] = max_tokens
        return body

    # -- interpreting answers -------------------------------------------------------------------
    @staticmethod
    def _from_enum(completion: Any, names: Sequence[str], k: int) -> Choice:
        if not getattr(completion, "choices", None):
            # A proxy's HTML page or an empty answer (the openai client passes non-JSON bodies
            # through as text): the server's fault, reported like any other unusable answer.
            raise ModelUnavailable("the model server's answer was not a chat completion")
        choice = completion.choices[0]
        text = choice.message.content or ""
        usage = _usage(completion)
        if choice.finish_reason == "length":
            return Choice(None, "truncated", text, usage)
        chosen = parse_choices(text, names, k)
        return Choice(chosen, "parsed" if chosen else "unparseable", text, usage)

    def _from_scores(self, names: Sequence[str], completions: list[Any], k: int) -> Choice:
        scores = {n: _prompt_logprob(c) for n, c in zip(names, completions)}
        top = max(scores.values())
        mass = {n: math.exp(v - top) for n, v in scores.items()}
        total = sum(mass.values())
        ranked = sorted(names, key=lambda n: -scores[n])
        chosen = [ranked[0]] + [n for n in ranked[1:k]
                                if mass[n] / total >= self.s.logprob_min_share]
        usage = {"prompt_tokens": sum(_usage(c).get("prompt_tokens", 0) for c in completions),
                 "completion_tokens": 0}
        return Choice(chosen, "parsed", render_answer(chosen), usage, scores)

    @staticmethod
    def _check(names: Sequence[str], k: int) -> None:
        if not names:
            raise ValueError("choose() needs at least one candidate")
        if not 1 <= k <= MAX_RECOMMENDATIONS_CAP:
            raise ConfigError(f"k must be within 1..{MAX_RECOMMENDATIONS_CAP}, got {k}")

    # -- sync (eval) ----------------------------------------------------------------------------
    def choose(self, model: str, messages: list[dict], names: Sequence[str],
               k: int = MAX_RECOMMENDATIONS) -> Choice:
        self._check(names, k)
        try:
            if self.s.choice == "enum":
                completion = self.sync.chat.completions.create(
                    **self.enum_request(model, messages, names, k))
                return self._from_enum(completion, names, k)
            completions = [self.sync.chat.completions.create(
                **self.score_request(model, messages, n)) for n in names]
            return self._from_scores(names, completions, k)
        except openai.OpenAIError as e:
            raise translate_error(e, self.s.base_url, model) from e

    def chat(self, model: str, messages: list[dict], **options) -> Any:
        """The whole completion (extra top-level fields such as `rxassist` in model_extra)."""
        try:
            return self.sync.chat.completions.create(
                **self.chat_request(model, messages, **options))
        except openai.OpenAIError as e:
            raise translate_error(e, self.s.base_url, model) from e

    def chat_text(self, model: str, messages: list[dict], **options) -> str | None:
        completion = self.chat(model, messages, **options)
        return completion.choices[0].message.content if completion.choices else None

    # -- async (assistant) ----------------------------------------------------------------------
    async def achoose(self, model: str, messages: list[dict], names: Sequence[str],
                      k: int = MAX_RECOMMENDATIONS) -> Choice:
        self._check(names, k)
        try:
            if self.s.choice == "enum":
                completion = await self.aio.chat.completions.create(
                    **self.enum_request(model, messages, names, k))
                return self._from_enum(completion, names, k)
            completions = await asyncio.gather(*(self.aio.chat.completions.create(
                **self.score_request(model, messages, n)) for n in names))
            return self._from_scores(names, list(completions), k)
        except openai.OpenAIError as e:
            raise translate_error(e, self.s.base_url, model) from e
