"""eval/reader_scores.py: field-level precision/recall of consultation readers (pure)."""

from __future__ import annotations

import json

from eval.reader_scores import ReaderOutput, read_cases, score, table


def key(field, item):
    return frozenset({item.casefold().split()[0]})


def same_dx(read, gold):
    return (read.get("diagnosis") or "").casefold() == (gold.get("diagnosis") or "").casefold()


def write(tmp_path, rows):
    p = tmp_path / "set.jsonl"
    p.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return p


def test_cases_read_gold_or_case_file_shape_and_report_bad_lines(tmp_path):
    p = write(tmp_path, [
        {"id": "a", "split": "test", "text": "x", "gold": {"age": 3}},
        {"id": "b", "split": "dev", "turns": ["y", "z"],
         "patient": {"sex": "male"}, "diagnosis": {"text": "gout", "code": "M10.9"}},
        "{not json", {"id": "c"}])
    cases, problems = read_cases(p)
    assert [c.id for c in cases] == ["a", "b"] and len(problems) == 2
    assert problems[0].startswith("line 3") and problems[1].startswith("line 4")
    assert cases[1].gold == {"sex": "male", "diagnosis": "gout", "diagnosis_code": "M10.9"}
    assert [c.id for c in read_cases(p, "test")[0]] == ["a"]


def test_precision_recall_invented_and_blocked(tmp_path):
    p = write(tmp_path, [
        {"id": "1", "text": ".", "gold": {"age": 40, "sex": "male", "allergies": ["penicillin"],
                                          "current_medications": ["metformin 500 mg"],
                                          "diagnosis": "gout"}},
        {"id": "2", "text": ".", "lang": "ko",
         "gold": {"age": 67, "allergies": [], "current_medications": [], "diagnosis": "hypertension"}}])
    cases, _ = read_cases(p)
    outputs = {
        "1": ReaderOutput({"age": 40.0, "sex": "female", "allergies": ["penicillin"],
                           "current_medications": ["metformin", "aspirin"],
                           "diagnosis": "Gout"}, latency_s=0.2),
        "2": ReaderOutput({"weight_kg": 70, "diagnosis": "fever"}, missing=["age"],
                          latency_s=0.4)}
    r = score(cases, outputs, same_diagnosis=same_dx, item_key=key)
    f = r["fields"]
    assert f["age"] == {"precision": 1.0, "recall": 0.5, "tp": 1, "predicted": 1, "gold": 2,
                        "invented": 0}
    assert f["sex"]["precision"] == 0.0 and f["sex"]["recall"] == 0.0
    # No case of this file annotates a weight: a weight read is not counted either way.
    assert f["weight_kg"]["precision"] is None and f["weight_kg"]["recall"] is None
    assert f["current_medications"]["recall"] == 1.0
    assert f["current_medications"]["precision"] == 0.5
    assert f["current_medications"]["invented"] == 1
    assert f["allergies"]["recall"] == 1.0
    assert r["diagnosis_correct"] == 0.5 and r["blocked"] == 1
    assert r["all_fields_correct"] == {"en": 0.0, "ko": 0.0}
    assert r["latency_s"]["median"] == 0.3
    assert "| x | 1.00/0.50 |" in table({"x": r})


def test_a_value_read_where_the_file_annotates_that_field_elsewhere_is_wrong(tmp_path):
    p = write(tmp_path, [
        {"id": "1", "text": ".", "gold": {"weight_kg": 20, "diagnosis": "otitis"}},
        {"id": "2", "text": ".", "gold": {"diagnosis": "gout"}}])
    cases, _ = read_cases(p)
    outputs = {"1": ReaderOutput({"weight_kg": 20.0, "diagnosis": "otitis"}, latency_s=0.1),
               "2": ReaderOutput({"weight_kg": 70.0, "diagnosis": "gout"}, latency_s=0.1)}
    f = score(cases, outputs, same_diagnosis=same_dx, item_key=key)["fields"]
    assert f["weight_kg"]["precision"] == 0.5 and f["weight_kg"]["recall"] == 1.0


def test_a_phrasing_files_coded_diagnosis_is_compared_as_text_and_code(tmp_path):
    p = write(tmp_path, [{"id": "1", "text": ".", "gold": {
        "diagnosis": {"text": "gout", "code": "M10.9", "system": "ICD-10-CM"}}}])
    cases, _ = read_cases(p)
    assert cases[0].gold["diagnosis"] == "gout" and cases[0].gold["diagnosis_code"] == "M10.9"


def test_one_combination_product_finds_each_of_its_gold_ingredients(tmp_path):
    p = write(tmp_path, [{"id": "1", "text": ".", "gold": {
        "current_medications": ["budesonide", "formoterol"], "diagnosis": "asthma"}}])
    cases, _ = read_cases(p)
    outputs = {"1": ReaderOutput({"current_medications": ["budesonide/formoterol inhaler"],
                                  "diagnosis": "asthma"}, latency_s=0.1)}
    combo = {"budesonide/formoterol inhaler": {"budesonide", "formoterol"}}
    f = score(cases, outputs, same_diagnosis=same_dx,
              item_key=lambda _f, x: frozenset(combo.get(x, {x})))["fields"]
    assert f["current_medications"]["recall"] == 1.0
    assert f["current_medications"]["precision"] == 1.0
