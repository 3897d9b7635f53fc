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
from typing import Callable, Sequence

from rxassist.cases import Case, read_cases
from rxassist.errors import ConfigError, ModelUnavailable, NotFound

from eval.config import DEFAULT_TRAIN_CASES, IN_PROCESS_TARGETS, RunConfig  # noqa: F401  (eval.runner.RunConfig)
from eval.metrics import CaseScore, compute_metrics, score_case
from eval.records import Appender, JudgeRecord, SolverRecord, read_records

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


@dataclass
class Loaded:
    """The cases of a run, after --limit; malformed lines reported, never fatal."""
    cases: list[Case]
    line_errors: list[str]
    n_malformed: int


@dataclass
class Judged:
    """The LLM judge's verdicts by case id (empty without a judge)."""
    records: dict[str, JudgeRecord] = field(default_factory=dict)
    failed: int = 0
    name: str | None = None
    prompt_version: str | None = None


def load(config: RunConfig, log: Callable[[str], None]) -> Loaded:
    """Check the options, read the cases and claim (or resume) the output folder."""
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
    return Loaded(cases, line_errors, len(case_file.errors))


def make_target(config: RunConfig):
    """The system under test: the model API, the assistant API or the frequency baseline."""
    from eval.targets import make_target as _make

    endpoint = None if config.target in IN_PROCESS_TARGETS else config.endpoint()
    return _make(config.target, endpoint=endpoint, train_cases=config.train_cases,
                 top_k=config.top_k, fill=config.fill, offer=config.offer,
                 margin=config.margin)


def make_judge(config: RunConfig):
    """The LLM judge, or None when the run has none."""
    from eval.judges import LLMJudge

    if not config.judge_model:
        return None
    return LLMJudge(config.judge_endpoint(), prompt_path=config.judge_prompt)


def _extend(config: RunConfig, filename: str, have: dict, items: Sequence, fn: Callable,
            desc: str) -> int:
    """fn over items in parallel; each record is appended to OUT/filename as it finishes (so
    an interrupted run resumes) and added to `have` by id. Returns the unfinished count."""
    appender = Appender(config.out / filename)

    def keep(record) -> None:
        appender.append(record)
        have[record.id] = record

    return _parallel(items, fn, config.concurrency, config.progress, desc, keep)


def solve(config: RunConfig, cases: Sequence[Case], target,
          log: Callable[[str], None]) -> tuple[dict[str, SolverRecord], int]:
    """Step 1: every case not yet in OUT/cases.jsonl through the target. Returns the records of
    the wanted cases (resumed ones included) and how many stayed unfinished."""
    wanted = {c.id for c in cases}
    solved = {r.id: r for r in read_records(config.out / "cases.jsonl", SolverRecord, log)
              if r.id in wanted}
    todo = [c for c in cases if c.id not in solved]
    if solved:
        log(f"resuming: {len(solved)} case(s) already done, {len(todo)} to go")
    failed = _extend(config, "cases.jsonl", solved, todo, target.solve, f"eval {config.label}")
    return solved, failed


def judge(config: RunConfig, solved: dict[str, SolverRecord], judge_,
          log: Callable[[str], None]) -> Judged:
    """Step 2: every answered case not yet in OUT/judge.jsonl (for this judge and prompt)."""
    if judge_ is None:
        return Judged()
    judged = {r.id: r for r in read_records(config.out / "judge.jsonl", JudgeRecord, log)
              if r.judge == judge_.name and r.prompt_version == judge_.prompt_version}
    to_judge = [r for r in solved.values() if r.output and r.id not in judged]
    failed = _extend(config, "judge.jsonl", judged, to_judge, judge_.judge,
                     f"judge {config.judge_model}")
    return Judged(judged, failed, judge_.name, judge_.prompt_version)


def load_reference(config: RunConfig, log: Callable[[str], None]):
    """The reference judge (training-split co-occurrence + indications) and, when it cannot be
    built, the note saying why."""
    from eval.reference import INDICATIONS_FILE, ReferenceJudge, read_indications

    if config.train_cases.is_file() and INDICATIONS_FILE.is_file():
        return ReferenceJudge(read_cases(config.train_cases).cases,
                              read_indications(INDICATIONS_FILE)), None
    note = "reference judge unavailable: training split or indications file missing"
    log(note)
    return None, note


def score(cases: Sequence[Case], solved: dict[str, SolverRecord], judged: Judged,
          reference) -> list[CaseScore]:
    """Step 3: one score per finished case, in case-file order."""
    ordered = [solved[c.id] for c in cases if c.id in solved]
    return [score_case(r, judged.records.get(r.id), reference) for r in ordered]


def summarise(config: RunConfig, loaded: Loaded, scores: Sequence[CaseScore], failed: int,
              judged: Judged, reference, reference_note: str | None) -> dict:
    """Step 4a: metrics.json's content (docs/formats.md#metrics-json), extra keys after."""
    metrics = {"n_cases": len(scores), "model": config.label, **compute_metrics(scores)}
    metrics.update({
        "n_cases": len(scores),
        "n_cases_requested": len(loaded.cases),
        "n_failed": failed,
        "complete": failed == 0 and judged.failed == 0,
        "n_malformed_case_lines": loaded.n_malformed,
        "target": config.target,
        "cases_file": str(config.cases),
        "judge": judged.name,
        "judge_prompt_version": judged.prompt_version,
        "judge_n_failed": judged.failed,
        "reference_judge": None if reference is None else
        f"training-split co-occurrence (min {reference.min_count}) + open indications",
        "adapter": config.adapter,
        "rank": config.rank,
        "step": config.step,
        "finished_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })
    if reference_note:
        metrics["reference_note"] = reference_note
    return metrics


def write(out: Path, scores: Sequence[CaseScore], metrics: dict) -> None:
    """Step 4b: OUT/scores.jsonl (rewritten) and OUT/metrics.json."""
    with open(out / "scores.jsonl", "w", encoding="utf-8") as fh:
        for s in scores:
            fh.write(json.dumps(s.to_dict()) + "\n")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n", encoding="utf-8")


def run_eval(config: RunConfig, *, log: Callable[[str], None] | None = None) -> Outcome:
    """load -> solve -> judge -> score -> write."""
    log = log or (lambda msg: print(msg, file=sys.stderr))
    loaded = load(config, log)
    solved, failed = solve(config, loaded.cases, make_target(config), log)
    judged = judge(config, solved, make_judge(config), log)
    reference, reference_note = load_reference(config, log)
    scores = score(loaded.cases, solved, judged, reference)
    metrics = summarise(config, loaded, scores, failed, judged, reference, reference_note)
    write(config.out, scores, metrics)
    return Outcome(summary={"run": str(config.out), **metrics},
                   failed=failed + judged.failed, line_errors=loaded.line_errors)
