"""The shipped knowledge base, the rules file and the moiety reduction of the build."""

import gzip
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from guardrails import _build, _kb, _rules, _text

DATA = Path(__file__).resolve().parents[2] / "guardrails" / "data"


def test_shipped_files_are_small_and_versioned():
    for f in DATA.rglob("*"):
        if f.is_file():
            assert f.stat().st_size < 25_000_000, f
    kb = json.load(gzip.open(DATA / "kb.json.gz"))
    assert kb["format"] == _kb.KB_FORMAT and kb["sources"]["unii"]["sha256"]
    assert kb["counts"]["names"] > 50_000
    assert _rules.load().version


def test_every_rule_ingredient_is_in_the_kb():
    assert _rules.load().names_not_in_kb() == []


def test_classes_come_from_drugcentral_and_the_rules():
    members = _rules.load().class_members
    assert {"amoxicillin", "penicillin v", "dicloxacillin"} <= members["penicillins"]
    assert {"cephalexin", "cefdinir", "ceftriaxone"} <= members["cephalosporins"]
    assert {"lisinopril", "enalapril"} <= members["ace_inhibitors"]
    assert "furosemide" not in members["sulfonamide_antibiotics"]
    assert "acetaminophen" not in members["nsaids"]


def test_rules_reject_bad_values_naming_the_field(tmp_path):
    raw = json.loads((DATA / "rules.json").read_text())
    raw["fuzzy"]["min_score"] = 120
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps(raw))
    with pytest.raises(ValidationError, match="min_score"):
        _rules.load(bad)
    raw["fuzzy"]["min_score"] = 85
    raw["age"][0]["class"] = "no_such_class"
    bad.write_text(json.dumps(raw))
    with pytest.raises(ValidationError, match="no_such_class"):
        _rules.load(bad)


def _unii(tmp_path, rows):
    f = tmp_path / "UNII_Names.txt"
    f.write_text("Name\tTYPE\tUNII\tDisplay Name\n"
                 + "".join(f"{n}\t{t}\tX{i}\t{d}\n" for i, (n, t, d) in enumerate(rows)))
    return _build.read_unii(f)


def test_moiety_reduction(tmp_path):
    unii = _unii(tmp_path, [
        ("ATORVASTATIN CALCIUM TRIHYDRATE", "cn", "ATORVASTATIN CALCIUM TRIHYDRATE"),
        ("ATORVASTATIN", "of", "ATORVASTATIN"),
        ("VALPROATE", "sys", "VALPROIC ACID"), ("VALPROIC ACID", "of", "VALPROIC ACID"),
        ("VALPROATE SODIUM", "of", "VALPROATE SODIUM"),
        ("POTASSIUM CHLORIDE", "of", "POTASSIUM CHLORIDE"), ("POTASSIUM", "sys", "POTASSIUM"),
        ("ENALAPRILAT", "of", "ENALAPRILAT DIHYDRATE"),
        ("AZITHROMYCIN", "of", "AZITHROMYCIN, UNSPECIFIED FORM"),
        ("AZITHROMYCIN DIHYDRATE", "cn", "AZITHROMYCIN DIHYDRATE"),
        ("2,4-DICHLORO(PHENYL)", "sys", "SOMETHING"), ("ZITHROMAX", "bn", "AZITHROMYCIN DIHYDRATE"),
    ])
    assert "2 4 dichloro phenyl" not in unii.displays  # systematic chemistry is skipped
    r = _build.MoietyReducer(unii, {})
    k = _text.key
    assert r.reduce(k("ATORVASTATIN CALCIUM TRIHYDRATE")) == "atorvastatin"
    assert r.reduce(k("VALPROATE SODIUM")) == "valproic acid"
    assert r.reduce(k("POTASSIUM CHLORIDE")) == "potassium chloride"
    assert r.reduce(k("ENALAPRILAT DIHYDRATE")) == "enalaprilat"
    assert r.reduce(k("AZITHROMYCIN DIHYDRATE")) == "azithromycin"
    assert k("AZITHROMYCIN DIHYDRATE") in unii.branded_displays


def test_read_unii_rejects_other_files(tmp_path):
    f = tmp_path / "x.txt"
    f.write_text("a\tb\n")
    with pytest.raises(ValueError, match="not a UNII Names file"):
        _build.read_unii(f)


def test_strip_dose_form():
    s = _text.strip_dose_form
    assert s("Acetaminophen 325 MG / Oxycodone Hydrochloride 10 MG Oral Tablet [Percocet]") \
        == "acetaminophen / oxycodone hydrochloride"
    assert s("NDA020800 0.3 ML Epinephrine 1 MG/ML Auto-Injector") == "epinephrine"
    assert s("Morphine Sulfate (Syringe)") == "morphine sulfate"


def test_calibration_runs_and_never_chooses_a_setting_with_wrong_drugs():
    from guardrails import _calibrate

    out = _calibrate.run(n=60, seed=1, log=lambda *_: None)
    assert out["n_pos"] == 60 and out["n_neg"] > 500
    for label in ("generic", "brand"):
        chosen = out[label]["chosen"]
        assert chosen is None or chosen["wrong"] <= 0.002 * max(1, chosen["n"])
