"""benchmarks/bench_everyday.py scores what it claims (candidates-only mode, no server)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from eval.everyday import read_consultations

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_everyday.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_everyday", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_score_row_accepts_and_flags(bench):
    case = next(c for c in read_consultations() if c.id.endswith("cap-penicillin-allergy"))
    row = bench.score_row(case, [("amoxicillin", ["amoxicillin"]),
                                 ("doxycycline", ["doxycycline"])], top_k=3)
    assert row["accepted_in_top"] and not row["first_accepted"]
    assert row["first_critical"] and row["first_critical_reasons"] == ["allergy:amoxicillin"]
    row = bench.score_row(case, [], top_k=3)
    assert not row["output"] and not row["accepted_in_top"] and not row["first_critical"]


def test_current_medication_first_counts_as_critical(bench):
    case = next(c for c in read_consultations() if c.id.endswith("af-on-metoprolol"))
    row = bench.score_row(case, [("metoprolol", ["metoprolol"])], top_k=3)
    assert row["first_critical_reasons"] == ["current_medication"]


def test_candidates_only_run_writes_json(bench, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert bench.main(["--candidates-only", "--limit", "5", "--out", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["n_cases"] == 5 and len(report["rows"]) == 5
    safe = report["summary"]["safe"]
    assert safe["critical_first"] == 0  # the safe list never starts with a critical drug
    assert safe["accepted_in_top"] == sum(r["safe"]["accepted_in_top"] for r in report["rows"])
    assert "accepted drug in top 3" in capsys.readouterr().out


def test_bad_options_exit_2(bench):
    assert bench.main(["--candidates-only", "--top-k", "0"]) == 2


def test_follow_up_answers_missing_fields_as_unknown(bench):
    case = read_consultations()[0]
    assert bench.follow_up(case, ["allergies", "current_medications"]) == \
        "allergies unknown, current medications unknown"
    assert bench.follow_up(case, ["diagnosis"]) == f"diagnosis: {case.diagnosis.text}"
