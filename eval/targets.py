"""Solvers: the systems under test, registered by name (`--target`).

    model      the raw model API (vLLM or any OpenAI-compatible server) through the one
               pipeline the assistant serves with (recommend.pipeline.recommend): the case's
               shortlist in the one prompt, the model chooses up to --top-k of them
    assistant  the assistant API: one complete consultation message in natural language; the
               reply's top-level `rxassist.recommendations` is scored
    evidence   in-process: the same shortlist in its evidence order (recommend.candidates score,
               patient warnings' penalty included), top-k, no model: the answer the assistant
               serves when the model defers to the evidence
    prior      in-process: the same shortlist ranked by the prescribing prior alone
               (Candidate.prior; ties keep the index's order), top-k, no model: what the model
               adds over the evidence it is given
    frequency  in-process baseline: the drugs most often prescribed for the diagnosis code in
               the training split (exact code, else its 3-character ICD category)

Every target but frequency records the candidate names it chose from, so the share of
recommendations outside the candidates is measured (eval.metrics), not assumed.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Protocol

from pydantic import ValidationError

from rxassist.cases import Case, read_cases
from rxassist.errors import ConfigError, describe_validation, validated
from rxassist.patient_text import DIAGNOSIS_LABEL, diagnosis_text, patient_lines
from recommend.candidates import load_index
from recommend.model_client import ModelClient, ModelSettings, RequestRejected
from recommend.pipeline import RecommendSettings, recommend
from recommend.schemas import MAX_OFFERED, MODEL_MARGIN, ConsultationResult, RecommendationRow
from recommend.shortlist import Shortlist, shortlist

from eval.records import RecommendedDrug, SolverRecord


class Target(Protocol):
    name: str

    def solve(self, case: Case) -> SolverRecord: ...


def _record(case: Case, output, raw=None, error=None, started=None, candidates=None,
            usage=None, flags=None) -> SolverRecord:
    return SolverRecord(id=case.id, patient=case.patient, diagnosis=case.diagnosis,
                        drugs=case.drugs, output=output or None, raw=raw, error=error,
                        candidates=candidates, usage=usage or None, flags=flags,
                        latency_s=None if started is None else round(time.monotonic() - started, 3))


def _drugs(rows: list[RecommendationRow]) -> list[RecommendedDrug]:
    return [RecommendedDrug(drug=r.drug, rationale=r.rationale, ingredients=list(r.ingredients))
            for r in rows]


def _chosen(sl: Shortlist, names: list[str]) -> list[RecommendedDrug]:
    out = []
    for name in names:
        cand = sl.by_name(name)
        out.append(RecommendedDrug(drug=name, rationale=cand.evidence_text(),
                                   ingredients=list(cand.ingredients)))
    return out


class ModelTarget:
    """`endpoint` is the model API with its one model (eval.config.RunConfig.endpoint)."""

    name = "model"

    def __init__(self, endpoint: ModelSettings, top_k: int = 3, fill: bool = True,
                 offer: int = MAX_OFFERED, margin: float | None = MODEL_MARGIN):
        self.s = endpoint
        # fill: as the assistant answers, the model's choices, then evidence order
        self.settings = validated(RecommendSettings, whole="target", recommendations=top_k,
                                  offer_limit=offer, fill_with_evidence=fill,
                                  model_margin=margin)
        self.client = ModelClient(endpoint)

    def solve(self, case: Case) -> SolverRecord:
        started = time.monotonic()
        try:
            result = recommend(case.patient, case.diagnosis, self.settings, client=self.client,
                               model=self.s.model)
        except RequestRejected as e:
            return _record(case, None, error=str(e), started=started)
        if result.status == "nothing_survives":
            return _record(case, None, error="no candidate survives for this diagnosis",
                           started=started, candidates=[])
        output = _drugs(result.recommendations)
        return _record(case, output, raw=result.answer_text, started=started,
                       usage=result.usage, candidates=result.candidates,
                       error=None if output else f"answer {result.model_output}")


class PriorTarget:
    """The shortlist's k candidates with the highest prescribing prior: no model."""

    name = "prior"

    def __init__(self, top_k: int = 3):
        self.k = top_k

    def solve(self, case: Case) -> SolverRecord:
        # Every surviving candidate, not only the model's share: the records' own ranking.
        sl = shortlist(case.patient, case.diagnosis, offer=None)
        # sorted() is stable: equal priors (e.g. label-only candidates) keep the index order.
        names = [c.name for c in sorted(sl.offered, key=lambda c: -c.prior)][: self.k]
        return _record(case, _chosen(sl, names), candidates=list(sl.names),
                       error=None if names else "no candidate survives for this diagnosis")


class EvidenceTarget:
    """The shortlist's first k candidates in evidence order, one product per ingredient: no
    model."""

    name = "evidence"

    def __init__(self, top_k: int = 3, offer: int | None = MAX_OFFERED):
        self.k, self.offer = top_k, offer

    def solve(self, case: Case) -> SolverRecord:
        sl = shortlist(case.patient, case.diagnosis, offer=self.offer)
        names = [name for name, _ in sl.ranked(sl.names, self.k, fill=False)]
        return _record(case, _chosen(sl, names), candidates=list(sl.names),
                       error=None if names else "no candidate survives for this diagnosis")


