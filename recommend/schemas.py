"""Typed shapes of a consultation: the model's answer, the result rows, the whole result.

The limits live here, once; the JSON schema sent to the model is generated from the Pydantic
models (`model_json_schema()`), never written by hand, so what vLLM enforces and what we
validate cannot drift apart.

    answer_model(names, k)        the answer the model may give for one shortlist: 1..k distinct
                                  choices, each one of `names` (an enum in the JSON schema)
    RecommendationRow             one recommended drug as the API's `rxassist.recommendations`
    ExcludedRow                   a candidate considered and excluded, with the flags that did it
    ConsultationResult            the structured `rxassist` field of a reply (docs/formats.md)
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal

from pydantic import (BaseModel, ConfigDict, Field, create_model, field_serializer,
                      field_validator)

from guardrails import Flag, NormalizedDrug
from rxassist.cases import Diagnosis, Patient

# Limits, in one place.
MAX_RECOMMENDATIONS = 3        # default number of ranked recommendations (configurable)
MAX_RECOMMENDATIONS_CAP = 5    # the most any configuration may ask for
MAX_CANDIDATES = 12            # candidates looked up per diagnosis (offered + excluded)
# The best-supported safe candidates the model chooses among. Measured on the first 200
# validation cases (one-drug answers, ingredient accuracy): offered 12 -> 0.322, 6 -> 0.347,
# 4 -> 0.362, 3 -> 0.362; the 135M model's picks far down the evidence order were rarely right.
MAX_OFFERED = 4
# How much better supported (candidate score, recommend/candidates/_index.py) another candidate
# must be to rank above the model's choice: the model decides between practically tied options.
# Measured on 599 validation cases, one drug, ingredient accuracy: evidence order 0.392, margin
# 0.02 0.393, 0.1 0.385, the model's choice always first 0.343 (docs/recommending.md, "How the model chooses").
MODEL_MARGIN = 0.02
DRUG_MAX_CHARS = 200
RATIONALE_MAX_CHARS = 1000

Status = Literal["recommended", "nothing_survives", "needs_info", "refused"]


class Recommendation(BaseModel):
    """A drug with its rationale, as in the free-generation answer format (prompt v1)."""

    drug: str = Field(min_length=1, max_length=DRUG_MAX_CHARS)
    rationale: str = Field("", max_length=RATIONALE_MAX_CHARS)


class ChoiceAnswer(BaseModel):
    """The model's answer: candidate names, best first. Always validated against a shortlist."""

    model_config = ConfigDict(extra="forbid")

    choices: list[str] = Field(min_length=1, max_length=MAX_RECOMMENDATIONS_CAP)


@lru_cache(maxsize=256)
def answer_model(names: tuple[str, ...], k: int) -> type[BaseModel]:
    """ChoiceAnswer narrowed to this shortlist: each choice one of `names`, at most k of them."""
    if not names:
        raise ValueError("an answer model needs at least one candidate name")
    if not 1 <= k <= MAX_RECOMMENDATIONS_CAP:
        raise ValueError(f"k must be within 1..{MAX_RECOMMENDATIONS_CAP}, got {k}")
    choice = Literal[names]  # type: ignore[valid-type]
    return create_model("Answer", __config__=ConfigDict(extra="forbid"),
                        choices=(list[choice], Field(min_length=1, max_length=min(k, len(names)))))


def answer_schema(names: tuple[str, ...], k: int) -> dict:
    """The JSON schema vLLM's structured output enforces for one shortlist."""
    return answer_model(tuple(names), k).model_json_schema()


class RecommendationRow(BaseModel):
    """One recommended drug in `rxassist.recommendations` (every pre-candidate field kept)."""

    drug: str                              # as the model chose it (a candidate name)
    name: str | None = None                # normalised name (guardrails)
    ingredients: list[str] = Field(default_factory=list)
    rationale: str = ""                    # always contains the evidence line
    flags: list[str] = Field(default_factory=list)     # flag kinds on this drug, worst first
    severity: str | None = None            # worst severity among them
    evidence: str = ""                     # Candidate.evidence_text()
    rank: int = Field(1, ge=1)
    # "model": the model chose it; "evidence": the next candidate in evidence order, added so
    # the answer holds `recommendations` ranked options (AssistantConfig.fill_with_evidence).
    chosen_by: Literal["model", "evidence"] = "model"


