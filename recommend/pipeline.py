"""The one recommendation pipeline: a patient and a diagnosis in, the typed result out.

    prepare(patient, dx, settings) -> Prepared        shortlist + the prompt (no model call)
    recommend(patient, dx, settings, client=, model=) -> ConsultationResult      (sync: eval)
    await arecommend(...)                             -> ConsultationResult      (the assistant)

Steps: the shortlist (evidence candidates, each checked by the guardrails with the patient;
critical flags and current medications excluded) -> nothing survives? the result says so and
no model is asked -> the prompt (recommend.quoting.quoted_messages: free text as one-line data)
-> the model chooses among the offered names -> ranked with the evidence -> guardrails.check on
each chosen drug alone (recommend.alternatives: options, never flagged as a pair)
-> RecommendationRow per drug.

The assistant, `eval run`'s model target and the fine-tuning example builder (`prepare` alone:
it needs the prompt, not an answer) all come through here, so the model is trained, evaluated
and served on byte-identical prompts.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field

import guardrails
from guardrails import CheckResult
from rxassist.cases import Diagnosis, Patient
from rxassist.severity import SEVERITY_ORDER
from recommend.alternatives import check_alternatives
from recommend.candidates import CandidateIndex
from recommend.model_client import Choice, ModelClient
from recommend.prompt import PROMPT_VERSION
from recommend.quoting import quoted_messages
from recommend.schemas import (MAX_CANDIDATES, MAX_OFFERED, MAX_RECOMMENDATIONS,
                               MAX_RECOMMENDATIONS_CAP, MODEL_MARGIN, ConsultationResult,
                               RecommendationRow)
from recommend.shortlist import Shortlist, shortlist

# (messages, patient, diagnosis) -> None, raising InvalidInput when the prompt cannot be sent
# (the assistant's token budget).
PromptCheck = Callable[[list[dict], Patient, Diagnosis], None]


class RecommendSettings(BaseModel):
    """How candidates become ranked recommendations; the assistant and eval both hold one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    recommendations: int = Field(MAX_RECOMMENDATIONS, ge=1, le=MAX_RECOMMENDATIONS_CAP,
                                 description="ranked recommendations per answer")
    candidate_limit: int = Field(MAX_CANDIDATES, ge=1, le=50,
                                 description="candidates looked up per diagnosis")
    offer_limit: int | None = Field(MAX_OFFERED, ge=1,
                                    description="the best-supported safe candidates the model "
                                                "chooses among (None: every survivor)")
    fill_with_evidence: bool = Field(
        True, description="after the model's choices, add the next candidates in evidence order "
                          "up to `recommendations` ranked options (chosen_by=evidence)")
    model_margin: float | None = Field(
        MODEL_MARGIN, ge=0, description="a candidate whose evidence score beats the model's "
                                        "choice by more than this ranks above it (None: the "
                                        "model's choices always rank first)")


@dataclass(frozen=True)
class Prepared:
    """Everything before the model call. `messages` is None when no candidate survives."""

    patient: Patient
    diagnosis: Diagnosis
    shortlist: Shortlist
    messages: list[dict] | None


def prepare(patient: Patient, diagnosis: Diagnosis, settings: RecommendSettings,
            index: CandidateIndex | None = None, setting: str | None = None) -> Prepared:
    sl = shortlist(patient, diagnosis, index, settings.candidate_limit, settings.offer_limit,
                   setting=setting)
    messages = (quoted_messages(patient, diagnosis, sl.offered, settings.recommendations)
                if sl.offered else None)
    return Prepared(patient, diagnosis, sl, messages)


def _base(p: Prepared, model: str) -> dict:
    sl = p.shortlist
    return {"patient": p.patient, "diagnosis": p.diagnosis, "model": model,
            "prompt_version": PROMPT_VERSION, "excluded": sl.excluded, "advice": sl.advice,
            "setting": sl.setting, "setting_assumed": sl.setting_assumed}


def nothing_survives(p: Prepared, model: str) -> ConsultationResult:
    # Nothing to choose from: the result says so; never an unconstrained guess.
    return ConsultationResult(**_base(p, model), status="nothing_survives",
                              flags=p.shortlist.patient_flags, model_output="not_asked")


def finish(p: Prepared, choice: Choice, settings: RecommendSettings,
           model: str) -> ConsultationResult:
    """The model's choice, ranked with the evidence and checked together, as the result."""
    sl, patient = p.shortlist, p.patient
    ranked = sl.ranked(choice.names or [], settings.recommendations,
                       fill=settings.fill_with_evidence, patient=patient,
                       margin=settings.model_margin)
    chosen = [name for name, _ in ranked]
    # Alternatives, not a regimen: each option is checked alone with the patient and diagnosis.
    checked: CheckResult | None = (check_alternatives(chosen, patient, diagnosis=p.diagnosis)
                                   if chosen else None)
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
    return ConsultationResult(
        **_base(p, model), status="recommended", recommendations=rows, flags=flags,
        model_output=choice.status, candidates=list(sl.names), usage=choice.usage or None,
        drugs=list(checked.drugs) if checked else [], answer_text=choice.raw)


def recommend(patient: Patient, diagnosis: Diagnosis, settings: RecommendSettings, *,
              client: ModelClient, model: str, index: CandidateIndex | None = None,
              check_prompt: PromptCheck | None = None,
              setting: str | None = None) -> ConsultationResult:
    """Recommend for one patient and diagnosis, asking `model` through `client` (sync).
    `setting` ('outpatient', 'inpatient', 'icu'; None: assumed from the diagnosis) prefers that
    care setting's guideline rows."""
    p = prepare(patient, diagnosis, settings, index, setting)
    if p.messages is None:
        return nothing_survives(p, model)
    if check_prompt is not None:
        check_prompt(p.messages, patient, diagnosis)
    choice = client.choose(model, p.messages, p.shortlist.names, settings.recommendations)
    return finish(p, choice, settings, model)


async def arecommend(patient: Patient, diagnosis: Diagnosis, settings: RecommendSettings, *,
                     client: ModelClient, model: str, index: CandidateIndex | None = None,
                     check_prompt: PromptCheck | None = None,
                     setting: str | None = None) -> ConsultationResult:
    """recommend() for the event loop: the checks run in a worker thread, the model call on
    the client's async connection pool."""
    p = await asyncio.to_thread(prepare, patient, diagnosis, settings, index, setting)
    if p.messages is None:
        return nothing_survives(p, model)
    if check_prompt is not None:
        check_prompt(p.messages, patient, diagnosis)
    choice = await client.achoose(model, p.messages, p.shortlist.names,
                                  settings.recommendations)
    return await asyncio.to_thread(finish, p, choice, settings, model)
