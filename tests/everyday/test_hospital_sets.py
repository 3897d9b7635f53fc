"""The hospital consultation set and the must-abstain set load, are well formed and their
expectations are real; and the candidate index meets them (top 3, no must-not-offer drug at any
rank, every must-abstain text abstains)."""

from __future__ import annotations

import pytest

import guardrails
from eval.everyday import HOSPITAL_FILE, Consultation, ingredient_key, read_consultations
from eval.everyday.abstain import read_abstain_cases
from rxassist.cases import Diagnosis
from recommend.shortlist import shortlist


@pytest.fixture(scope="module")
def cases() -> list[Consultation]:
    return read_consultations(HOSPITAL_FILE)


def _critical(c: Consultation, drug: str) -> bool:
    r = guardrails.check([drug], c.patient.model_dump())
    return bool(r.critical) or bool(ingredient_key(drug) & c.current_ingredients())


def test_size_citations_and_contract(cases):
    assert len(cases) >= 60 and all(c.setting == "hospital" for c in cases)
    assert len({c.diagnosis.text.lower() for c in cases}) >= 40
    for c in cases:
        assert c.drugs == c.accepted and c.guideline and "(" in c.guideline
        assert not {ingredient_key(a) for a in c.accepted} & \
            {ingredient_key(m) for m in c.must_not_offer}, c.id
        for d in c.must_not_first:
            assert _critical(c, d), (c.id, d)
        for d in c.accepted:
            assert not _critical(c, d), (c.id, d)


def test_the_index_meets_the_hospital_set(cases):
    """What the assistant may offer (the shortlist: index, setting read from the message,
    guardrails): an accepted choice in the top 3 in >= 90% of cases, no must-not-offer drug
    in the top 3."""
    from assistant.setting import read_setting

    hits, wrong = 0, []
    for c in cases:
        sl = shortlist(c.patient, Diagnosis(text=c.diagnosis.text), offer=None,
                       setting=read_setting([c.message]))
        top = [x for x in sl.offered if not set(x.ingredients) & c.current_ingredients()][:3]
        hits += any(c.accepts(x.ingredients) for x in top)
        wrong += [(c.id, m) for x in top for m in c.must_not_offer_hits(x.ingredients)]
    assert hits >= 0.9 * len(cases) and wrong == []


def test_every_must_abstain_text_abstains():
    abstain = read_abstain_cases()
    assert len(abstain) >= 20 and all(a.reason and a.citation for a in abstain)
    for a in abstain:
        sl = shortlist(a.patient, Diagnosis(text=a.diagnosis.text))
        assert sl.offered == [], (a.id, [x.name for x in sl.offered])
        assert sl.advice or sl.excluded == [] or all(e.excluded_by == "evidence"
                                                     for e in sl.excluded)
