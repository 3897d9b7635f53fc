"""`rxassist data build`: NHANES / Synthea / JSONL -> split case files
(docs/formats.md#case-files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rxassist.cases import read_cases
from rxassist.cli import main
from rxassist.paths import SHIPPED_DATA_DIR

from casedata.nhanes import build_nhanes_cases
from casedata.splits import PatientCase, fixed_subset, split_cases, split_of
from casedata.synthea import build_synthea_cases

MEDS = """SEQN,RXDUSE,RXDDRUG,RXDDRGID,RXQSEEN,RXDDAYS,RXDRSC1,RXDRSC2,RXDRSC3,RXDRSD1,RXDRSD2,RXDRSD3,RXDCOUNT
1,1,LISINOPRIL,d1,1,365,I10,,,Essential (primary) hypertension,,,4
1,1,AMLODIPINE,d2,1,365,I10,I50.9,,Essential (primary) hypertension,Heart failure,,4
1,1,99999,,,,I10,,,Essential (primary) hypertension,,,4
1,1,METFORMIN,d3,1,365,99999,,,,,,4
2,2,,,,,,,,,,,0
3,1,ACETAMINOPHEN;  HYDROCODONE,d4,1,10,M54.9,,,Dorsalgia,,,1
4,1,ALBUTEROL,d5,1,30,J45,,,Asthma,,,1
"""
DEMO = """SEQN,RIAGENDR,RIDAGEYR,RIDAGEMN,RIDEXPRG
1,1,80,,
2,2,30,,1
3,2,31,,1
4,1,1,18,
"""


@pytest.fixture
def nhanes_dir(tmp_path: Path) -> Path:
    d = tmp_path / "nhanes"
    d.mkdir()
    (d / "medications.csv").write_text(MEDS)
    (d / "demographic.csv").write_text(DEMO)
    return d


def test_nhanes_groups_by_participant_and_reason(nhanes_dir):
    items = build_nhanes_cases(nhanes_dir)
    cases = {c.id: c for _, c in items}
    assert sorted(cases) == ["nhanes-2013-2014-1-I10", "nhanes-2013-2014-1-I50.9",
                             "nhanes-2013-2014-3-M54.9", "nhanes-2013-2014-4-J45"]
    htn = cases["nhanes-2013-2014-1-I10"]
    assert htn.drugs == ["amlodipine", "lisinopril"]          # 99999 drug dropped
    assert htn.patient.current_medications == ["metformin"]    # taken for an unknown reason
    assert htn.patient.sex == "male" and htn.patient.age == 80 and htn.patient.pregnant is None
    assert htn.patient.allergies is None                       # unknown in NHANES, not "none"
    assert htn.diagnosis.text == "Essential (primary) hypertension"
    assert htn.diagnosis.system == "ICD-10-CM"
    hf = cases["nhanes-2013-2014-1-I50.9"]
    assert hf.drugs == ["amlodipine"] and hf.patient.current_medications == ["lisinopril", "metformin"]
    pain = cases["nhanes-2013-2014-3-M54.9"]
    assert pain.drugs == ["acetaminophen; hydrocodone"] and pain.patient.pregnant is True
    child = cases["nhanes-2013-2014-4-J45"]
    assert child.patient.age == 1.5                            # RIDAGEMN 18 months
    assert {k for k, _ in items} == {"1", "3", "4"}


def test_splits_keep_each_patient_in_one_split_and_are_deterministic(nhanes_dir):
    items = build_nhanes_cases(nhanes_dir)
    many = [PatientCase(str(i // 2), c.model_copy(update={"id": f"case-{i}"}))
            for i in range(600) for _, c in items[:1]]
    a, b = split_cases(many), split_cases(list(reversed(many)))
    assert {k: sorted(c.id for c in v) for k, v in a.items()} == \
        {k: sorted(c.id for c in v) for k, v in b.items()}
    seen = {}
    for key, _ in many:
        seen.setdefault(key, set()).add(split_of(key))
    assert all(len(s) == 1 for s in seen.values())
    sizes = {k: len(v) for k, v in a.items()}
    assert 400 < sizes["train"] < 560 and sizes["val"] > 20 and sizes["test"] > 20
    with pytest.raises(ValueError, match="fractions"):
        split_of("1", fractions=(0.5, 0.5))


def test_fixed_subset_is_stable(nhanes_dir):
    cases = [c for _, c in build_nhanes_cases(nhanes_dir)]
    assert {c.id for c in fixed_subset(cases, 2)} == {c.id for c in fixed_subset(cases[::-1], 2)}
    assert len(fixed_subset(cases, 10)) == len(cases)


def test_synthea_cases(tmp_path):
    d = tmp_path / "synthea"
    d.mkdir()
    (d / "patients.csv").write_text("Id,BIRTHDATE,GENDER\np1,1980-01-01,F\np2,2015-06-01,M\n")
    (d / "medications.csv").write_text(
        "START,STOP,PATIENT,DESCRIPTION,REASONCODE,REASONDESCRIPTION\n"
        "2020-01-01T00:00:00Z,,p1,lisinopril 10 MG Oral Tablet,59621000,Essential hypertension (disorder)\n"
        "2019-06-01T00:00:00Z,2019-06-10T00:00:00Z,p1,Amoxicillin 500 MG Oral Tablet,,\n"
        "2019-12-01T00:00:00Z,,p1,Simvastatin 10 MG Oral Tablet,,\n"
        "2021-01-01T00:00:00Z,,p2,albuterol 0.83 MG/ML Inhalation Solution,233678006,Childhood asthma\n")
    (d / "conditions.csv").write_text("START,STOP,PATIENT,DESCRIPTION\n"
                                      "2019-10-01,2020-06-01,p1,Normal pregnancy\n")
    (d / "allergies.csv").write_text("START,STOP,PATIENT,DESCRIPTION\n"
                                     "2010-01-01,,p1,Penicillin V (substance)\n")
    cases = {c.id: c for _, c in build_synthea_cases(d)}
    htn = cases["synthea-sample-p1-59621000"]
    assert htn.diagnosis.text == "Essential hypertension" and htn.diagnosis.system == "SNOMED-CT"
    assert htn.patient.pregnant is True and htn.patient.allergies == ["Penicillin V"]
    assert htn.patient.current_medications == ["Simvastatin 10 MG Oral Tablet"]
    assert htn.patient.age == pytest.approx(40.0, abs=0.01)
    kid = cases["synthea-sample-p2-233678006"]
    assert kid.patient.sex == "male" and kid.patient.pregnant is False
    assert kid.patient.allergies == []


def test_cli_build_writes_valid_split_files_and_card(nhanes_dir, tmp_path, capsys):
    out = tmp_path / "cases"
    assert main(["data", "build", "--nhanes-dir", str(nhanes_dir), "--out", str(out),
                 "--test-subset", "1"]) == 0
    printed = capsys.readouterr().out
    assert "# Data card" in printed and "| I10 | Essential (primary) hypertension |" in printed
    assert "unknown_reason_codes=1" in printed and "rows_unknown_drug=1" in printed
    ids = []
    for split in ("train", "val", "test"):
        f = read_cases(out / f"nhanes-2013-2014-{split}.jsonl")
        assert f.errors == []
        ids += [c.id for c in f.cases]
    assert len(ids) == len(set(ids)) == 4
    assert (out / "DATACARD.md").read_text().startswith("# Data card")


def test_cli_bad_input_exits_2(tmp_path, capsys):
    assert main(["data", "build", "--nhanes-dir", str(tmp_path / "missing"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "medications.csv").write_text("SEQN,RXDDRUG\n1,X\n")
    (bad / "demographic.csv").write_text(DEMO)
    assert main(["data", "build", "--nhanes-dir", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "missing column(s) RXDRSC1" in capsys.readouterr().err
    assert main(["data", "build", "--cases", str(tmp_path / "none.jsonl"),
                 "--out", str(tmp_path / "o")]) == 2


def test_cli_case_jsonl_reports_malformed_line_and_keeps_the_rest(tmp_path, capsys):
    src = tmp_path / "mine.jsonl"
    good = {"id": "a", "diagnosis": {"text": "Asthma"}, "drugs": ["albuterol"],
            "patient_id": "p1"}
    src.write_text(json.dumps(good) + "\n{not json\n"
                   + json.dumps({**good, "id": "b"}) + "\n" + json.dumps({"id": "c"}) + "\n")
    assert main(["data", "build", "--cases", str(src), "--out", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "line 2: not valid JSON" in out and "line 4:" in out
    n = sum(len(read_cases(tmp_path / "o" / f"mine-{s}.jsonl").cases)
            for s in ("train", "val", "test"))
    assert n == 2
    # both cases of patient p1 land in the same split
    assert any(len(read_cases(tmp_path / "o" / f"mine-{s}.jsonl").cases) == 2
               for s in ("train", "val", "test"))


SHIPPED = SHIPPED_DATA_DIR / "cases"


@pytest.mark.skipif(not (SHIPPED / "nhanes-2013-2014-test.jsonl").exists(),
                    reason="shipped case files not built")
def test_shipped_cases_are_valid_and_split_by_patient():
    patients = {}
    for split in ("train", "val", "test"):
        f = read_cases(SHIPPED / f"nhanes-2013-2014-{split}.jsonl")
        assert f.errors == [] and len(f.cases) > 500
        for c in f.cases:
            seqn = c.id.removeprefix("nhanes-2013-2014-").split("-")[0]
            patients.setdefault(seqn, set()).add(split)
    assert all(len(s) == 1 for s in patients.values())
    subset = read_cases(SHIPPED / "nhanes-2013-2014-test-200.jsonl").cases
    test_ids = {c.id for c in read_cases(SHIPPED / "nhanes-2013-2014-test.jsonl").cases}
    assert len(subset) == 200 and {c.id for c in subset} <= test_ids
