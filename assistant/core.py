"""The Assistant: one consultation turn from an OpenAI-style message history.

    history -> screen + extract + fold (deterministic)  -> refused | needs_info
            -> recommend.pipeline.arecommend, the pipeline eval and fine-tuning use too:
               the shortlist (evidence candidates minus what the guardrails exclude for this
               patient), the prompt with free text quoted as data, the model's choice among the
               offered names, guardrails.check on the chosen drugs together
            -> nothing survives? say so, list the exclusions, ask the clinician (no model call)
            -> rendered answer + the typed result (recommend.schemas.ConsultationResult)

The model never names a drug that is not on the shortlist: the structured output only allows
those names and anything else is rejected (recommend.prompt.parse_choices). Nothing is kept
between calls: the history is the state, so any OpenAI client works and no conversation can
see another. Prompts and answers are never logged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import guardrails
from recommend.candidates import CandidateIndex
from recommend.model_client import ModelClient
from recommend.pipeline import PromptCheck, arecommend
from recommend.prompt import PROMPT_VERSION
from recommend.schemas import ConsultationResult

from assistant import render
from assistant.bounds import check_values
from assistant.config import AssistantConfig, model_ids, resolve_model
from assistant.setting import read_setting, user_texts
from assistant.dialogue import Consultation, Folded, fold
from assistant.extract import Extractor
from assistant.labels import DEFAULT, language_of
from assistant.messages import validate_messages  # noqa: F401  (the one request validation)
from assistant.reading import apply_reader


@dataclass
class AssistantTurn:
    content: str                  # the answer the clinician reads
    # The typed result; the API serialises it as its `rxassist` field (serving.protocol).
    result: ConsultationResult


class Assistant:
    def __init__(self, config: AssistantConfig, model_client: ModelClient | None = None,
                 index: CandidateIndex | None = None):
        if not isinstance(config, AssistantConfig):
            raise TypeError("config must be an AssistantConfig")
        self.config = config
        self._adapters = list(config.adapters)
        # One client for every served name: a connection pool, not conversation state.
        self._client = model_client or ModelClient(config.model_settings())
        self._index = index      # None: the shipped candidate index, loaded on first use
        # Optional (messages, patient, dx) -> None check raising InvalidInput (assistant.budget).
        self.prompt_budget: PromptCheck | None = None
        self._llm_reader = None
        if config.reader != "rules":
            # LangChain loads only when a model reader is asked for: the default `rules`
            # never imports it.
            from assistant.llm_reader import LLMReader
            self._llm_reader = LLMReader(self._client,
                                         config.reader_adapter or config.base_model,
                                         max_tokens=config.reader_max_tokens)

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

    # -- one turn ---------------------------------------------------------------------------------
    async def respond(self, messages: list[dict], model: str = "rxassist") -> AssistantTurn:
        served = self.served_name(model)
        history = validate_messages(messages)
        folded = await asyncio.to_thread(self._fold, history)
        reader_notes = []
        if self._refusal_kind(folded) is None:
            reader_notes = await apply_reader(self.config.reader, self._llm_reader, folded,
                                              history, guardrails.find_drug_mentions,
                                              guardrails.ingredients_of)
        lang = language_of(m["content"] for m in history if m["role"] == "user")
        c = folded.consultation
        check_values(c)  # an impossible age or weight: 400 naming the field, never a 500
        base = {"patient": c.patient(), "diagnosis": c.diagnosis_record(), "notes": list(c.notes),
                "injection_ignored": bool(c.injections), "model": model,
                "prompt_version": PROMPT_VERSION}
        if self.config.reader != "rules":
            base.update(reader=self.config.reader, reader_notes=reader_notes)

        refusal = self._refusal_kind(folded)
        if refusal:
            result = ConsultationResult(**base, status="refused", refusal=refusal)
            return AssistantTurn(render.refusal(refusal, lang), result)
        missing = c.missing()
        if missing:
            result = ConsultationResult(**base, status="needs_info", missing_fields=missing,
                                        unknown_fields=sorted(c.unknown))
            return AssistantTurn(render.needs_info(c, missing, lang), result)
        return await self._recommend(c, served, base, read_setting(user_texts(history)), lang)

    def _fold(self, history: list[dict]) -> Folded:
        return fold(history, Extractor(guardrails.find_drug_mentions),
                    childbearing_age=self.config.pregnancy_ask_ages)

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

    async def _recommend(self, c: Consultation, served: str, base: dict,
                         setting: str | None = None, lang: str = DEFAULT) -> AssistantTurn:
        patient, dx = base["patient"], c.diagnosis()
        assert dx is not None  # missing() guarantees it
        result = await arecommend(patient, dx, self.config.recommend_settings(),
                                  client=self._client, model=served, index=self._index,
                                  check_prompt=self.prompt_budget, setting=setting)
        if result.setting:
            # The answer names the setting its regimens were chosen for.
            c.notes.append(render.setting_note(result.setting, result.setting_assumed, lang))
            base = {**base, "notes": list(c.notes)}
        not_checked = c.unknown_fields()
        # The answer names the requested model id ("rxassist"), not the engine's served name.
        result = result.model_copy(update={
            "model": base["model"], "notes": base["notes"], "unknown_fields": not_checked,
            "injection_ignored": base["injection_ignored"],
            "reader": base.get("reader"), "reader_notes": base.get("reader_notes", []),
            "diagnosis": base["diagnosis"]})
        if result.status == "nothing_survives":
            return AssistantTurn(render.nothing_survives(c, result.excluded, result.flags,
                                                         not_checked, lang, advice=result.advice),
                                 result)
        content = render.recommendation(c, result.recommendations, result.flags,
                                        unparseable=result.model_output == "unparseable",
                                        not_checked=not_checked,
                                        truncated=result.model_output == "truncated",
                                        excluded=result.excluded, lang=lang)
        return AssistantTurn(content, result)
