"""`rxassist eval report` rendering and the human-review CSV round trip (export -> import)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rxassist.cases import Diagnosis, Patient
from rxassist.cli import main

from eval.records import JudgeRecord, RecommendedDrug, SolverRecord, Verdict
from eval.report import describe, markdown_table, render_html
from eval.review import (REVIEW_COLUMNS, ReviewRow, append_review_rows, cohen_kappa,
                         read_review)

BASE = {"n_cases": 200, "output_rate": 0.99, "accuracy": 0.31, "ingredient_accuracy": 0.36,
        "recall": 0.33, "jaccard": 0.30, "f1": 0.33, "appropriateness": None,
        "duplicate_rate": 0.02}


def make_run(root: Path, name: str, model: str, **over) -> Path:
    d = root / name
    d.mkdir(parents=True)
    (d / "metrics.json").write_text(json.dumps({**BASE, "model": model, **over}))
    return d


def test_model_names_fill_adapter_rank_and_step():
    m = describe({"model": "fa-lora-r16-checkpoint-500"})
    assert (m["adapter"], m["rank"], m["step"]) == ("fa-lora-r16", 16, 500)
    assert describe({"model": "smollm2-135m-instruct"})["adapter"] == "base (no adapter)"
    assert describe({"model": "frequency-baseline", "target": "frequency"})["adapter"] == \
        "frequency baseline"
    assert describe({"model": "x", "rank": 32, "step": 7})["rank"] == 32


def test_markdown_and_html(tmp_path):
    runs = [{"run": "base", "model": "smollm2", **BASE},
            {"run": "ft", "model": "lora-r32-step-100", **BASE, "appropriateness": 0.5}]
    md = markdown_table(runs)
    assert "| Run | Model | Adapter | Rank | Step | Cases | Output rate | Accuracy | " \
           "Appropriateness |" in md
    assert "| ft | lora-r32-step-100 | lora-r32 | 32 | 100 | 200 | 0.990 | 0.310 | 0.500 |" in md
    assert "| base | smollm2 | base (no adapter) | – | – | 200 | 0.990 | 0.310 | – |" in md
    page = render_html(runs)
    assert page.count("<svg") == 6 and "<td>lora-r32-step-100</td>" in page


def test_report_cli(tmp_path, capsys):
    a = make_run(tmp_path, "a", "base-model")
    b = make_run(tmp_path, "b", "adapter-r16-checkpoint-20", appropriateness=0.7)
    out = tmp_path / "report"
    assert main(["eval", "report", str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "adapter-r16-checkpoint-20" in printed
    assert (out / "report.md").read_text() in printed
    assert "<svg" in (out / "report.html").read_text()
    assert main(["eval", "report", str(tmp_path / "missing")]) == 2


def test_cohen_kappa_hand_computed():
    # po = 3/4; p(yes) 1/2 and 1/4 -> pe = 1/2 * 1/4 + 1/2 * 3/4 = 1/2; kappa = 1/2
    assert cohen_kappa([(True, True), (True, False), (False, False), (False, False)]) == 0.5
    assert cohen_kappa([(True, True), (False, False)]) == 1.0
    assert cohen_kappa([(True, True)]) is None and cohen_kappa([]) is None


def test_review_rows_roundtrip_and_validation(tmp_path):
    path = tmp_path / "fb.csv"
    append_review_rows(path, [ReviewRow(case_id="c1", recommended_drug="lisinopril",
                                        appropriate="Yes", source="assistant-ui")])
    append_review_rows(path, [{"case_id": "c1", "recommended_drug": "x", "appropriate": "n"}])
    with open(path) as fh:
        assert next(csv.reader(fh)) == REVIEW_COLUMNS
    rows = read_review(path)
    assert [(r.recommended_drug, r.appropriate) for r in rows] == [("lisinopril", "yes"), ("x", "no")]
    with pytest.raises(ValueError):
        ReviewRow(case_id="c", recommended_drug="d", appropriate="perhaps")
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,recommended_drug,appropriate\nc1,d,perhaps\n")
    from rxassist.errors import InvalidInput
    with pytest.raises(InvalidInput, match="line 2"):
        read_review(bad)


def test_review_export_import(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"model": "m"}))
    recs = [SolverRecord(id="c1", patient=Patient(age=60, sex="female"),
                         diagnosis=Diagnosis(text="Hypertension", code="I10"), drugs=["x"],
                         output=[RecommendedDrug(drug="lisinopril", rationale="r"),
                                 RecommendedDrug(drug="amlodipine")]),
            SolverRecord(id="c2", patient=Patient(), diagnosis=Diagnosis(text="Asthma"),
                         drugs=["albuterol"], output=[RecommendedDrug(drug="albuterol")]),
            SolverRecord(id="c3", patient=Patient(), diagnosis=Diagnosis(text="Cough"),
                         drugs=["x"], output=None)]
    (run / "cases.jsonl").write_text("".join(r.model_dump_json() + "\n" for r in recs))
    judge = [JudgeRecord(id="c1", judge="llm:j", prompt_version="v", verdicts=[
                 Verdict(drug="lisinopril", appropriate=True),
                 Verdict(drug="amlodipine", appropriate=False)]),
             JudgeRecord(id="c2", judge="llm:j", prompt_version="v", verdicts=[
                 Verdict(drug="albuterol", appropriate=True)])]
    (run / "judge.jsonl").write_text("".join(j.model_dump_json() + "\n" for j in judge))
    (run / "scores.jsonl").write_text(
        json.dumps({"id": "c1", "reference_verdicts": [True, True]}) + "\n"
        + json.dumps({"id": "c2", "reference_verdicts": [True]}) + "\n")

    out = tmp_path / "review.csv"
    assert main(["eval", "review", "export", str(run), "--out", str(out)]) == 0
    assert main(["eval", "review", "export", str(run), "--out", str(out)]) == 2  # never overwrite
    rows = list(csv.DictReader(open(out)))
    assert [r["recommended_drug"] for r in rows] == ["lisinopril", "amlodipine", "albuterol"]
    assert rows[0]["diagnosis"] == "Hypertension (I10)" and rows[0]["source"] == "m"
    assert "age 60; sex female; pregnant unknown; allergies unknown" in rows[0]["patient_summary"]
    # the clinician agrees with the judge on lisinopril and albuterol, not on amlodipine
    for r, answer in zip(rows, ["yes", "yes", "yes"]):
        r["appropriate"] = answer
    filled = tmp_path / "filled.csv"
    with open(filled, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=REVIEW_COLUMNS)
        w.writeheader()
        w.writerows(rows)
    capsys.readouterr()
    figures_path = tmp_path / "agreement.json"
    assert main(["eval", "review", "import", str(filled), str(run), "--out",
                 str(figures_path)]) == 0
    figures = json.loads(figures_path.read_text())
    assert figures["human_appropriateness"] == 1.0 and figures["n_reviewed"] == 3
    llm = figures["agreement"][str(run)]["llm:j"]
    assert llm["n_pairs"] == 3 and llm["percent_agreement"] == pytest.approx(2 / 3)
    assert llm["kappa"] == 0.0          # the human always says yes: no agreement beyond chance
    assert figures["agreement"][str(run)]["reference"]["percent_agreement"] == 1.0
    assert "Cohen's kappa" in capsys.readouterr().out
