"""`rxassist eval run`: dataset -> solver -> scorers -> metrics, resumable.

Finished cases are appended to OUT/cases.jsonl as they complete; a rerun with the same
configuration skips them. A case whose request still fails after the retries is left
unfinished (not recorded as "no output"), so an outage never biases the output rate.
"""

from __future__ import annotations

import json
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ClassVar, Sequence

from pydantic import BaseModel, ConfigDict, Field

from rxassist.cases import Case, read_cases
from rxassist.errors import ConfigError, ModelUnavailable, NotFound
from rxassist.paths import SHIPPED_DATA_DIR

from eval.metrics import compute_metrics, score_case
from eval.records import Appender, JudgeRecord, SolverRecord, read_records

DEFAULT_TRAIN_CASES = SHIPPED_DATA_DIR / "cases" / "nhanes-2013-2014-train.jsonl"


class RunConfig(BaseModel):
    """Everything a run depends on; stored as OUT/run.json and checked on resume."""

    model_config = ConfigDict(extra="forbid")

    cases: Path
    out: Path
    target: str = "model"
    base_url: str | None = None
    model: str | None = None
    limit: int | None = Field(None, ge=1)
    concurrency: int = Field(4, ge=1, le=256)
    max_retries: int = Field(6, ge=0)
    backoff_s: float = Field(1.0, ge=0)
    timeout_s: float = Field(300.0, gt=0)
    temperature: float = Field(0.0, ge=0)
    max_tokens: int = Field(512, ge=1)
    structured_output: bool = True
    choice: str = Field("enum", pattern="^(enum|logprob)$")
    judge_base_url: str | None = None
    judge_model: str | None = None
    judge_prompt: Path | None = None
    judge_structured_output: bool = True
    train_cases: Path = DEFAULT_TRAIN_CASES
    top_k: int = Field(3, ge=1)
    adapter: str | None = None
    rank: int | None = None
    step: int | None = None
    progress: bool = True
    api_key: str = Field("EMPTY", exclude=True, repr=False)
    judge_api_key: str = Field("EMPTY", exclude=True, repr=False)

    @classmethod
    def from_args(cls, args, *, api_key: str, judge_api_key: str) -> "RunConfig":
        return cls(cases=args.cases, out=args.out, target=args.target, base_url=args.base_url,
                   model=args.model, limit=args.limit, concurrency=args.concurrency,
                   max_retries=args.max_retries, backoff_s=args.backoff,
                   timeout_s=args.timeout,
                   temperature=args.temperature, max_tokens=args.max_tokens,
                   structured_output=not args.no_structured_output,
                   choice=getattr(args, "choice", "enum"),
                   judge_base_url=args.judge_base_url, judge_model=args.judge_model,
                   judge_prompt=args.judge_prompt,
                   judge_structured_output=not args.no_judge_structured_output,
                   train_cases=args.train_cases or DEFAULT_TRAIN_CASES, top_k=args.top_k,
                   adapter=args.adapter, rank=args.rank, step=args.step,
                   progress=not args.no_progress, api_key=api_key, judge_api_key=judge_api_key)

    def validate_combination(self) -> None:
        if self.max_retries < 0:
            raise ConfigError(f"--max-retries must be >= 0, got {self.max_retries}")
        if self.target not in ("frequency", "prior") and not (self.base_url and self.model):
            raise ConfigError(f"--target {self.target} needs --base-url and --model")
        if bool(self.judge_base_url) != bool(self.judge_model):
            raise ConfigError("give both --judge-base-url and --judge-model, or neither")

    @property
    def label(self) -> str:
        if self.target in ("frequency", "prior"):
            return f"{self.target}-top{self.top_k}"
        return self.model or self.target

    # Settings that change what a finished case means; a resumed run must keep them.
    # --limit and --base-url are not among them: raising the limit extends the same run, and
    # the same model may come back on another port.
    IDENTITY: ClassVar[tuple[str, ...]] = (
        "cases", "target", "model", "temperature", "max_tokens",
        "structured_output", "top_k", "train_cases", "choice")


@dataclass
class Outcome:
    summary: dict
    failed: int = 0
    line_errors: list[str] = field(default_factory=list)


def _check_resume(config: RunConfig) -> None:
    path = config.out / "run.json"
    current = json.loads(config.model_dump_json())
    if path.exists():
        try:
            previous = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            previous = {}
        def same(key: str) -> bool:
            a, b = previous[key], current.get(key)
            if key in ("cases", "train_cases") and a and b:
                return Path(a).resolve() == Path(b).resolve()
            return a == b

        diff = [k for k in RunConfig.IDENTITY if k in previous and not same(k)]
        if diff:
            raise ConfigError(f"{config.out} holds a run with different "
                              + ", ".join(f"{k} ({previous[k]!r} there, {current.get(k)!r} now)"
                                          for k in diff)
                              + "; use another --out to start a new run")
    config.out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")


