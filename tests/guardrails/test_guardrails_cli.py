"""`rxassist guardrails ...` run for real in a subprocess (docs/formats.md#guardrails-check)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "rxassist"
BASE = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "rxassist.cli"]


def run(args, stdin=""):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([*BASE, "guardrails", *args], input=stdin, capture_output=True,
                          text=True, cwd=REPO, env=env, timeout=120)


def test_check_contract_example():
    inp = {"drugs": ["Tylenol", "Percocet", "amoxicilin"],
           "patient": {"age": 30, "sex": "female", "pregnant": True,
                       "allergies": ["penicillin"]}}
    p = run(["check"], json.dumps(inp))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["drugs"][0] == {"input": "Tylenol", "status": "brand", "name": "acetaminophen",
                               "ingredients": ["acetaminophen"], "score": 100.0}
    assert out["drugs"][2]["status"] == "fuzzy" and out["drugs"][2]["score"] == 95.2
    kinds = {(f["kind"], f["severity"], f["ingredient"]) for f in out["flags"]}
    assert ("duplicate_ingredient", "warning", "acetaminophen") in kinds
    assert ("allergy", "critical", "amoxicillin") in kinds


def test_check_unknown_drug():
    p = run(["check"], '{"drugs": ["xyzzyplex"]}')
    assert p.returncode == 0
    out = json.loads(p.stdout)
    assert out["drugs"][0]["status"] == "unknown" and out["drugs"][0]["name"] is None
    assert out["flags"][0]["kind"] == "unknown_drug"


@pytest.mark.parametrize("stdin,word", [
    ("not json", "JSON"), ("", "JSON"), ("[1, 2]", "object"), ('{"drugs": "Tylenol"}', "drugs"),
    ('{"drugs": [1]}', "drugs"), ('{"patient": {}}', "drugs"),
    ('{"drugs": ["Tylenol"], "patient": {"age": "old"}}', "patient.age"),
    ('{"drugs": ["Tylenol"], "patient": "x"}', "patient"),
    ("[" * 100_000 + "]" * 100_000, "nested"),
    ('{"drugs": ["\\ud800"]}', "surrogate"),
    ('{"drugs": ["Tylenol"], "patient": {"allergies": ["\\udfff"]}}', "surrogate"),
    (" " * 1_000_001, "larger"),
    ('{"drugs": ["x"' + ', "x"' * 100 + "]}", "at most"),
])
def test_check_bad_input_exit_2_and_json_error_on_stderr(stdin, word):
    p = run(["check"], stdin)
    assert p.returncode == 2 and p.stdout == ""
    err = json.loads(p.stderr)
    assert set(err) == {"error"} and word in err["error"]


def test_normalize_readable_and_json():
    p = run(["normalize", "Tylenol", "hydrolazine"])
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0] == "Tylenol -> acetaminophen  (brand name)"
    assert lines[1].startswith("hydrolazine -> UNKNOWN")
    p = run(["normalize", "--json", "amoxicilin"])
    assert json.loads(p.stdout) == {"input": "amoxicilin", "status": "fuzzy",
                                    "name": "amoxicillin", "ingredients": ["amoxicillin"],
                                    "score": 95.2}


def test_guardrails_never_imports_torch_or_vllm():
    code = ("import sys, guardrails; guardrails.check(['Tylenol', 'amoxicilin']); "
            "print(sorted(m for m in ('torch', 'vllm', 'transformers') if m in sys.modules))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_build_kb_bad_unii_path_is_a_clear_error(tmp_path):
    p = run(["build-kb", "--unii", str(tmp_path / "missing.txt"), "--out", str(tmp_path / "kb")])
    assert p.returncode == 2 and "no such file" in p.stderr
    bad = tmp_path / "UNII_Names.txt"
    bad.write_text("not\ta unii file\n")
    p = run(["build-kb", "--unii", str(bad), "--out", str(tmp_path / "kb.json.gz")])
    assert p.returncode == 2 and "not a UNII Names file" in p.stderr
    assert not (tmp_path / "kb.json.gz").exists()


def test_evaluate_prints_the_accuracy_table():
    p = run(["evaluate"])
    assert p.returncode == 0
    assert "name:lookalike " in p.stdout and "ALL" in p.stdout


@pytest.mark.parametrize("inp", [
    {"drugs": ["warfarin", "aspirin"]},
    {"drugs": ["simvastatin", "clarithromycin"]},
    {"drugs": ["sildenafil"], "patient": {"current_medications": ["nitroglycerin"]}},
])
def test_check_readme_interaction_examples(inp):
    p = run(["check"], json.dumps(inp))
    assert p.returncode == 0, p.stderr
    (f,) = [f for f in json.loads(p.stdout)["flags"] if f["kind"] == "interaction"]
    assert f["severity"] == "critical" and "ANSM" in f["basis"]
    assert f["drugs"] == inp["drugs"] + inp.get("patient", {}).get("current_medications", [])
