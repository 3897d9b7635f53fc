"""Solvers: the systems under test, registered by name (`--target`).

    model      the raw model API (vLLM or any OpenAI-compatible server), structured output,
               the same prompt the model was fine-tuned on (rxassist.prompt)
    assistant  the assistant API: one complete consultation message in natural language; the
               reply's top-level `rxassist.recommendations` is scored
    frequency  in-process baseline: the drugs most often prescribed for the diagnosis code in
               the training split (exact code, else its 3-character ICD category)
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import httpx

from rxassist.cases import Case, read_cases
from rxassist.errors import ConfigError
from rxassist.prompt import build_messages, parse_answer, patient_lines, response_format

from eval.endpoint import CaseRejected, RetryPolicy, chat_url, message_content, post_json
from eval.records import RecommendedDrug, SolverRecord


class Target(Protocol):
    name: str

    def solve(self, case: Case) -> SolverRecord: ...


def _record(case: Case, output, raw=None, error=None, started=None, flags=None) -> SolverRecord:
    return SolverRecord(id=case.id, patient=case.patient, diagnosis=case.diagnosis,
                        drugs=case.drugs, output=output or None, raw=raw, error=error,
                        latency_s=None if started is None else round(time.monotonic() - started, 3),
                        flags=flags)


@dataclass
class EndpointSettings:
    base_url: str
    model: str
    api_key: str = "EMPTY"
    timeout_s: float = 300.0
    temperature: float = 0.0
    max_tokens: int = 512
    structured_output: bool = True
    policy: RetryPolicy = field(default_factory=RetryPolicy)

    def client(self) -> httpx.Client:
        return httpx.Client(timeout=self.timeout_s,
                            headers={"Authorization": f"Bearer {self.api_key}"})


class ModelTarget:
    name = "model"

    def __init__(self, settings: EndpointSettings):
        self.s = settings
        self.http = settings.client()

    def payload(self, case: Case) -> dict:
        body = {"model": self.s.model, "messages": build_messages(case.patient, case.diagnosis),
                "temperature": self.s.temperature, "max_tokens": self.s.max_tokens}
        if self.s.structured_output:
            body["response_format"] = response_format()
        return body

    def post(self, case: Case, started: float) -> tuple[dict | None, SolverRecord | None]:
        """The endpoint's JSON reply, or the failed case's record once retries are spent."""
        try:
            return post_json(self.http, chat_url(self.s.base_url), self.payload(case),
                             policy=self.s.policy), None
        except CaseRejected as e:
            return None, _record(case, None, error=str(e), started=started)

    def solve(self, case: Case) -> SolverRecord:
        started = time.monotonic()
        body, failed = self.post(case, started)
        if failed is not None:
            return failed
        text = message_content(body)
        recs = parse_answer(text)
        output = [RecommendedDrug(drug=r.drug, rationale=r.rationale) for r in recs or []]
        return _record(case, output, raw=text,
                       error=None if output else "answer not parseable or empty", started=started)


def consultation_message(case: Case) -> str:
    """One complete consultation: every patient field, unknown ones stated as unknown."""
    dx = case.diagnosis
    coded = f" ({dx.system + ' ' if dx.system else ''}{dx.code})" if dx.code else ""
    return ("I am seeing a patient and would like your drug recommendations.\n"
            + "\n".join(patient_lines(case.patient))
            + f"\nDiagnosis: {dx.text}{coded}\n"
            "That is everything I know about this patient; please recommend drugs now.")


class AssistantTarget(ModelTarget):
    name = "assistant"

    def payload(self, case: Case) -> dict:
        return {"model": self.s.model, "temperature": self.s.temperature,
                "messages": [{"role": "user", "content": consultation_message(case)}]}

    def solve(self, case: Case) -> SolverRecord:
        started = time.monotonic()
        body, failed = self.post(case, started)
        if failed is not None:
            return failed
        text = message_content(body)
        extra = body.get("rxassist")
        recs = extra.get("recommendations") if isinstance(extra, dict) else None
        if not isinstance(recs, list):
            return _record(case, None, raw=text, started=started,
                           error="reply has no rxassist.recommendations list")
        output = []
        for item in recs:
            if isinstance(item, dict) and isinstance(item.get("drug"), str) and item["drug"].strip():
                ingredients = item.get("ingredients")
                output.append(RecommendedDrug(
                    drug=item["drug"], rationale=str(item.get("rationale") or ""),
                    ingredients=[str(i) for i in ingredients] if isinstance(ingredients, list)
                    else None))
        flags = extra.get("flags")
        return _record(case, output, raw=text, started=started,
                       error=None if output else "no recommendations in the reply",
                       flags=[f for f in flags if isinstance(f, dict)]
                       if isinstance(flags, list) else None)


def icd_category(code: str | None) -> str | None:
    return code.split(".")[0][:3] if code else None


class FrequencyTarget:
    """Top-k drugs by how often they were prescribed for the diagnosis in the training split."""

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

    def solve(self, case: Case) -> SolverRecord:
        code = case.diagnosis.code
        for table, key, how in ((self.by_code, code, "code"),
                                (self.by_category, icd_category(code), "category")):
            counts = table.get(key) if key else None
            if counts:
                # Ties broken by name so the baseline is deterministic.
                top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top_k]
                output = [RecommendedDrug(drug=d, rationale=f"prescribed for {how} {key} in "
                                          f"{n} training case(s)") for d, n in top]
                return _record(case, output)
        return _record(case, None, error="diagnosis code not seen in the training split")


TARGETS: dict[str, str] = {
    "model": "requires --base-url and --model",
    "assistant": "requires --base-url (the assistant API, e.g. http://127.0.0.1:8000/v1) and --model",
    "frequency": "in-process; uses --train-cases and --top-k",
}


def make_target(name: str, *, endpoint: EndpointSettings | None, train_cases: Path,
                top_k: int) -> Target:
    if name not in TARGETS:
        raise ConfigError(f"unknown --target {name!r}; known: {', '.join(TARGETS)}",
                          param="target")
    if name == "frequency":
        return FrequencyTarget.from_file(train_cases, top_k)
    if endpoint is None:
        raise ConfigError(f"--target {name} {TARGETS[name]}")
    return ModelTarget(endpoint) if name == "model" else AssistantTarget(endpoint)
