"""Federated options and the site split: fast, no Flower run."""

from __future__ import annotations

import pytest

from finetune.fed_config import FederatedConfig
from finetune.partition import age_band, chapter_of, dirichlet_split
from rxassist.cases import Case
from rxassist.errors import ConfigError

from .conftest import CASES, write_cases


def cases(n: int) -> list[Case]:
    codes = ["I10", "E11.9", "J45", "F32.9", "M54.5"]
    return [Case.model_validate({"id": f"c{i}", "patient": {"age": 10 + 7 * (i % 11)},
                                 "diagnosis": {"text": "x", "code": codes[i % 5]},
                                 "drugs": ["metformin"]}) for i in range(n)]


def test_chapters_and_age_bands():
    assert chapter_of("E11.9") == "04-endocrine-metabolic" and chapter_of("I10") == "09-circulatory"
    assert chapter_of("H66.9") == "08-ear" and chapter_of("D50.0") == "03-blood-immune"
    assert chapter_of(None) == "other" and chapter_of("250.00") == "other"
    assert [age_band(a) for a in (0.5, 30, 50, 80, None)] == ["0-17", "18-44", "45-64", "65+",
                                                               "unknown"]


def test_dirichlet_split_is_a_seeded_partition_and_skewed_at_low_alpha():
    cs = cases(500)
    sites = dirichlet_split(cs, 3, alpha=0.1, seed=1)
    ids = [c.id for s in sites for c in s.cases]
    assert sorted(ids) == sorted(c.id for c in cs)  # every case exactly once
    assert [s.name for s in sites] == ["hospital-1", "hospital-2", "hospital-3"]
    assert dirichlet_split(cs, 3, alpha=0.1, seed=1) == sites  # reproducible
    # at alpha 0.1 some chapter is concentrated at one site; at alpha 1000 none is
    chapters = ("09-circulatory", "04-endocrine-metabolic", "10-respiratory", "05-mental",
                "13-musculoskeletal")  # 100 cases each

    def top_share(ss) -> float:  # mean over chapters of the largest site's share
        return sum(max(s.group_counts("chapter").get(g, 0) for s in ss) / 100
                   for g in chapters) / len(chapters)
    assert top_share(sites) > 0.7
    assert top_share(dirichlet_split(cs, 3, alpha=1000.0, seed=1)) < 0.4


@pytest.mark.parametrize("bad, message", [
    ({"sites": 0}, "--sites"), ({"noise_multiplier": -0.5}, "--noise-multiplier"),
    ({"local_steps": 0}, "--local-steps"), ({"rank": 7}, "--rank"),
    ({"site_files": ["synthea"]}, "--site-files"), ({"clipping_norm": 0}, "--clipping-norm"),
])
def test_bad_options_name_the_option(tmp_path, bad, message):
    opts = dict(cases=tmp_path / "c.jsonl", out=tmp_path / "o", sites=2, local_steps=1) | bad
    with pytest.raises(ConfigError) as e:
        FederatedConfig.build(**opts)
    assert message in str(e.value) and e.value.exit_code == 2


def test_more_sites_than_cases_is_refused_before_any_training(tmp_path):
    from finetune.federated import build_sites

    cfg = FederatedConfig.build(cases=write_cases(tmp_path / "c.jsonl"), out=tmp_path / "o",
                                sites=len(CASES) + 1, local_steps=1)
    with pytest.raises(ConfigError, match="more than the 5 cases"):
        build_sites(cfg)


@pytest.mark.parametrize("argv, message", [
    (["--sites", "0"], "--sites"), (["--sites", "2", "--noise-multiplier", "-1"],
                                    "--noise-multiplier"),
    (["--sites", "9"], "more than the 5 cases"),
])
def test_cli_bad_options_exit_2(tmp_path, capsys, argv, message):
    from rxassist.cli import main

    cases_file = write_cases(tmp_path / "c.jsonl")
    rc = main(["finetune", "federated", "--cases", str(cases_file), "--out",
               str(tmp_path / "o"), "--local-steps", "1", *argv])
    assert rc == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
