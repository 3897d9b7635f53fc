"""Scoring one case, and metrics over all cases, registered by name
(docs/formats.md#metricsjson).

Definitions (R = a case's recommended drugs, P = its prescribed drugs; see eval.matching):
- output_rate          cases with a parseable, non-empty R / all cases
- accuracy             sum |{r in R : name(r) in name(P)}| / sum |R|, over cases with output
- ingredient_accuracy  sum |{r in R : ingredients(r) <= ingredients(P)}| / sum |R|, same cases
- recall, precision, jaccard, f1
                       per case on the ingredient sets ing(R), ing(P); a case without output
                       scores 0; averaged over ALL cases
- duplicate_rate       cases whose R has two recommendations sharing an ingredient / cases with
                       output
- appropriateness      drugs the LLM judge deemed appropriate / drugs it gave a verdict on;
                       null without a judge. Unparseable verdicts are counted, never scored.
- reference_appropriateness
                       the same for the offline reference judge (eval.reference), kept apart.
- outside_candidates   recommendations not among the case's candidate list / recommendations,
                       over cases whose target records a list (model, assistant, prior); null
                       for targets without one (frequency). Must be 0.
- mean_recommended     sum |R| / cases with output: the k a top-k baseline should match
- prompt_tokens_per_case, completion_tokens_per_case
                       mean model tokens over cases whose target reported usage
Undefined ratios (no denominator) are null, never 0.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Sequence

from eval.matching import drug_key, ingredient_set
from eval.records import JudgeRecord, SolverRecord


@dataclass
class CaseScore:
    id: str
    has_output: bool
    n_recommended: int = 0
    name_matches: int = 0
    ingredient_matches: int = 0
    recall: float = 0.0
    precision: float = 0.0
    jaccard: float = 0.0
    f1: float = 0.0
    duplicate: bool = False
    judge_appropriate: int = 0      # drugs judged appropriate
    judge_scored: int = 0           # drugs with a usable verdict
    judge_unscored: int = 0         # drugs the judge gave no usable verdict for
    judge_unparseable: bool = False
    judged: bool = False
    reference_supported: int = 0
    reference_scored: int = 0
    reference_verdicts: list[bool] = field(default_factory=list)  # per recommended drug
    n_outside_candidates: int | None = None   # None: the target recorded no candidate list
    prompt_tokens: int | None = None
    completion_tokens: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def score_case(record: SolverRecord, judge: JudgeRecord | None = None,
               reference: "Callable[[SolverRecord, str], bool] | None" = None) -> CaseScore:
    usage = record.usage or {}
    tokens = {"prompt_tokens": usage.get("prompt_tokens"),
              "completion_tokens": usage.get("completion_tokens")}
    if not record.output:
        return CaseScore(id=record.id, has_output=False, **tokens)
    recommended = [r.drug for r in record.output]
    prescribed_names = {drug_key(p).name for p in record.drugs}
    prescribed_ing = ingredient_set(record.drugs)
    keys = [drug_key(r) for r in recommended]
    rec_ing = frozenset().union(*(k.ingredients for k in keys))
    overlap = len(rec_ing & prescribed_ing)
    recall = overlap / len(prescribed_ing) if prescribed_ing else 0.0
    precision = overlap / len(rec_ing) if rec_ing else 0.0
    union = len(rec_ing | prescribed_ing)
    s = CaseScore(
        id=record.id, has_output=True, n_recommended=len(recommended),
        name_matches=sum(k.name in prescribed_names for k in keys),
        ingredient_matches=sum(bool(k.ingredients) and k.ingredients <= prescribed_ing
                               for k in keys),
        recall=recall, precision=precision, jaccard=overlap / union if union else 0.0,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
        duplicate=any(keys[i].ingredients & keys[j].ingredients
                      for i in range(len(keys)) for j in range(i + 1, len(keys))),
        n_outside_candidates=None if record.candidates is None else
        sum(d not in set(record.candidates) for d in recommended),
        **tokens,
    )
    if judge is not None:
        s.judged = True
        s.judge_unparseable = judge.unparseable
        s.judge_appropriate = sum(v.appropriate is True for v in judge.verdicts)
        s.judge_scored = sum(v.appropriate is not None for v in judge.verdicts)
        s.judge_unscored = len(recommended) - s.judge_scored
    if reference is not None:
        supported = [reference(record, d) for d in recommended]
        s.reference_verdicts = supported
        s.reference_supported, s.reference_scored = sum(supported), len(supported)
    return s


# name -> metric over all case scores. Registered by name so reports and callers can ask for
# one explicitly; an unknown name fails loudly.
MetricFn = Callable[[Sequence[CaseScore]], "float | int | None"]
METRICS: dict[str, MetricFn] = {}


def metric(name: str):
    def register(fn: MetricFn) -> MetricFn:
        if name in METRICS:
            raise ValueError(f"metric {name!r} is registered twice")
        METRICS[name] = fn
        return fn
    return register


def get_metric(name: str) -> MetricFn:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(METRICS))}") from None


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def _with_output(scores):
    return [s for s in scores if s.has_output]


@metric("n_cases")
def n_cases(scores):
    return len(scores)


@metric("n_with_output")
def n_with_output(scores):
    return len(_with_output(scores))


@metric("output_rate")
def output_rate(scores):
    return _ratio(len(_with_output(scores)), len(scores))


@metric("n_recommended")
def n_recommended(scores):
    return sum(s.n_recommended for s in scores)


@metric("accuracy")
def accuracy(scores):
    return _ratio(sum(s.name_matches for s in scores), sum(s.n_recommended for s in scores))


@metric("ingredient_accuracy")
def ingredient_accuracy(scores):
    return _ratio(sum(s.ingredient_matches for s in scores), sum(s.n_recommended for s in scores))


def _mean_over_all(field: str) -> MetricFn:
    return lambda scores: _ratio(sum(getattr(s, field) for s in scores), len(scores))


for _field in ("recall", "precision", "jaccard", "f1"):
    metric(_field)(_mean_over_all(_field))


@metric("duplicate_rate")
def duplicate_rate(scores):
    out = _with_output(scores)
    return _ratio(sum(s.duplicate for s in out), len(out))


@metric("appropriateness")
def appropriateness(scores):
    if not any(s.judged for s in scores):
        return None
    return _ratio(sum(s.judge_appropriate for s in scores), sum(s.judge_scored for s in scores))


@metric("judge_n_scored")
def judge_n_scored(scores):
    return sum(s.judge_scored for s in scores)


@metric("judge_n_unscored")
def judge_n_unscored(scores):
    return sum(s.judge_unscored for s in scores)


@metric("judge_n_unparseable_cases")
def judge_n_unparseable_cases(scores):
    return sum(s.judge_unparseable for s in scores)


@metric("reference_appropriateness")
def reference_appropriateness(scores):
    return _ratio(sum(s.reference_supported for s in scores),
                  sum(s.reference_scored for s in scores))


@metric("outside_candidates")
def outside_candidates(scores):
    listed = [s for s in _with_output(scores) if s.n_outside_candidates is not None]
    if not listed:
        return None
    return _ratio(sum(s.n_outside_candidates for s in listed),
                  sum(s.n_recommended for s in listed))


@metric("mean_recommended")
def mean_recommended(scores):
    out = _with_output(scores)
    return _ratio(sum(s.n_recommended for s in out), len(out))


def _mean_tokens(field: str) -> MetricFn:
    def mean(scores):
        known = [getattr(s, field) for s in scores if getattr(s, field) is not None]
        return _ratio(sum(known), len(known))
    return mean


for _field in ("prompt_tokens", "completion_tokens"):
    metric(f"{_field}_per_case")(_mean_tokens(_field))


def compute_metrics(scores: Sequence[CaseScore], names: Sequence[str] | None = None) -> dict:
    return {name: get_metric(name)(scores) for name in (names or METRICS)}
