"""`rxassist eval run` over real HTTP against a FAKE OpenAI-compatible server (eval_fake_openai).

Covers: scoring a run, retries, a server restart mid-run, resuming an interrupted run, a
malformed case line, a judge that answers garbage, the assistant target and the frequency
baseline. The run against the real vLLM server is in test_eval_e2e.py.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from tests.eval.eval_fake_openai import FakeChatServer

from rxassist.cli import main

# Answers in the one prompt format: choices among the case's candidates.
LISINOPRIL = json.dumps({"choices": ["lisinopril"]})
METFORMIN = json.dumps({"choices": ["metformin", "empagliflozin"]})
ANSWERS = {"I10": LISINOPRIL, "E11": METFORMIN, "J45": "Sorry, I cannot help with that."}


def case(i: int, code: str, text: str, drugs: list[str]) -> dict:
    return {"id": f"c{i}", "patient": {"age": 50, "sex": "female"},
            "diagnosis": {"text": text, "code": code}, "drugs": drugs}


CASES = [case(1, "I10", "Essential (primary) hypertension", ["lisinopril", "amlodipine"]),
         case(2, "E11", "Type 2 diabetes mellitus", ["metformin"]),
         case(3, "J45", "Asthma", ["albuterol"]),
         case(4, "I10", "Essential (primary) hypertension", ["losartan"])]


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.jsonl"
    lines = [json.dumps(c) for c in CASES]
    lines.insert(2, '{"id": "broken", "drugs": []}')   # malformed: no diagnosis
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def server():
    fake = FakeChatServer(ANSWERS).start()
    yield fake
    fake.stop()


def run(cases_file: Path, out: Path, base_url: str, *extra: str, model: str = "m",
        fill: bool = False) -> int:
    """`eval run` against the fake server; by default the model's own choices only (--no-fill),
    which is what these tests score."""
    return main(["eval", "run", "--cases", str(cases_file), "--base-url", base_url,
                 "--model", model, "--out", str(out), "--no-progress",
                 "--concurrency", "2", *([] if fill else ["--no-fill"]), *extra])


def metrics(out: Path) -> dict:
    return json.loads((out / "metrics.json").read_text())


def test_model_run_scores_and_reports_malformed_line(cases_file, server, tmp_path, capsys):
    out = tmp_path / "run"
    assert run(cases_file, out, server.base_url) == 0
    captured = capsys.readouterr()
    assert "line 3:" in captured.err and "diagnosis" in captured.err
    m = metrics(out)
    assert m["n_cases"] == 4 and m["n_malformed_case_lines"] == 1 and m["complete"] is True
    assert m["output_rate"] == pytest.approx(3 / 4)
    # recommended: lisinopril (match), metformin (match), empagliflozin, lisinopril (no match)
    assert m["accuracy"] == pytest.approx(2 / 4)
    assert m["appropriateness"] is None
    assert "| Output rate |" in captured.out
    sent = server.requests[0]
    assert sent["response_format"]["type"] == "json_schema" and sent["model"] == "m"
    assert sent["messages"][0]["role"] == "system"
    records = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert sorted(r["id"] for r in records) == ["c1", "c2", "c3", "c4"]
    asthma = next(r for r in records if r["id"] == "c3")
    assert asthma["output"] is None and asthma["raw"].startswith("Sorry")


def test_transient_errors_are_retried(cases_file, tmp_path):
    fake = FakeChatServer(ANSWERS, fail_first=3).start()
    try:
        assert run(cases_file, tmp_path / "run", fake.base_url, "--concurrency", "1") == 0
    finally:
        fake.stop()
    assert metrics(tmp_path / "run")["n_cases"] == 4
    assert len(fake.requests) == 4 + 3


def test_interrupted_run_resumes_and_skips_finished_cases(cases_file, tmp_path, capsys):
    out = tmp_path / "run"
    fake = FakeChatServer(ANSWERS, stop_after=2).start()
    port = fake.port
    assert run(cases_file, out, fake.base_url, "--concurrency", "1", "--max-retries", "0") == 1
    fake.stopped.wait(5)
    assert "rerun the same command to resume" in capsys.readouterr().out
    m = metrics(out)
    assert m["n_cases"] == 2 and m["n_failed"] == 2 and m["complete"] is False
    restarted = FakeChatServer(ANSWERS, port=port).start()
    try:
        assert run(cases_file, out, restarted.base_url, "--concurrency", "1") == 0
    finally:
        restarted.stop()
    assert len(restarted.requests) == 2              # only the unfinished cases were asked
    assert "resuming: 2 case(s) already done" in capsys.readouterr().err
    m = metrics(out)
    assert m["n_cases"] == 4 and m["complete"] is True
    assert len((out / "cases.jsonl").read_text().splitlines()) == 4


def test_server_restart_mid_run_is_survived(cases_file, tmp_path):
    fake = FakeChatServer(ANSWERS, stop_after=1).start()
    port, result = fake.port, {}

    def go():
        result["rc"] = run(cases_file, tmp_path / "run", fake.base_url, "--concurrency", "1",
                           "--max-retries", "30")
    worker = threading.Thread(target=go)
    worker.start()
    assert fake.stopped.wait(10)
    # The finished case is on disk while the server is down: a crash now would lose nothing.
    cases_jsonl = tmp_path / "run" / "cases.jsonl"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not (
            cases_jsonl.exists() and cases_jsonl.read_text().count("\n") == 1):
        time.sleep(0.05)
    assert cases_jsonl.read_text().count("\n") == 1
    restarted = FakeChatServer(ANSWERS, port=port).start()
    try:
        worker.join(60)
    finally:
        restarted.stop()
    assert result["rc"] == 0
    assert metrics(tmp_path / "run")["n_cases"] == 4 and len(restarted.requests) == 3


def test_resume_with_another_model_is_refused(cases_file, server, tmp_path, capsys):
    out = tmp_path / "run"
    assert run(cases_file, out, server.base_url) == 0
    assert run(cases_file, out, server.base_url, model="other") == 2
    assert "different model" in capsys.readouterr().err


def test_unknown_model_stops_the_run_with_exit_2(cases_file, tmp_path, capsys):
    fake = FakeChatServer(ANSWERS, models=("m",)).start()
    try:
        assert run(cases_file, tmp_path / "run", fake.base_url, model="nope") == 2
    finally:
        fake.stop()
    assert "does not exist" in capsys.readouterr().err


def test_bad_limit_and_missing_cases_exit_2(tmp_path, capsys):
    assert main(["eval", "run", "--cases", str(tmp_path / "x.jsonl"), "--out", str(tmp_path),
                 "--target", "frequency"]) == 2
    with pytest.raises(SystemExit) as e:
        main(["eval", "run", "--cases", "x", "--out", "y", "--limit", "zero"])
    assert e.value.code == 2


def test_judge_garbage_is_unscored_and_counted(cases_file, server, tmp_path):
    judge = FakeChatServer({"I10": "looks fine to me", "E11": "{not json"}).start()
    try:
        assert run(cases_file, tmp_path / "run", server.base_url, "--judge-base-url",
                   judge.base_url, "--judge-model", "judge") == 0
    finally:
        judge.stop()
    m = metrics(tmp_path / "run")
    assert m["appropriateness"] is None
    assert m["judge_n_scored"] == 0 and m["judge_n_unscored"] == 4
    assert m["judge_n_unparseable_cases"] == 3
    assert m["judge"] == "llm:judge" and m["judge_prompt_version"].startswith("judge-v1@")


def test_judge_verdicts_and_reasons_are_stored(cases_file, server, tmp_path):
    ok = {"verdicts": [{"index": 1, "drug": "lisinopril", "verdict": "appropriate",
                        "reason": "first-line antihypertensive"}]}
    diabetes = {"verdicts": [{"index": 1, "drug": "metformin", "verdict": "appropriate",
                              "reason": "first line"},
                             {"index": 2, "drug": "empagliflozin", "verdict": "inappropriate",
                              "reason": "not yet"}]}
    judge = FakeChatServer({"I10": json.dumps(ok), "E11": json.dumps(diabetes)}).start()
    out = tmp_path / "run"
    try:
        assert run(cases_file, out, server.base_url, "--judge-base-url", judge.base_url,
                   "--judge-model", "judge") == 0
        assert judge.requests[0]["response_format"]["json_schema"]["name"] == "verdicts"
        n_judge_requests = len(judge.requests)
        # A rerun judges nothing again.
        assert run(cases_file, out, server.base_url, "--judge-base-url", judge.base_url,
                   "--judge-model", "judge") == 0
        assert len(judge.requests) == n_judge_requests == 3
    finally:
        judge.stop()
    m = metrics(out)
    assert m["appropriateness"] == pytest.approx(3 / 4)
    reasons = [v["reason"] for line in (out / "judge.jsonl").read_text().splitlines()
               for v in json.loads(line)["verdicts"]]
    assert "first-line antihypertensive" in reasons


def test_assistant_target_sends_one_consultation_and_scores_rxassist_field(cases_file, tmp_path):
    flag = {"kind": "interaction", "severity": "warning", "ingredient": None,
            "drugs": ["lisinopril", "spironolactone"], "message": "m", "basis": "b"}
    # The reply's `rxassist` field as the assistant API sends it (a ConsultationResult).
    extra = {"I10": {"rxassist": {
        "status": "recommended", "patient": {"age": 50, "sex": "female"},
        "diagnosis": {"text": "HTN", "code": "I10"}, "model": "rxassist", "prompt_version": "v",
        "recommendations": [
            {"drug": "lisinopril", "ingredients": ["lisinopril"], "rationale": "ACE inhibitor"}],
        "flags": [flag]}}}
    fake = FakeChatServer({"I10": "I recommend lisinopril."}, extra=extra).start()
    out = tmp_path / "run"
    try:
        assert run(cases_file, out, fake.base_url, "--target", "assistant",
                   model="rxassist") == 0
    finally:
        fake.stop()
    sent = fake.requests[0]
    assert len(sent["messages"]) == 1 and "response_format" not in sent
    text = sent["messages"][0]["content"]
    for line in ("Age: 50 years", "Sex: female", "Pregnant: unknown", "Weight: unknown",
                 "Allergies: unknown", "Current medications: unknown"):
        assert line in text
    m = metrics(out)
    assert m["output_rate"] == pytest.approx(2 / 4) and m["ingredient_accuracy"] == pytest.approx(1 / 2)
    records = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    first = next(r for r in records if r["id"] == "c1")
    assert first["output"][0]["ingredients"] == ["lisinopril"]
    assert first["flags"] == [flag]  # the guardrails' flags reach the per-case output


def test_frequency_baseline(tmp_path, cases_file):
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(json.dumps(c) for c in [
        case(10, "I10", "HTN", ["lisinopril"]), case(11, "I10", "HTN", ["lisinopril", "amlodipine"]),
        case(12, "I10", "HTN", ["losartan"]), case(13, "E11.9", "T2DM", ["metformin"])]) + "\n")
    out = tmp_path / "freq"
    assert main(["eval", "run", "--cases", str(cases_file), "--target", "frequency",
                 "--train-cases", str(train), "--top-k", "2", "--out", str(out),
                 "--no-progress"]) == 0
    records = {json.loads(line)["id"]: json.loads(line)
               for line in (out / "cases.jsonl").read_text().splitlines()}
    assert [d["drug"] for d in records["c1"]["output"]] == ["lisinopril", "amlodipine"]
    assert [d["drug"] for d in records["c2"]["output"]] == ["metformin"]   # via category E11
    assert records["c3"]["output"] is None
    m = metrics(out)
    assert m["model"] == "frequency-top2" and m["output_rate"] == pytest.approx(3 / 4)


def test_suite_runs_baseline_and_models_then_reports(tmp_path, cases_file, capsys):
    server = FakeChatServer(ANSWERS, models=("base", "fa-lora-r16/checkpoint-50")).start()
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps(case(10, "I10", "HTN", ["losartan"])) + "\n")
    out = tmp_path / "suite"
    argv = ["eval", "suite", "--cases", str(cases_file), "--base-url", server.base_url,
            "--model", "base", "--all-served", "--out", str(out),
            "--no-progress", "--train-cases", str(train)]
    try:
        assert main(argv) == 0
    finally:
        server.stop()
    printed = capsys.readouterr().out
    assert "| frequency-baseline | frequency-top3 | frequency baseline |" in printed
    assert "| fa-lora-r16_checkpoint-50 | fa-lora-r16/checkpoint-50 | fa-lora-r16 | 16 | 50 |" \
        in printed
    assert (out / "report.html").exists() and (out / "base" / "metrics.json").exists()
    assert len(server.requests) == 8


def test_raising_the_limit_extends_the_same_run(cases_file, server, tmp_path):
    out = tmp_path / "run"
    assert run(cases_file, out, server.base_url, "--limit", "1") == 0
    assert metrics(out)["n_cases"] == 1 and len(server.requests) == 1
    assert run(cases_file, out, server.base_url) == 0
    assert metrics(out)["n_cases"] == 4 and len(server.requests) == 4


def test_prior_target_ranks_the_shortlist_by_prior_without_a_model(cases_file, tmp_path):
    out = tmp_path / "prior"
    assert main(["eval", "run", "--cases", str(cases_file), "--target", "prior", "--top-k", "2",
                 "--out", str(out), "--no-progress"]) == 0
    records = {json.loads(line)["id"]: json.loads(line)
               for line in (out / "cases.jsonl").read_text().splitlines()}
    c2 = records["c2"]
    assert len(c2["output"]) == 2 and all(d["drug"] in c2["candidates"] for d in c2["output"])
    assert c2["output"][0]["drug"] == "metformin" and "training records" in c2["output"][0][
        "rationale"]
    m = metrics(out)
    assert m["model"] == "prior-top2" and m["outside_candidates"] == 0
    assert m["mean_recommended"] == pytest.approx(2)


def test_evidence_target_is_the_shortlist_in_evidence_order_without_a_model(cases_file,
                                                                          tmp_path):
    out = tmp_path / "evidence"
    assert main(["eval", "run", "--cases", str(cases_file), "--target", "evidence", "--top-k",
                 "2", "--out", str(out), "--no-progress"]) == 0
    records = {json.loads(line)["id"]: json.loads(line)
               for line in (out / "cases.jsonl").read_text().splitlines()}
    for record in records.values():
        if record["output"]:
            # The served answer when the model defers: the first candidates, in their order.
            assert [d["drug"] for d in record["output"]] == record["candidates"][:2]
    assert records["c2"]["output"][0]["drug"] == "metformin"
    assert "ADA Standards" in records["c2"]["output"][0]["rationale"]
    m = metrics(out)
    assert m["model"] == "evidence-top2" and m["outside_candidates"] == 0


def test_model_target_records_candidates_and_never_goes_outside(cases_file, tmp_path):
    # The fake model answers lisinopril for I10, metformin + empagliflozin for E11 and a name that
    # is no candidate for J45: that answer is rejected, never scored as a recommendation.
    answers = {**ANSWERS, "J45": json.dumps({"choices": ["albuterol", "Zorblaxin"]})}
    fake = FakeChatServer(answers).start()
    out = tmp_path / "run"
    try:
        assert run(cases_file, out, fake.base_url) == 0
    finally:
        fake.stop()
    sent = next(r for r in fake.requests if "(I10)" in r["messages"][1]["content"])
    names = sent["response_format"]["json_schema"]["schema"]["properties"]["choices"]["items"][
        "enum"]
    assert "lisinopril" in names and "- lisinopril:" in sent["messages"][1]["content"]
    m = metrics(out)
    assert m["outside_candidates"] == 0 and m["output_rate"] == pytest.approx(3 / 4)
    records = {json.loads(line)["id"]: json.loads(line)
               for line in (out / "cases.jsonl").read_text().splitlines()}
    assert records["c3"]["output"] is None and "albuterol" in records["c3"]["candidates"]


def test_outside_candidates_metric_counts_what_a_target_returned():
    from eval.metrics import compute_metrics, score_case
    from eval.records import RecommendedDrug, SolverRecord

    def rec(output, candidates):
        return SolverRecord(id="x", patient={}, diagnosis={"text": "d"}, drugs=["a"],
                            output=[RecommendedDrug(drug=d) for d in output],
                            candidates=candidates, usage={"prompt_tokens": 10,
                                                          "completion_tokens": 4})
    m = compute_metrics([score_case(rec(["a", "b"], ["a", "c"])), score_case(rec(["c"], ["c"]))])
    assert m["outside_candidates"] == pytest.approx(1 / 3)
    assert m["prompt_tokens_per_case"] == 10 and m["completion_tokens_per_case"] == 4
    assert compute_metrics([score_case(rec(["a"], None))])["outside_candidates"] is None


def test_model_run_fills_to_top_k_in_evidence_order(cases_file, server, tmp_path):
    """The default: the model's choices, then the next candidates in evidence order up to
    --top-k, as the assistant answers; never a name outside the candidates."""
    out = tmp_path / "filled"
    assert run(cases_file, out, server.base_url, "--top-k", "3", fill=True) == 0
    rows = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    answered = [r for r in rows if r.get("output")]
    assert answered and all(len(r["output"]) == min(3, len(r["candidates"])) for r in answered)
    for r in answered:
        names = [d["drug"] for d in r["output"]]
        assert set(names) <= set(r["candidates"]) and len(set(names)) == len(names)
    assert metrics(out)["outside_candidates"] == 0
