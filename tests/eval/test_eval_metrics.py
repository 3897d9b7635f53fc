"""Metrics (docs/formats.md#evaluation-run) on hand-computed examples, and judge verdict parsing."""

from __future__ import annotations

import pytest

from rxassist.cases import Diagnosis, Patient

from eval.judges import judge_user_message, load_prompt, parse_verdicts
from eval.metrics import METRICS, compute_metrics, get_metric, score_case
from eval.records import JudgeRecord, RecommendedDrug, SolverRecord, Verdict

CONTRACT_KEYS = {"n_cases", "output_rate", "accuracy", "ingredient_accuracy", "recall",
                 "jaccard", "f1", "appropriateness", "duplicate_rate"}


def rec(id_, prescribed, recommended, code="I10"):
    return SolverRecord(id=id_, patient=Patient(), diagnosis=Diagnosis(text="dx", code=code),
                        drugs=prescribed,
                        output=[RecommendedDrug(drug=d) for d in recommended] or None)


@pytest.fixture
def records():
    return [
        rec("a", ["lisinopril", "amlodipine"], ["lisinopril", "losartan"]),
        rec("b", ["acetaminophen; hydrocodone"], ["acetaminophen", "Tylenol"]),
        rec("c", ["metformin"], []),
        rec("d", ["metformin"], ["zzqxoprilum"]),
    ]


def test_metrics_hand_computed(records):
    m = compute_metrics([score_case(r) for r in records])
    assert CONTRACT_KEYS <= set(m)
    assert m["n_cases"] == 4 and m["n_with_output"] == 3
    assert m["output_rate"] == pytest.approx(3 / 4)
    # 5 drugs recommended: lisinopril matches by name; acetaminophen and Tylenol match the
    # combination only by ingredient; losartan and the made-up name match nothing.
    assert m["accuracy"] == pytest.approx(1 / 5)
    assert m["ingredient_accuracy"] == pytest.approx(3 / 5)
    # per case (a, b, c, d): recall .5, .5, 0, 0; jaccard 1/3, 1/2, 0, 0; f1 .5, 2/3, 0, 0
    assert m["recall"] == pytest.approx(0.25)
    assert m["jaccard"] == pytest.approx((1 / 3 + 1 / 2) / 4)
    assert m["f1"] == pytest.approx((1 / 2 + 2 / 3) / 4)
    # case b recommends acetaminophen twice (generic + brand)
    assert m["duplicate_rate"] == pytest.approx(1 / 3)
    assert m["appropriateness"] is None and m["reference_appropriateness"] is None


def test_unresolved_names_match_only_themselves():
    s = score_case(rec("x", ["Zzqx  Drug"], ["zzqx drug", "yyqx drug"]))
    assert s.name_matches == 1 and s.ingredient_matches == 1


def test_appropriateness_counts_only_scored_verdicts(records):
    judge = JudgeRecord(id="a", judge="llm:j", prompt_version="v", verdicts=[
        Verdict(drug="lisinopril", appropriate=True), Verdict(drug="losartan", appropriate=None)])
    judge_b = JudgeRecord(id="b", judge="llm:j", prompt_version="v", unparseable=True, verdicts=[
        Verdict(drug="acetaminophen", appropriate=None), Verdict(drug="Tylenol", appropriate=None)])
    scores = [score_case(records[0], judge), score_case(records[1], judge_b)]
    m = compute_metrics(scores)
    assert m["appropriateness"] == 1.0
    assert m["judge_n_scored"] == 1 and m["judge_n_unscored"] == 3
    assert m["judge_n_unparseable_cases"] == 1


def test_metric_registry_fails_loudly():
    assert "accuracy" in METRICS
    with pytest.raises(KeyError, match="unknown metric 'acuracy'"):
        get_metric("acuracy")


def test_parse_verdicts_garbage_is_unscored_and_flagged():
    verdicts, unparseable = parse_verdicts("I think they are all fine!", ["a", "b"])
    assert unparseable and [v.appropriate for v in verdicts] == [None, None]
    verdicts, unparseable = parse_verdicts('{"verdicts": "yes"}', ["a"])
    assert unparseable and verdicts[0].appropriate is None
    verdicts, unparseable = parse_verdicts(None, ["a"])
    assert unparseable


def test_parse_verdicts_by_name_index_and_unusable_values():
    text = ('Sure: {"verdicts": [{"index": 2, "drug": "Losartan", "verdict": "inappropriate", '
            '"reason": "r2"}, {"index": 1, "drug": "lisinopril", "verdict": "APPROPRIATE", '
            '"reason": "r1"}, {"index": 3, "drug": "x", "verdict": "maybe"}]}')
    verdicts, unparseable = parse_verdicts(text, ["lisinopril", "losartan", "third", "fourth"])
    assert not unparseable
    assert [v.appropriate for v in verdicts] == [True, False, None, None]
    assert verdicts[0].reason == "r1" and verdicts[3].reason == "no verdict for this drug"


def test_judge_prompt_is_versioned_and_message_lists_drugs():
    text, version = load_prompt(None)
    assert "verdicts" in text and version.startswith("judge-v1@")
    msg = judge_user_message(rec("a", ["x"], ["lisinopril", "losartan"]))
    assert "Allergies: unknown" in msg and "1. lisinopril\n2. losartan" in msg
