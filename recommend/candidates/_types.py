"""What a candidate lookup returns: ranked candidates, each with the evidence behind it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Source = Literal["prior_code", "prior_category", "drugcentral", "labeledin", "guideline"]

# Which evidence a clinician reads first in a one-line summary.
_SOURCE_ORDER = {"guideline": 0, "prior_code": 1, "prior_category": 2, "drugcentral": 3,
                 "labeledin": 4}


# evidence_text() shows one item per kind.
_KIND = {"guideline": "guideline", "prior_code": "prior", "prior_category": "prior",
         "drugcentral": "label", "labeledin": "label"}


class Evidence(BaseModel):
    """One reason a drug is a candidate, always naming where it comes from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: Source
    detail: str = Field(description="one clinician-readable phrase")
    share: float | None = Field(None, ge=0, le=1,
                                description="share of training patients with this diagnosis")
    count: int | None = Field(None, ge=0, description="training patients behind `share`")
    reference: str | None = Field(None, description="full citation (guideline rows)")
    strength: Literal["strong", "moderate", "weak"] | None = Field(
        None, description="how far this evidence supports treating the diagnosis: strong = "
        "first-line in a named guideline, moderate = guideline alternative, exact label "
        "indication or a prior of >= 20 patients and 20%, weak = the rest above the floor")


class Candidate(BaseModel):
    """A drug (one product: a combination is one candidate with several ingredients)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="display generic name, e.g. 'acetaminophen; hydrocodone'")
    ingredients: list[str] = Field(min_length=1,
                                   description="lowercase active moieties, as guardrails names them")
    score: float = Field(description="ranking score, higher first (formula: candidates/_index.py)")
    prior: float = Field(0.0, ge=0, le=1, description="the prescribing-prior part of `score` "
                         "alone (0 when no training patient had the diagnosis): rank by it "
                         "for a records-only ordering")
    evidence: list[Evidence] = Field(min_length=1)

    @property
    def ingredient(self) -> str:
        """The single ingredient, or the combination's ingredients joined with '; '."""
        return "; ".join(self.ingredients)

    def evidence_text(self) -> str:
        """One short line: the guideline, the most specific prior and one label indication,
        e.g. 'prescribed for this diagnosis to 31% of patients in the training records
        (E11, n=412); label indication: type 2 diabetes mellitus (DrugCentral 2016)'."""
        picked: dict[str, Evidence] = {}
        for e in sorted(self.evidence, key=lambda e: _SOURCE_ORDER[e.source]):
            kind = _KIND[e.source]
            picked.setdefault(kind, e)
        return "; ".join(f"{e.strength} evidence: {e.detail}" if e.strength else e.detail
                         for e in picked.values())

    @property
    def strength(self) -> str:
        """The strongest of its evidence ('strong', 'moderate', 'weak')."""
        order = {"strong": 0, "moderate": 1, "weak": 2}
        return min((e.strength or "weak" for e in self.evidence), key=order.__getitem__)


class HeldBack(BaseModel):
    """A drug that came up for the diagnosis but is not offered, and why: evidence below the
    floor, co-occurrence only, or a guideline row saying it is not for this presentation."""

    model_config = ConfigDict(frozen=True)

    name: str
    ingredients: list[str]
    reason: str
    evidence: str = Field("", description="what there was, one line")


class CodeMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    code: str
    text: str
    patients: int
    how: Literal["code", "category", "concept", "name"]
    score: float = Field(description="100 for a code match; the name-match score otherwise")


class ConceptMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    term: str = Field(description="the concept term that matched")
    score: float
    how: Literal["code", "name"]


class IndicationMatch(BaseModel):
    model_config = ConfigDict(frozen=True)

    indication: str
    quality: float
    query: str


class MatchInfo(BaseModel):
    """How a diagnosis was read: for debugging and for the rationale."""

    model_config = ConfigDict(frozen=True)

    diagnosis_text: str
    code: str | None = Field(description="the code as given, normalised; None if absent")
    code_note: str | None = Field(None, description="why a given code was not used, if so")
    prior_codes: list[CodeMatch] = Field(description="codes whose training priors are used")
    concepts: list[ConceptMatch]
    indications: list[IndicationMatch] = Field(description="best label-indication matches")
    setting: str | None = Field(None, description="the care setting the rows were chosen for "
                                "('outpatient', 'inpatient', 'icu'), as given or assumed")
    setting_assumed: bool = Field(False, description="True when no setting was given and it "
                                  "was assumed from the diagnosis")


class Lookup(BaseModel):
    """candidates() with what fell short and the setting assumed."""

    model_config = ConfigDict(frozen=True)

    candidates: list[Candidate]
    held_back: list[HeldBack]
    info: MatchInfo
    advice: list[str] = Field(default_factory=list, description="what a guideline advises "
                              "instead of a drug, where it says no drug treats the diagnosis")
