"""Every drug name of the project's data (NHANES 2013-2014, Synthea sample) resolves, except
NHANES' unspecified class codes, which must stay unknown."""

import re
from pathlib import Path

import pytest

from guardrails import normalize

SOURCES = Path(__file__).resolve().parents[2] / "guardrails" / "data" / "sources"
UNSPECIFIED = re.compile(r"UNSPECIFIED|^EMOLLIENTS")


def _names(f):
    return [ln.strip() for ln in (SOURCES / f).read_text().splitlines() if ln.strip()]


@pytest.mark.parametrize("f", ["nhanes_2013_2014_drug_names.txt",
                               "synthea_sample_drug_names.txt"])
def test_every_source_drug_name_resolves(f):
    names = _names(f)
    unknown = [n for n in names if not normalize(n).known]
    assert unknown == [n for n in names if UNSPECIFIED.search(n)]


def test_nhanes_combinations_keep_every_part():
    for n in _names("nhanes_2013_2014_drug_names.txt"):
        if ";" in n and not UNSPECIFIED.search(n):
            parts = [normalize(p).ingredients for p in n.split(";")]
            assert all(parts), n
            # "INSULIN LISPRO; INSULIN LISPRO PROTAMINE" is one moiety twice: a set, not a count.
            assert normalize(n).ingredients == sorted({i for p in parts for i in p}), n
