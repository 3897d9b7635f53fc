"""The labelled test set (guardrails/data/labelled_*.jsonl): safety categories must be exact,
the others are measured (the accuracy is reported in guardrails/README.md)."""

import pytest

from guardrails import _labelled

NAME_ROWS = _labelled.read(_labelled.NAMES_PATH)
CHECK_ROWS = _labelled.read(_labelled.CHECKS_PATH)
MUST_BE_EXACT = {"lookalike", "lookalike_between", "unknown", "generic", "salt", "combination",
                 "international"}


@pytest.mark.parametrize("row", [r for r in NAME_ROWS if r["category"] in MUST_BE_EXACT],
                         ids=lambda r: f"{r['category']}:{r['input']}")
def test_safety_critical_name_rows(row):
    assert _labelled.score_row(row) is None


@pytest.mark.parametrize("row", CHECK_ROWS, ids=lambda r: f"{r['category']}:{'+'.join(r['drugs'])}")
def test_check_rows(row):
    assert _labelled.score_row(row) is None


def test_overall_accuracy_floor():
    report = _labelled.evaluate()
    assert report["total"] >= 290
    assert report["accuracy"] >= 0.97, _labelled.format_report(report)
    assert report["per_category"]["name:lookalike"][0] == report["per_category"]["name:lookalike"][1]
