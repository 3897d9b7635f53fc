"""The Assistant: one consultation turn from an OpenAI-style message history.

    history -> screen + extract + fold (deterministic)  -> refused | needs_info
            -> rxassist.shortlist: evidence candidates for the diagnosis, each checked by the
               guardrails with the patient; critical flags and current medications excluded
            -> nothing survives? say so, list the exclusions, ask the clinician (no model call)
            -> rxassist.prompt.build_messages (the shortlist in the prompt)
            -> rxassist.model_client: the model chooses up to k candidates (enum or logprob)
            -> guardrails.check on the chosen drugs together -> rendered answer + the typed
               result (rxassist.schemas.ConsultationResult) as the `rxassist` dict

The model never names a drug that is not on the shortlist: the structured output only allows
those names and anything else is rejected (rxassist.prompt.parse_choices). Nothing is kept
between calls: the history is the state, so any OpenAI client works and no conversation can
see another. Prompts and answers are never logged.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Callable

from rxassist.candidates import CandidateIndex
from rxassist.errors import InvalidInput
from rxassist.severity import SEVERITY_ORDER
from rxassist.model_client import ModelClient
from rxassist.prompt import PROMPT_VERSION
from rxassist.schemas import ConsultationResult, RecommendationRow
from rxassist.shortlist import Shortlist, shortlist

from assistant import render
from assistant.bounds import check_values
from assistant.screen import quoted_prompt
from assistant.config import AssistantConfig, model_ids, resolve_model
from assistant.dialogue import Consultation, Folded, content_text, fold
from assistant.extract import Extractor
from assistant.policy import MAX_CHARS, MAX_MESSAGES, ROLES
from assistant.reading import apply_reader



@dataclass
class AssistantTurn:
    content: str                                      # the answer the clinician reads
    rxassist: dict[str, Any] = field(default_factory=dict)   # ConsultationResult.to_dict()


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
        self.prompt_budget: Callable[..., None] | None = None
        self._llm_reader = None
        if config.reader != "rules":
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
            g = _guardrails()
            reader_notes = await apply_reader(self.config.reader, self._llm_reader, folded,
                                              history, g.find_drug_mentions, g.ingredients_of)
        c = folded.consultation
        check_values(c)  # an impossible age or weight: 400 naming the field, never a 500
        dx = c.diagnosis()
        base = {"patient": c.patient().model_dump(), "notes": list(c.notes),
                "diagnosis": dx.model_dump() if dx is not None else None,
                "injection_ignored": bool(c.injections), "model": model,
                "prompt_version": PROMPT_VERSION}
        if self.config.reader != "rules":
            base.update(reader=self.config.reader, reader_notes=reader_notes)

        refusal = self._refusal_kind(folded)
        if refusal:
            result = ConsultationResult(**base, status="refused", refusal=refusal)
            return AssistantTurn(render.refusal(refusal), result.to_dict())
        missing = c.missing()
        if missing:
            result = ConsultationResult(**base, status="needs_info", missing_fields=missing,
                                        unknown_fields=sorted(c.unknown))
            return AssistantTurn(render.needs_info(c, missing), result.to_dict())
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
        sl: Shortlist = await asyncio.to_thread(shortlist, patient, dx, self._index,
                                                self.config.candidate_limit,
                                                self.config.offer_limit)
        not_checked = c.unknown_fields()
        base = {**base, "unknown_fields": not_checked, "excluded": sl.excluded}
        if not sl.offered:
            # Nothing to choose from: say so and ask; never an unconstrained guess.
            result = ConsultationResult(**base, status="nothing_survives",
                                        flags=sl.patient_flags, model_output="not_asked")
            d = result.to_dict()
            return AssistantTurn(render.nothing_survives(c, d["excluded"], d["flags"],
                                                         not_checked), d)
        k = self.config.recommendations
        # Free text reaches the model as one-line data values, never as instructions.
        prompt = quoted_prompt(patient, dx, sl.offered, k)
        if self.prompt_budget is not None:
            self.prompt_budget(prompt, patient, dx)
        choice = await self._client.achoose(served, prompt, sl.names, k)
        ranked = sl.ranked(choice.names or [], k, fill=self.config.fill_with_evidence,
                           patient=patient, margin=self.config.model_margin)
        chosen = [name for name, _ in ranked]
        checked = _guardrails().check(chosen, patient) if chosen else None
        flags = list(checked.flags) if checked else list(sl.patient_flags)
        rows = []
        for rank, (name, chosen_by) in enumerate(ranked, 1):
            cand = sl.by_name(name)
            norm = checked.drugs[rank - 1]
            mine = sorted((f for f in flags if name in f.drugs
                           or (f.ingredient is not None and f.ingredient in norm.ingredients)),
                          key=lambda f: SEVERITY_ORDER.get(f.severity, 3))
            evidence = cand.evidence_text()
            rows.append(RecommendationRow(
                drug=name, name=norm.name, ingredients=list(norm.ingredients or cand.ingredients),
                rationale=evidence, evidence=evidence, rank=rank, chosen_by=chosen_by,
                flags=list(dict.fromkeys(f.kind for f in mine)),
                severity=mine[0].severity if mine else None))
        result = ConsultationResult(
            **base, status="recommended", recommendations=rows, flags=flags,
            model_output=choice.status, candidates=list(sl.names), usage=choice.usage or None,
            drugs=checked.to_dict()["drugs"] if checked else [])
        content = render.recommendation(c, [r.model_dump() for r in rows],
                                        [f.to_dict() for f in flags],
                                        unparseable=choice.status == "unparseable",
                                        not_checked=not_checked,
                                        truncated=choice.status == "truncated",
                                        excluded=[e.model_dump() for e in sl.excluded])
        return AssistantTurn(content, result.to_dict())