def _parallel(items: Sequence, fn: Callable, concurrency: int, progress: bool, desc: str,
              on_done: Callable) -> int:
    """Run fn over items on a thread pool; on_done(result) per success. Returns the number of
    items that stayed unfinished (ModelUnavailable after retries). A fatal error (bad key,
    unknown model) cancels the rest and propagates."""
    from tqdm import tqdm

    failed = 0
    if not items:
        return 0
    with ThreadPoolExecutor(max_workers=concurrency) as pool, \
            tqdm(total=len(items), desc=desc, unit="case", disable=not progress,
                 file=sys.stderr) as bar:
        pending = {pool.submit(fn, item) for item in items}
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    try:
                        on_done(fut.result())
                    except ModelUnavailable as e:
                        failed += 1
                        if failed == 1:
                            print(f"\n{desc}: {e.message}", file=sys.stderr)
                    bar.update(1)
        except BaseException:
            # Fatal error or Ctrl-C: stop asking; what finished is already on disk.
            for fut in pending:
                fut.cancel()
            raise
    return failed


def run_eval(config: RunConfig, *, log: Callable[[str], None] | None = None) -> Outcome:
    from eval.judges import LLMJudge
    from eval.reference import INDICATIONS_FILE, ReferenceJudge, read_indications
    from eval.targets import EndpointSettings, make_target

    log = log or (lambda msg: print(msg, file=sys.stderr))
    config.validate_combination()
    # Absolute paths in run.json: a resumed run may be started from another directory.
    config.cases, config.train_cases = config.cases.resolve(), config.train_cases.resolve()
    if not config.cases.is_file():
        raise NotFound(f"--cases {config.cases} does not exist", param="cases")
    case_file = read_cases(config.cases)
    line_errors = [f"{config.cases}: {e} (skipped)" for e in case_file.errors]
    for msg in line_errors:
        log(msg)
    cases: list[Case] = case_file.cases[: config.limit] if config.limit else case_file.cases
    if not cases:
        raise ConfigError(f"--cases {config.cases} holds no valid case")
    _check_resume(config)

    endpoint = None
    if config.target not in ("frequency", "prior"):
        endpoint = EndpointSettings(base_url=config.base_url, model=config.model,
                                    api_key=config.api_key, timeout_s=config.timeout_s,
                                    temperature=config.temperature, max_tokens=config.max_tokens,
                                    structured_output=config.structured_output,
                                    max_retries=config.max_retries, choice=config.choice)
    target = make_target(config.target, endpoint=endpoint, train_cases=config.train_cases,
                         top_k=config.top_k)

    wanted = {c.id for c in cases}
    solved: dict[str, SolverRecord] = {r.id: r for r in read_records(
        config.out / "cases.jsonl", SolverRecord, log) if r.id in wanted}
    todo = [c for c in cases if c.id not in solved]
    if solved:
        log(f"resuming: {len(solved)} case(s) already done, {len(todo)} to go")
    appender = Appender(config.out / "cases.jsonl")

    def keep(record: SolverRecord) -> None:
        appender.append(record)
        solved[record.id] = record

    failed = _parallel(todo, target.solve, config.concurrency, config.progress,
                       f"eval {config.label}", keep)

    judged: dict[str, JudgeRecord] = {}
    judge_failed = 0
    judge = None
    if config.judge_model:
        judge = LLMJudge(base_url=config.judge_base_url, model=config.judge_model,
                         api_key=config.judge_api_key, prompt_path=config.judge_prompt,
                         structured_output=config.judge_structured_output,
                         timeout_s=config.timeout_s, max_retries=config.max_retries)
        judged = {r.id: r for r in read_records(config.out / "judge.jsonl", JudgeRecord, log)
                  if r.judge == judge.name and r.prompt_version == judge.prompt_version}
        to_judge = [r for r in solved.values() if r.output and r.id not in judged]
        judge_appender = Appender(config.out / "judge.jsonl")

        def keep_verdict(record: JudgeRecord) -> None:
            judge_appender.append(record)
            judged[record.id] = record

        judge_failed = _parallel(to_judge, judge.judge, config.concurrency, config.progress,
                                 f"judge {config.judge_model}", keep_verdict)

    reference = None
    reference_note = None
    if config.train_cases.is_file() and INDICATIONS_FILE.is_file():
        reference = ReferenceJudge(read_cases(config.train_cases).cases,
                                   read_indications(INDICATIONS_FILE))
    else:
        reference_note = "reference judge unavailable: training split or indications file missing"
        log(reference_note)

    ordered = [solved[c.id] for c in cases if c.id in solved]
    scores = [score_case(r, judged.get(r.id) if judge else None, reference) for r in ordered]
    with open(config.out / "scores.jsonl", "w", encoding="utf-8") as fh:
        for s in scores:
            fh.write(json.dumps(s.to_dict()) + "\n")

    metrics = {"n_cases": len(scores), "model": config.label, **compute_metrics(scores)}
    metrics.update({
        "n_cases": len(scores),
        "n_cases_requested": len(cases),
        "n_failed": failed,
        "complete": failed == 0 and judge_failed == 0,
        "n_malformed_case_lines": len(case_file.errors),
        "target": config.target,
        "cases_file": str(config.cases),
        "judge": judge.name if judge else None,
        "judge_prompt_version": judge.prompt_version if judge else None,
        "judge_n_failed": judge_failed,
        "reference_judge": None if reference is None else
        f"training-split co-occurrence (min {reference.min_count}) + open indications",
        "adapter": config.adapter,
        "rank": config.rank,
        "step": config.step,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    if reference_note:
        metrics["reference_note"] = reference_note
    (config.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n",
                                             encoding="utf-8")
    return Outcome(summary={"run": str(config.out), **metrics},
                   failed=failed + judge_failed, line_errors=line_errors)