class ExcludedRow(BaseModel):
    """A candidate the guardrails ruled out before the model saw the list."""

    drug: str
    ingredients: list[str] = Field(default_factory=list)
    reason: str                            # the message of the flag that excluded it
    flags: list[Flag] = Field(default_factory=list)
    evidence: str = ""
    excluded_by: Literal["guardrails", "evidence"] = Field(
        "guardrails", description="guardrails: a safety flag for this patient; evidence: below "
        "the evidence floor, co-occurrence only, or a guideline says not for this presentation")


class CodedReading(BaseModel):
    """The ICD-10-CM code the consultation's diagnosis was read as, and how it was found."""

    code: str
    title: str
    how: str


class DiagnosisRecord(Diagnosis):
    """The diagnosis as the result reports it: what the candidate index was sent, plus, for a
    consultation, the clinician-readable reading and its ICD-10-CM code."""

    reading: str | None = None
    icd10cm: CodedReading | None = None


class ReaderNote(BaseModel):
    """One place where the language-model reader and the rule reader read a field differently,
    and what was done about it (the rule reader stays the authority; merging only adds caution).

    action: added (a list item only the model read), filled (a field the rules left empty),
    kept_rules (both read a value; the rules' is used), ignored (not found in the text, or it
    would have removed a check), unavailable (the model reader gave no usable answer)."""

    field: str
    action: Literal["added", "filled", "kept_rules", "ignored", "unavailable"]
    rules: Any = None
    llm: Any = None
    message: str


class ConsultationResult(BaseModel):
    """The structured result of one turn: the API's `rxassist` field."""

    status: Status
    patient: Patient
    diagnosis: DiagnosisRecord | None = None
    recommendations: list[RecommendationRow] = Field(default_factory=list)
    excluded: list[ExcludedRow] = Field(default_factory=list)
    flags: list[Flag] = Field(default_factory=list)
    missing_fields: list[str] = Field(default_factory=list)
    unknown_fields: list[str] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    injection_ignored: bool = False
    model: str
    prompt_version: str
    refusal: str | None = None
    model_output: str | None = None        # parsed | truncated | unparseable | not_asked
    candidates: list[str] = Field(default_factory=list)   # the names offered to the model
    drugs: list[NormalizedDrug] = Field(default_factory=list)   # guardrails' normalised drugs
    usage: dict[str, int] | None = None    # tokens of the model request, when one was made
    # Guideline advice where no drug treats the diagnosis ("hold nephrotoxins" in AKI), and the
    # care setting whose rows were preferred (assumed from the diagnosis when not stated).
    advice: list[str] = Field(default_factory=list)
    setting: str | None = None
    setting_assumed: bool = False
    reader: str | None = None              # rules | llm | both (left out for rules)
    reader_notes: list[ReaderNote] = Field(default_factory=list)   # left out when empty
    # The model's own text, for eval records; never on the wire (answers are not logged).
    answer_text: str | None = Field(None, exclude=True)

    @field_validator("diagnosis", mode="before")
    @classmethod
    def _as_record(cls, v: Any) -> Any:
        # The pipeline holds the plain Diagnosis it looked up; the result reports it as a record.
        if isinstance(v, Diagnosis) and not isinstance(v, DiagnosisRecord):
            return v.model_dump()
        return v

    @field_serializer("drugs")
    def _drugs_as_documented(self, drugs: list[NormalizedDrug]) -> list[dict]:
        return [d.to_dict() for d in drugs]

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready dict the API sends (None-valued optional extras left out)."""
        d = self.model_dump(mode="json")
        for key in ("refusal", "model_output", "usage", "reader"):
            if d.get(key) is None:
                d.pop(key, None)
        if not d.get("reader_notes"):
            d.pop("reader_notes", None)
        return d


__all__ = ["MAX_RECOMMENDATIONS", "MAX_RECOMMENDATIONS_CAP", "MAX_CANDIDATES", "MAX_OFFERED",
           "MODEL_MARGIN", "Recommendation",
           "ChoiceAnswer", "answer_model", "answer_schema", "RecommendationRow", "ExcludedRow",
           "ConsultationResult", "ReaderNote", "Diagnosis", "Patient", "Flag"]
