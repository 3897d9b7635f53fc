"""`rxassist candidates show|build` through the real CLI entry point."""

from __future__ import annotations

import json

from rxassist.cli import main


def test_show_json(capsys):
    assert main(["candidates", "show", "acute otitis media", "--json", "--limit", "3"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["candidates"][0]["name"] == "amoxicillin"
    assert out["candidates"][0]["evidence_text"]
    assert out["match"]["concepts"][0]["name"] == "acute otitis media"


def test_show_text(capsys):
    assert main(["candidates", "show", "hypertension", "--code", "I10", "--limit", "2"]) == 0
    out = capsys.readouterr().out
    assert "priors from: I10 (code" in out and " 1. " in out


def test_show_unknown(capsys):
    assert main(["candidates", "show", "xyzzy"]) == 0
    assert "no candidates" in capsys.readouterr().out


def test_bad_input_exit_2(capsys):
    assert main(["candidates", "show", "  "]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["candidates", "show", "asthma", "--limit", "0"]) == 2


def test_build_check(capsys):
    assert main(["candidates", "build", "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_build_to_other_file(tmp_path, capsys):
    out = tmp_path / "i.json.gz"
    assert main(["candidates", "build", "--out", str(out)]) == 0
    from recommend.candidates import _build
    assert out.read_bytes() == _build.INDEX_PATH.read_bytes()


def test_show_prints_the_advice_where_no_drug_is_offered(capsys):
    assert main(["candidates", "show", "Edema, unspecified", "--code", "R60.9"]) == 0
    out = capsys.readouterr().out
    assert "no drug is offered" in out and "Trayes KP et al., Edema" in out
