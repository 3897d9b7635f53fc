"""Each step of `run_eval` (load, solve, judge, score, write) alone, with in-process fakes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import runner
from eval.records import JudgeRecord, RecommendedDrug, SolverRecord, Verdict
from rxassist.cases import Case
from rxassist.errors import ConfigError

CASES = [{"id": f"c{i}", "patient": {"age": 50}, "diagnosis": {"text": "Hypertension"},
          "drugs": ["lisinopril"]} for i in range(3)]


@pytest.fixture
def config(tmp_path: Path) -> runner.RunConfig:
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(json.dumps(c) for c in CASES) + "\nnot json\n")
    return runner.RunConfig(cases=path, out=tmp_path / "out", target="frequency",
                            progress=False, concurrency=2)


class EchoTarget:
    """Recommends the prescribed drugs for every case but c2, which gets no output."""

    def __init__(self):
        self.seen: list[str] = []

    def solve(self, case: Case) -> SolverRecord:
        self.seen.append(case.id)
        output = None if case.id == "c2" else [RecommendedDrug(drug=d) for d in case.drugs]
        return SolverRecord(id=case.id, patient=case.patient, diagnosis=case.diagnosis,
                            drugs=case.drugs, output=output)


class YesJudge:
    name, prompt_version = "yes-judge", "v1"

    def __init__(self):
        self.seen: list[str] = []

    def judge(self, record: SolverRecord) -> JudgeRecord:
        self.seen.append(record.id)
        return JudgeRecord(id=record.id, judge=self.name, prompt_version=self.prompt_version,
                           verdicts=[Verdict(drug=d.drug, appropriate=True) for d in record.output])


def test_load_reports_malformed_lines_and_limits(config):
    logged: list[str] = []
    config.limit = 2
    loaded = runner.load(config, logged.append)
    assert [c.id for c in loaded.cases] == ["c0", "c1"]
    assert loaded.n_malformed == 1 and "line 4" in logged[0]
    assert (config.out / "run.json").is_file()


def test_load_refuses_an_incomplete_option_set(config):
    config.target = "model"
    with pytest.raises(ConfigError, match="--base-url"):
        runner.load(config, print)


def test_solve_appends_and_resumes(config):
    loaded = runner.load(config, print)
    target = EchoTarget()
    solved, failed = runner.solve(config, loaded.cases, target, print)
    assert failed == 0 and sorted(solved) == ["c0", "c1", "c2"]
    again = EchoTarget()
    solved2, _ = runner.solve(config, loaded.cases, again, print)
    assert again.seen == [] and solved2.keys() == solved.keys()   # nothing redone
    assert len((config.out / "cases.jsonl").read_text().splitlines()) == 3


def test_judge_skips_unanswered_and_already_judged(config):
    loaded = runner.load(config, print)
    solved, _ = runner.solve(config, loaded.cases, EchoTarget(), print)
    assert runner.judge(config, solved, None, print) == runner.Judged()
    j = YesJudge()
    judged = runner.judge(config, solved, j, print)
    assert sorted(j.seen) == ["c0", "c1"] and judged.name == "yes-judge"   # c2 has no output
    j2 = YesJudge()
    assert runner.judge(config, solved, j2, print).records.keys() == judged.records.keys()
    assert j2.seen == []


def test_score_keeps_case_order_and_uses_verdicts(config):
    loaded = runner.load(config, print)
    solved, _ = runner.solve(config, loaded.cases, EchoTarget(), print)
    judged = runner.judge(config, solved, YesJudge(), print)
    scores = runner.score(loaded.cases, solved, judged, None)
    assert [s.id for s in scores] == ["c0", "c1", "c2"]
    assert [s.has_output for s in scores] == [True, True, False]
    assert scores[0].judge_appropriate == 1 and scores[2].judge_appropriate == 0


def test_summarise_and_write(config):
    loaded = runner.load(config, print)
    solved, _ = runner.solve(config, loaded.cases, EchoTarget(), print)
    scores = runner.score(loaded.cases, solved, runner.Judged(), None)
    metrics = runner.summarise(config, loaded, scores, 0, runner.Judged(), None, "no reference")
    assert list(metrics)[:2] == ["n_cases", "model"]
    assert metrics["output_rate"] == pytest.approx(2 / 3) and metrics["accuracy"] == 1.0
    assert metrics["appropriateness"] is None and metrics["complete"] is True
    assert metrics["n_malformed_case_lines"] == 1 and metrics["reference_note"] == "no reference"
    runner.write(config.out, scores, metrics)
    assert json.loads((config.out / "metrics.json").read_text()) == metrics
    assert len((config.out / "scores.jsonl").read_text().splitlines()) == 3
