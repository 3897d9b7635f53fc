"""The one prompt format: used to build fine-tuning examples and to ask the served model.

Training (finetune/), evaluation (eval/) and the assistant (assistant/) all call these functions,
so what the model saw in training is exactly what it sees when served.
"""

from __future__ import annotations

import json
import re
from typing import Sequence

from pydantic import BaseModel, Field, ValidationError

from rxassist.cases import Diagnosis, Patient

PROMPT_VERSION = "rx-prompt-v1"
MAX_RECOMMENDATIONS = 5

SYSTEM_PROMPT = (
    "You are a prescription assistant supporting a clinician. Given a patient and a diagnosis, "
    "recommend up to 5 appropriate drugs by generic name, one per active ingredient, "
    "each with a one-line rationale. Answer with JSON only."
)


class Recommendation(BaseModel):
    drug: str = Field(min_length=1, max_length=200)
    rationale: str = Field("", max_length=1000)


class RecommendationList(BaseModel):
    recommendations: list[Recommendation] = Field(min_length=1, max_length=MAX_RECOMMENDATIONS)


# The schema handed to vLLM's structured output (response_format=json_schema).
RECOMMENDATION_SCHEMA: dict = {
    "type": "object",
    "properties": {
        "recommendations": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_RECOMMENDATIONS,
            "items": {
                "type": "object",
                "properties": {
                    "drug": {"type": "string", "minLength": 1, "maxLength": 80},
                    "rationale": {"type": "string", "maxLength": 200},
                },
                "required": ["drug", "rationale"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["recommendations"],
    "additionalProperties": False,
}


def response_format() -> dict:
    """OpenAI `response_format` argument asking for RECOMMENDATION_SCHEMA."""
    return {"type": "json_schema",
            "json_schema": {"name": "recommendations", "schema": RECOMMENDATION_SCHEMA,
                            "strict": True}}


def _known(value, fmt=str) -> str:
    return "unknown" if value is None else fmt(value)


def _list(values: Sequence[str] | None) -> str:
    if values is None:
        return "unknown"
    return ", ".join(values) if values else "none"


def _age(age: float | None) -> str:
    if age is None:
        return "unknown"
    if age < 2:
        return f"{round(age * 12)} months"
    return f"{int(age)} years"


def patient_lines(patient: Patient) -> list[str]:
    pregnant = {True: "yes", False: "no", None: "unknown"}[patient.pregnant]
    return [
        f"Age: {_age(patient.age)}",
        f"Sex: {_known(patient.sex)}",
        f"Pregnant: {pregnant}",
        f"Weight: {_known(patient.weight_kg, lambda w: f'{w:g} kg')}",
        f"Allergies: {_list(patient.allergies)}",
        f"Current medications: {_list(patient.current_medications)}",
    ]


def user_message(patient: Patient, diagnosis: Diagnosis) -> str:
    dx = diagnosis.text + (f" ({diagnosis.code})" if diagnosis.code else "")
    return "Patient:\n" + "\n".join(patient_lines(patient)) + f"\nDiagnosis: {dx}"


def build_messages(patient: Patient, diagnosis: Diagnosis) -> list[dict]:
    return [{"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_message(patient, diagnosis)}]


def render_answer(recommendations: Sequence[Recommendation]) -> str:
    """The assistant turn a fine-tuned model is trained to produce."""
    payload = {"recommendations": [r.model_dump() for r in recommendations]}
    return json.dumps(payload, ensure_ascii=False)


_JSON_OBJECT = re.compile(r"\{.*\}", re.S)


def parse_answer(text: str | None) -> list[Recommendation] | None:
    """Recommendations from a model answer, or None when it cannot be parsed.

    Tolerates prose or code fences around one JSON object (models without structured output
    add them) but never invents drugs from free text.
    """
    if not text:
        return None
    match = _JSON_OBJECT.search(text)
    if not match:
        return None
    try:
        parsed = RecommendationList.model_validate_json(match.group(0))
    except ValidationError:
        return None
    recs = [r for r in parsed.recommendations if r.drug.strip()]
    return recs or None
