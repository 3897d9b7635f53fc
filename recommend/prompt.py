"""The one prompt format: used to build fine-tuning examples and to ask the served model.

Training (finetune/), evaluation (eval/) and the assistant (assistant/) all call these functions,
so what the model saw in training is exactly what it sees when served.

Since prompt v2 the model chooses, it does not invent: the user turn carries the shortlist
(candidates from open evidence that passed the guardrails, recommend.shortlist), each with a
compact evidence tag, and the answer is `{"choices": [names, best first]}` drawn from that list.
The full evidence line a clinician reads (Candidate.evidence_text()) is attached after the
choice, by code, so it costs no generated tokens and cannot be made up.
"""

from __future__ import annotations

import json
import re
from typing import Sequence

from pydantic import ValidationError

from recommend.candidates import Candidate
from rxassist.cases import Diagnosis, Patient
from rxassist.patient_text import consultation_lines, patient_lines
from recommend.schemas import (MAX_RECOMMENDATIONS, ChoiceAnswer, Recommendation, answer_model,
                              answer_schema)

PROMPT_VERSION = "rx-prompt-v2-candidates"

SYSTEM_PROMPT = (
    "You are a prescription assistant supporting a clinician. Given a patient, a diagnosis and "
    "candidate drugs that passed the safety checks, choose up to {k} of the candidates, best "
    "first, by their exact names. Never name a drug that is not a candidate. "
    'Answer with JSON only: {{"choices": [...]}}.'
)

__all__ = ["PROMPT_VERSION", "SYSTEM_PROMPT", "Recommendation", "patient_lines", "evidence_tag",
           "user_message", "build_messages", "render_answer", "parse_choices", "response_format",
           "MAX_RECOMMENDATIONS"]


def evidence_tag(c: Candidate) -> str:
    """A few tokens of evidence per candidate (the prompt's share of the per-consultation token budget)."""
    tags: list[str] = []
    sources = {e.source: e for e in c.evidence}
    guideline = sources.get("guideline")
    if guideline:
        tags.append("guideline " + ("first-line" if guideline.detail.startswith("first-line")
                                    else "alternative"))
    prior = sources.get("prior_code") or sources.get("prior_category")
    if prior and prior.share is not None:
        pct = 100 * prior.share
        tags.append(f"given to {pct:.0f}%" if pct >= 1 else "given to <1%")
    if "drugcentral" in sources or "labeledin" in sources:
        tags.append("label")
    return ", ".join(tags) or "evidence"


def user_message(patient: Patient, diagnosis: Diagnosis,
                 candidates: Sequence[Candidate]) -> str:
    lines = [*consultation_lines(patient, diagnosis), "Candidates:"]
    lines += [f"- {c.name}: {evidence_tag(c)}" for c in candidates]
    return "\n".join(lines)


def build_messages(patient: Patient, diagnosis: Diagnosis, candidates: Sequence[Candidate],
                   k: int = MAX_RECOMMENDATIONS) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT.format(k=k)},
            {"role": "user", "content": user_message(patient, diagnosis, candidates)}]


def render_answer(names: Sequence[str]) -> str:
    """The assistant turn a fine-tuned model is trained to produce (and is scored on)."""
    return json.dumps(ChoiceAnswer(choices=list(names)).model_dump(), ensure_ascii=False)


def response_format(names: Sequence[str], k: int = MAX_RECOMMENDATIONS) -> dict:
    """OpenAI `response_format` for vLLM structured output: an enum of the candidate names."""
    return {"type": "json_schema",
            "json_schema": {"name": "choices", "schema": answer_schema(tuple(names), k),
                            "strict": True}}


_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


def parse_choices(text: str | None, names: Sequence[str],
                  k: int = MAX_RECOMMENDATIONS) -> list[str] | None:
    """The chosen candidate names, best first, or None when the answer is not a valid choice.

    An answer naming anything outside `names` is rejected as a whole: a model that strays from
    the list is not trusted for the rest of it. Repeats are dropped; more than k is cut to k.
    """
    if not text or not names:
        return None
    match = _JSON_OBJECT.search(text)
    if not match:
        return None
    try:
        raw = ChoiceAnswer.model_validate_json(match.group(0)).choices
        chosen = list(dict.fromkeys(raw))[:k]
        answer_model(tuple(names), k).model_validate({"choices": chosen})
    except (ValidationError, ValueError):
        return None
    return chosen
