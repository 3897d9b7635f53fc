"""The Assistant: one consultation turn from an OpenAI-style message history.

    history -> screen + extract + fold (deterministic)  -> refused | needs_info
            -> rxassist.prompt.build_messages -> chat model with response_format (vLLM enforces
               the JSON schema) -> rxassist.prompt.parse_answer
            -> guardrails.check on EVERY drug -> rendered answer + structured `rxassist` dict

Nothing is kept between calls: the history is the state, so any OpenAI client works and no
conversation can see another. Prompts and answers are never logged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from rxassist.errors import InvalidInput, ModelUnavailable, NotFound
from rxassist.prompt import (PROMPT_VERSION, RECOMMENDATION_SCHEMA, build_messages,
                             parse_answer, response_format)

from assistant import render
from assistant.bounds import check_values
from assistant.screen import quoted_prompt
from assistant.config import AssistantConfig, model_ids, resolve_model
from assistant.dialogue import Consultation, Folded, content_text, fold
from assistant.extract import Extractor
from assistant.policy import MAX_CHARS, MAX_MESSAGES, ROLES

ChatModelFactory = Callable[[str], BaseChatModel]
SEVERITY_RANK = {"critical": 0, "warning": 1, "info": 2}


@dataclass
class AssistantTurn:
    content: str                                      # the answer the clinician reads
    rxassist: dict[str, Any] = field(default_factory=dict)   # the structured result


def openai_chat_model_factory(config: AssistantConfig) -> ChatModelFactory:
    """ChatOpenAI against vLLM's OpenAI API, one per served model name."""
    from langchain_openai import ChatOpenAI

    def make(model_name: str) -> BaseChatModel:
        return ChatOpenAI(model=model_name, base_url=config.model_base_url,
                          api_key=config.api_key, timeout=config.request_timeout_s,
                          # No silent retries: a timed-out answer is not retried for minutes.
                          max_retries=0, temperature=config.temperature,
                          max_tokens=config.max_tokens)
    return make


def _guardrails():
    # Imported on first use: the knowledge base loads once, in the guardrails package.
    import guardrails
    return guardrails


def validate_messages(messages: Any) -> list[dict]:
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("messages must be a non-empty list of {role, content} objects",
                           param="messages")
    if len(messages) > MAX_MESSAGES:
        raise InvalidInput(f"at most {MAX_MESSAGES} messages per request", param="messages")
    out = []
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            raise InvalidInput(f"messages[{i}] must be an object with role one of {list(ROLES)}",
                               param=f"messages[{i}].role")
        text = content_text(m.get("content"))
        if len(text) > MAX_CHARS:
            raise InvalidInput(f"messages[{i}].content is longer than {MAX_CHARS} characters",
                               param=f"messages[{i}].content")
        out.append({"role": m["role"], "content": text})
    if not any(m["role"] == "user" and m["content"].strip() for m in out):
        raise InvalidInput("messages need at least one user turn with text", param="messages")
    return out


def _lc_messages(messages: list[dict]) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


