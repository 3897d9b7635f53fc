"""Solvers: the systems under test, registered by name (`--target`).

    model      the raw model API (vLLM or any OpenAI-compatible server) through the one model
               client (recommend.model_client): the case's shortlist (recommend.shortlist: evidence
               candidates the guardrails let through) in the one prompt (recommend.prompt), the
               model chooses up to --top-k of them
    assistant  the assistant API: one complete consultation message in natural language; the
               reply's top-level `rxassist.recommendations` is scored
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
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from rxassist.cases import Case, read_cases
from rxassist.errors import ConfigError
from recommend.model_client import ModelClient, ModelSettings, RequestRejected
from rxassist.patient_text import DIAGNOSIS_LABEL, diagnosis_text, patient_lines
from recommend.prompt import build_messages
from recommend.schemas import MAX_OFFERED, MODEL_MARGIN
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


def _chosen(sl: Shortlist, names: list[str]) -> list[RecommendedDrug]:
    out = []
    for name in names:
        cand = sl.by_name(name)
        out.append(RecommendedDrug(drug=name, rationale=cand.evidence_text(),
                                   ingredients=list(cand.ingredients)))
    return out


@dataclass
class EndpointSettings:
    base_url: str
    model: str
    api_key: str = "EMPTY"
    timeout_s: float = 300.0
    temperature: float = 0.0
    max_tokens: int = 512
    structured_output: bool = True
    max_retries: int = 6
    choice: str = "enum"

    def client(self) -> ModelClient:
        # Without structured output the enum is still named in the prompt and every answer
        # is validated against the shortlist; only the decoding is free.
        return ModelClient(ModelSettings(
            base_url=self.base_url, api_key=self.api_key, timeout_s=self.timeout_s,
            max_retries=self.max_retries, temperature=self.temperature,
            max_tokens=min(self.max_tokens, 4096), choice=self.choice,
            structured_output=self.structured_output))


class ModelTarget:
    name = "model"

    def __init__(self, settings: EndpointSettings, top_k: int = 3, fill: bool = True,
                 offer: int = MAX_OFFERED, margin: float | None = MODEL_MARGIN):
        self.s = settings
        self.k = top_k
        self.fill = fill   # as the assistant answers: the model's choices, then evidence order
        self.offer = offer
        self.margin = margin
        self.client = settings.client()

    def solve(self, case: Case) -> SolverRecord:
        started = time.monotonic()
        sl = shortlist(case.patient, case.diagnosis, offer=self.offer)
        if not sl.offered:
            return _record(case, None, error="no candidate survives for this diagnosis",
                           started=started, candidates=[])
        messages = build_messages(case.patient, case.diagnosis, sl.offered, self.k)
        try:
            choice = self.client.choose(self.s.model, messages, sl.names, self.k)
        except RequestRejected as e:
            return _record(case, None, error=str(e), started=started, candidates=list(sl.names))
        output = _chosen(sl, [n for n, _ in sl.ranked(choice.names or [], self.k,
                                                       fill=self.fill, patient=case.patient,
                                                       margin=self.margin)])
        return _record(case, output, raw=choice.raw, started=started, usage=choice.usage,
                       candidates=list(sl.names),
                       error=None if output else f"answer {choice.status}")


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


def consultation_message(case: Case) -> str:
    """One complete consultation: every patient field, unknown ones stated as unknown."""
    return ("I am seeing a patient and would like your drug recommendations.\n"
            + "\n".join(patient_lines(case.patient))
            + f"\n{DIAGNOSIS_LABEL}: {diagnosis_text(case.diagnosis, with_system=True)}\n"
            "That is everything I know about this patient; please recommend drugs now.")


class AssistantTarget:
    name = "assistant"

    def __init__(self, settings: EndpointSettings):
        self.s = settings
        self.client = settings.client()

    def solve(self, case: Case) -> SolverRecord:
        started = time.monotonic()
        try:
            reply = self.client.chat(self.s.model, [{"role": "user",
                                                     "content": consultation_message(case)}])
        except RequestRejected as e:
            return _record(case, None, error=str(e), started=started)
        text = reply.choices[0].message.content if reply.choices else None
        extra = (reply.model_extra or {}).get("rxassist")
        recs = extra.get("recommendations") if isinstance(extra, dict) else None
        if not isinstance(recs, list):
            return _record(case, None, raw=text, started=started,
                           error="reply has no rxassist.recommendations list")
        candidates = extra.get("candidates")
        output = []
        for item in recs:
            if isinstance(item, dict) and isinstance(item.get("drug"), str) and item["drug"].strip():
                ingredients = item.get("ingredients")
                output.append(RecommendedDrug(
                    drug=item["drug"], rationale=str(item.get("rationale") or ""),
                    ingredients=[str(i) for i in ingredients] if isinstance(ingredients, list)
                    else None))
        usage = extra.get("usage") if isinstance(extra.get("usage"), dict) else None
        flags = extra.get("flags")
        return _record(case, output, raw=text, started=started, usage=usage,
                       candidates=list(candidates) if isinstance(candidates, list) else None,
                       error=None if output else "no recommendations in the reply",
                       flags=[f for f in flags if isinstance(f, dict)]
                       if isinstance(flags, list) else None)


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
        from recommend.candidates import load_index
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
    "prior": "in-process; the --top-k candidates of each case's shortlist with the highest "
             "prescribing prior, no model",
    "frequency": "in-process; uses --train-cases and --top-k",
}
IN_PROCESS = ("prior", "frequency")


def make_target(name: str, *, endpoint: EndpointSettings | None, train_cases: Path,
                top_k: int, fill: bool = True, offer: int = MAX_OFFERED,
                margin: float | None = MODEL_MARGIN) -> Target:
    if name not in TARGETS:
        raise ConfigError(f"unknown --target {name!r}; known: {', '.join(TARGETS)}",
                          param="target")
    if name == "frequency":
        return FrequencyTarget.from_file(train_cases, top_k)
    if name == "prior":
        return PriorTarget(top_k)
    if endpoint is None:
        raise ConfigError(f"--target {name} {TARGETS[name]}")
    return (ModelTarget(endpoint, top_k, fill, offer, margin) if name == "model"
            else AssistantTarget(endpoint))