def consultation_message(case: Case) -> str:
    """One complete consultation: every patient field, unknown ones stated as unknown."""
    return ("I am seeing a patient and would like your drug recommendations.\n"
            + "\n".join(patient_lines(case.patient))
            + f"\n{DIAGNOSIS_LABEL}: {diagnosis_text(case.diagnosis, with_system=True)}\n"
            "That is everything I know about this patient; please recommend drugs now.")


class AssistantTarget:
    name = "assistant"

    def __init__(self, endpoint: ModelSettings):
        self.s = endpoint
        self.client = ModelClient(endpoint)

    def solve(self, case: Case) -> SolverRecord:
        started = time.monotonic()
        try:
            reply = self.client.chat(self.s.model, [{"role": "user",
                                                     "content": consultation_message(case)}])
        except RequestRejected as e:
            return _record(case, None, error=str(e), started=started)
        text = reply.choices[0].message.content if reply.choices else None
        extra = (reply.model_extra or {}).get("rxassist")
        if not isinstance(extra, dict):
            return _record(case, None, raw=text, started=started,
                           error="reply has no rxassist field")
        try:
            result = ConsultationResult.model_validate(extra)
        except ValidationError as e:
            message, _ = describe_validation(e.errors(), prefix="rxassist.", first_only=True)
            return _record(case, None, raw=text, started=started,
                           error=f"reply's rxassist field is not a consultation result: {message}")
        output = _drugs([r for r in result.recommendations if r.drug.strip()])
        return _record(case, output, raw=text, started=started, usage=result.usage,
                       candidates=result.candidates,
                       error=None if output else "no recommendations in the reply",
                       flags=result.flags)


def icd_category(code: str | None) -> str | None:
    return code.split(".")[0][:3] if code else None


class FrequencyTarget:
    """Top-k drugs by how often they were prescribed for the diagnosis in the training split:
    its exact code, else its ICD-10 category, else the training codes its text names."""

    name = "frequency"

    def __init__(self, train_cases: list[Case], top_k: int = 3):
        self.top_k = top_k
        self.by_code: dict[str, Counter] = defaultdict(Counter)
        self.by_category: dict[str, Counter] = defaultdict(Counter)
        for c in train_cases:
            code = c.diagnosis.code
            if not code:
                continue
            for d in c.drugs:
                self.by_code[code][d] += 1
                self.by_category[icd_category(code)][d] += 1

    @classmethod
    def from_file(cls, path: Path, top_k: int) -> "FrequencyTarget":
        if not path.is_file():
            raise ConfigError(f"--train-cases {path} does not exist (run `rxassist data build`)")
        return cls(read_cases(path).cases, top_k)

    def _lookups(self, case: Case):
        code = case.diagnosis.code
        yield self.by_code, code, "code"
        yield self.by_category, icd_category(code), "category"
        # A code from another system (Synthea's SNOMED CT) or none: the training codes whose
        # description matches the diagnosis text, as the candidate index reads it.
        for m in load_index().match_info(case.diagnosis.text).prior_codes:
            yield (self.by_category if m.how == "category" else self.by_code), m.code, \
                f"{m.how} match"

    def solve(self, case: Case) -> SolverRecord:
        for table, key, how in self._lookups(case):
            counts = table.get(key) if key else None
            if counts:
                # Ties broken by name so the baseline is deterministic.
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top_k]
                output = [RecommendedDrug(drug=d, rationale=f"prescribed for {how} {key} in "
                                          f"{n} training case(s)") for d, n in top]
                return _record(case, output)
        return _record(case, None, error="diagnosis code not seen in the training split")


TARGETS: dict[str, str] = {
    "model": "requires --base-url and --model; chooses up to --top-k candidates",
    "assistant": "requires --base-url (the assistant API, e.g. http://127.0.0.1:8000/v1) and --model",
    "evidence": "in-process; the first --top-k candidates of each case's shortlist in evidence "
                "order, no model",
    "prior": "in-process; the --top-k candidates of each case's shortlist with the highest "
             "prescribing prior, no model",
    "frequency": "in-process; uses --train-cases and --top-k",
}


def make_target(name: str, *, endpoint: ModelSettings | None, train_cases: Path,
                top_k: int, fill: bool = True, offer: int = MAX_OFFERED,
                margin: float | None = MODEL_MARGIN) -> Target:
    if name not in TARGETS:
        raise ConfigError(f"unknown --target {name!r}; known: {', '.join(TARGETS)}",
                          param="target")
    if name == "frequency":
        return FrequencyTarget.from_file(train_cases, top_k)
    if name == "prior":
        return PriorTarget(top_k)
    if name == "evidence":
        return EvidenceTarget(top_k, offer)
    if endpoint is None:
        raise ConfigError(f"--target {name} {TARGETS[name]}")
    return (ModelTarget(endpoint, top_k, fill, offer, margin) if name == "model"
            else AssistantTarget(endpoint))