class Assistant:
    def __init__(self, config: AssistantConfig, chat_model_factory: ChatModelFactory | None = None):
        if not isinstance(config, AssistantConfig):
            raise TypeError("config must be an AssistantConfig")
        self.config = config
        self._adapters = list(config.adapters)
        self._factory = chat_model_factory or openai_chat_model_factory(config)
        # Chat model clients per served name: connection pools, not conversation state.
        self._models: dict[str, BaseChatModel] = {}
        # Optional (messages, patient, dx) -> None check raising InvalidInput (assistant.budget).
        self.prompt_budget: Callable[..., None] | None = None

    # -- model ids ------------------------------------------------------------------------------
    def model_ids(self) -> list[str]:
        return model_ids(self._adapters)

    def set_adapters(self, adapters: list[str]) -> None:
        checked = AssistantConfig(model_base_url=self.config.model_base_url,
                                  base_model=self.config.base_model, adapters=list(adapters))
        self._adapters = checked.adapters

    def served_name(self, model: str) -> str:
        return resolve_model(model, base_model=self.config.base_model, adapters=self._adapters,
                             default_adapter=self.config.default_adapter)

    def _chat_model(self, served: str) -> BaseChatModel:
        if served not in self._models:
            self._models[served] = self._factory(served)
        return self._models[served]

    # -- one turn ---------------------------------------------------------------------------------
    async def respond(self, messages: list[dict], model: str = "rxassist") -> AssistantTurn:
        served = self.served_name(model)
        history = validate_messages(messages)
        folded = await asyncio.to_thread(self._fold, history)
        c = folded.consultation
        check_values(c)  # an impossible age or weight: 400 naming the field, never a 500
        base = {"patient": c.patient().model_dump(), "diagnosis": None, "recommendations": [],
                "flags": [], "missing_fields": [], "unknown_fields": [], "notes": list(c.notes),
                "injection_ignored": bool(c.injections), "model": model,
                "prompt_version": PROMPT_VERSION}
        dx = c.diagnosis()
        if dx is not None:
            base["diagnosis"] = dx.model_dump()

        refusal = self._refusal_kind(folded)
        if refusal:
            return AssistantTurn(render.refusal(refusal), {**base, "status": "refused",
                                                           "refusal": refusal})
        missing = c.missing()
        if missing:
            return AssistantTurn(render.needs_info(c, missing),
                                 {**base, "status": "needs_info", "missing_fields": missing,
                                  "unknown_fields": sorted(c.unknown)})
        return await self._recommend(c, served, base)

    def _fold(self, history: list[dict]) -> Folded:
        return fold(history, Extractor(_guardrails().find_drug_mentions))

    @staticmethod
    def _refusal_kind(folded: Folded) -> str | None:
        last = folded.last
        if last.harmful:
            return "harmful"
        findings = folded.last_findings
        if last.off_topic and not (findings is not None and findings.patient_facts):
            return "off_topic"
        clinical = findings is not None and findings.clinical
        if last.injections and not clinical:
            return "injection"
        return None

    async def _recommend(self, c: Consultation, served: str, base: dict) -> AssistantTurn:
        patient = c.patient()
        dx = c.diagnosis()
        assert dx is not None  # missing() guarantees it
        prompt = quoted_prompt(patient, dx)   # free text as one-line data values, never instructions
        if self.prompt_budget is not None:
            self.prompt_budget(prompt, patient, dx)
        text, truncated = await self._ask_model(served, prompt)
        recs = None if truncated else parse_answer(text)
        drugs = [r.drug for r in recs] if recs else []
        result = _guardrails().check(drugs, patient) if drugs else None
        flags = [f.to_dict() for f in result.flags] if result else []
        rows = []
        for i, r in enumerate(recs or []):
            norm = result.drugs[i] if result and i < len(result.drugs) else None
            mine = [f for f in flags if r.drug in f.get("drugs", [])
                    or (norm is not None and f.get("ingredient") in (norm.ingredients or []))]
            mine.sort(key=lambda f: SEVERITY_RANK.get(f.get("severity"), 3))
            rows.append({"drug": r.drug, "name": norm.name if norm else None,
                         "ingredients": list(norm.ingredients) if norm else [],
                         "rationale": r.rationale,
                         "flags": list(dict.fromkeys(f["kind"] for f in mine)),
                         "severity": mine[0]["severity"] if mine else None})
        not_checked = c.unknown_fields()
        content = render.recommendation(c, rows, flags, unparseable=recs is None,
                                        not_checked=not_checked, truncated=truncated)
        return AssistantTurn(content, {**base, "status": "recommended", "recommendations": rows,
                                       "flags": flags, "unknown_fields": not_checked,
                                       "model_output": ("parsed" if recs else
                                                        "truncated" if truncated else "unparseable"),
                                       "drugs": result.to_dict()["drugs"] if result else []})

    async def _ask_model(self, served: str, messages: list[dict]) -> tuple[str, bool]:
        """The model's answer text, and whether it was cut off."""
        import openai
        import httpx

        options: dict[str, Any] = {"response_format": response_format()}
        if self.config.compact_json:
            # vLLM-specific and additive: the same schema, without the grammar's free whitespace.
            options["extra_body"] = {"structured_outputs": {
                "json": RECOMMENDATION_SCHEMA, "disable_any_whitespace": True}}
        chain = self._chat_model(served).bind(**options)
        try:
            reply = await chain.ainvoke(_lc_messages(messages))
        except (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError) as e:
            # The answer hit max_tokens (or a filter) before its JSON closed: report it as
            # unparseable rather than guess drugs from a fragment.
            choices = getattr(getattr(e, "completion", None), "choices", None) or []
            return (choices[0].message.content or "") if choices else "", True
        except openai.NotFoundError as e:
            raise NotFound(f"the model server does not serve {served!r}", param="model",
                           code="model_not_found") from e
        except (openai.APIConnectionError, openai.APITimeoutError, openai.InternalServerError,
                httpx.HTTPError, ConnectionError, TimeoutError) as e:
            raise ModelUnavailable(f"the model server at {self.config.model_base_url} could not "
                                   f"be reached ({type(e).__name__})") from e
        except openai.APIStatusError as e:
            raise ModelUnavailable(f"the model server refused the request "
                                   f"(HTTP {e.status_code})") from e
        content = reply.content if isinstance(reply, BaseMessage) else reply
        return content_text(content), False
