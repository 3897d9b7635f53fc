"""Candidate retrieval: by exact code, by category, by free text, unknown diagnoses, evidence,
and that the shipped index is what the build command produces."""

from __future__ import annotations

import gzip
import json

import pytest

from recommend.candidates import Candidate, CandidateIndex, Evidence, load_index
from recommend.candidates import _build
from rxassist.errors import InvalidInput


@pytest.fixture(scope="module")
def idx() -> CandidateIndex:
    return load_index()


def names(cands: list[Candidate]) -> list[str]:
    return [c.name for c in cands]


def test_exact_code_uses_code_priors(idx):
    info = idx.match_info("Essential (primary) hypertension", "I10")
    assert info.prior_codes[0].code == "I10" and info.prior_codes[0].how == "code"
    cands = idx.candidates("Essential (primary) hypertension", "I10", limit=5)
    assert {"lisinopril", "amlodipine"} <= set(names(cands))
    top = cands[0]
    prior = next(e for e in top.evidence if e.source == "prior_code")
    assert prior.count and prior.share and 0 < prior.share <= 1
    assert "I10" in prior.detail and "training records" in prior.detail


def test_code_without_records_falls_back_to_category(idx):
    # E11.9 has no training records of its own; its category E11 has hundreds.
    info = idx.match_info("Type 2 diabetes mellitus without complications", "E11.9")
    assert [c.how for c in info.prior_codes] == ["category"]
    assert info.prior_codes[0].code == "E11"
    cands = idx.candidates("Type 2 diabetes mellitus without complications", "E11.9")
    assert cands[0].name == "metformin"
    assert any(e.source == "prior_category" for e in cands[0].evidence)


def test_code_is_normalised():
    from recommend.candidates._sources import normalise_code
    assert normalise_code(" i4891 ") == "I48.91"
    assert normalise_code("e11") == "E11"
    assert normalise_code("44054006") is None  # SNOMED CT: not an ICD-10 code


@pytest.mark.parametrize("text,accepted", [
    ("new type 2 diabetes", {"metformin"}),
    ("UTI", {"nitrofurantoin", "fosfomycin", "sulfamethoxazole; trimethoprim"}),
    ("cystitis in pregnancy", {"nitrofurantoin", "cephalexin", "amoxicillin", "fosfomycin"}),
    ("acute otitis media", {"amoxicillin"}),
    ("atrial fibrillation", {"apixaban", "rivaroxaban", "warfarin", "dabigatran", "edoxaban",
                             "metoprolol", "diltiazem"}),
    ("community-acquired pneumonia", {"doxycycline", "azithromycin", "clarithromycin",
                                      "levofloxacin", "moxifloxacin", "amoxicillin"}),
])
def test_free_text_gets_a_first_line_drug_in_top_3(idx, text, accepted):
    top3 = names(idx.candidates(text, limit=3))
    assert accepted & set(top3), (text, top3)


def test_free_text_typo_and_abbreviation(idx):
    assert idx.match_info("pnuemonia").concepts[0].name == "community-acquired pneumonia"
    assert idx.match_info("afib").concepts[0].name == "atrial fibrillation"
    assert idx.match_info("T2DM").concepts[0].name == "type 2 diabetes mellitus"


def test_label_indication_only_drug_still_appears(idx):
    # Fosfomycin is not in the NHANES training records for UTI, only on labels and in IDSA.
    fos = next(c for c in idx.candidates("urinary tract infection", limit=20)
               if c.name == "fosfomycin")
    assert {e.source for e in fos.evidence} >= {"drugcentral"}
    assert not any(e.source.startswith("prior") for e in fos.evidence)


def test_combination_is_one_candidate(idx):
    smx = next(c for c in idx.candidates("UTI", limit=20) if "trimethoprim" in c.ingredients)
    assert smx.ingredients == ["sulfamethoxazole", "trimethoprim"]
    assert smx.ingredient == "sulfamethoxazole; trimethoprim"


def test_unknown_diagnosis_gives_no_candidates(idx):
    assert idx.candidates("xyzzy frobnication") == []
    info = idx.match_info("xyzzy frobnication")
    assert info.prior_codes == [] and info.concepts == [] and info.indications == []


def test_unknown_code_with_no_text_is_empty_not_an_error(idx):
    assert idx.candidates("", code="V95.4") == []
    assert "no training records" in (idx.match_info("", code="V95.4").code_note or "")


def test_bad_input(idx):
    with pytest.raises(InvalidInput):
        idx.candidates("   ")
    with pytest.raises(InvalidInput):
        idx.candidates("asthma", limit=0)


def test_every_candidate_names_its_evidence(idx):
    for text in ("asthma", "hypertension", "gout", "migraine", "acne"):
        for c in idx.candidates(text):
            assert c.evidence
            for e in c.evidence:
                assert e.source in {"prior_code", "prior_category", "drugcentral",
                                    "labeledin", "guideline"}
                assert e.detail
            if any(e.source == "guideline" for e in c.evidence):
                g = next(e for e in c.evidence if e.source == "guideline")
                assert g.reference  # full citation


def test_ranking_is_by_score(idx):
    cands = idx.candidates("hypertension", code="I10", limit=20)
    scores = [c.score for c in cands]
    assert scores == sorted(scores, reverse=True)
    assert len(cands) == 20


def test_evidence_text_is_one_line_per_kind():
    c = Candidate(name="metformin", ingredients=["metformin"], score=1.0, evidence=[
        Evidence(source="drugcentral", detail="label indication: type 2 diabetes mellitus "
                                              "(DrugCentral 2016)"),
        Evidence(source="prior_category", detail="cat", share=0.3, count=3),
        Evidence(source="prior_code", detail="prescribed for this diagnosis to 31% of "
                 "patients in the training records (E11, n=412)", share=0.31, count=128),
        Evidence(source="labeledin", detail="label indication: x (LabeledIn, FDA label)")])
    assert c.evidence_text() == (
        "prescribed for this diagnosis to 31% of patients in the training records "
        "(E11, n=412); label indication: type 2 diabetes mellitus (DrugCentral 2016)")
    assert "\n" not in c.evidence_text()


def test_models_are_frozen():
    e = Evidence(source="guideline", detail="x")
    with pytest.raises(Exception):
        e.detail = "y"  # type: ignore[misc]


def test_shipped_index_equals_a_rebuild():
    shipped = _build.INDEX_PATH.read_bytes()
    assert shipped == _build.index_bytes(_build.build_index()), \
        "recommend/candidates/data/index.json.gz is stale: run `rxassist candidates build`"
    data = json.loads(gzip.decompress(shipped))
    assert data["format"] == _build.INDEX_FORMAT and data["version"] == _build.INDEX_VERSION
    assert data["sources"]["train"]["file"].endswith("nhanes-2013-2014-train.jsonl")
    assert len(shipped) < 5 * 1024 * 1024


def test_priors_refuse_a_non_training_split(tmp_path):
    from recommend.candidates._sources import read_priors
    from rxassist.errors import ConfigError
    test_file = tmp_path / "nhanes-2013-2014-test.jsonl"
    test_file.write_text("")
    with pytest.raises(ConfigError):
        read_priors(test_file)


def test_wrong_format_is_refused():
    from rxassist.errors import ConfigError
    with pytest.raises(ConfigError):
        CandidateIndex({"format": 999})


def test_specific_code_of_a_family_keeps_its_own_priors(idx):
    # E11.4 (type 2 diabetes with neurological complications) is treated with neuropathy
    # drugs; the type 2 diabetes first-line table must not override that: the most specific
    # code family (E11.4, diabetic neuropathy) wins over E11.
    info = idx.match_info("Type 2 diabetes mellitus with neurological complications", "E11.4")
    assert [c.name for c in info.concepts] == ["diabetic neuropathy"]
    top = idx.candidates("Type 2 diabetes mellitus with neurological complications", "E11.4",
                         limit=3)
    assert "gabapentin" in names(top) and "metformin" not in names(top)
    # ...while the plain code of the family does get the concept.
    assert idx.match_info("Type 2 diabetes mellitus", "E11").concepts[0].how == "code"


def test_a_less_specific_word_names_no_concept(idx):
    assert all(c.name != "gout flare" for c in idx.match_info("arthritis").concepts)
    assert idx.match_info("gout flare").concepts[0].name == "gout flare"
    assert [c.name for c in idx.match_info("chronic gout").concepts] == ["chronic gout"]


def test_prior_is_the_records_part_of_the_score(idx):
    cands = idx.candidates("hypertension", code="I10", limit=25)
    for c in cands:
        has_prior = any(e.source.startswith("prior") for e in c.evidence)
        assert (c.prior > 0) == has_prior
        assert c.prior <= c.score
    by_prior = sorted(cands, key=lambda c: -c.prior)
    assert by_prior[0].name == "lisinopril"  # the most recorded drug for I10


def test_pregnancy_concept_wins_over_the_plain_one(idx):
    concepts = idx.match_info("UTI in pregnancy").concepts
    assert [c.name for c in concepts] == ["urinary tract infection in pregnancy"]
    top3 = names(idx.candidates("DVT in pregnancy", limit=3))
    assert "enoxaparin" in top3 and "warfarin" not in top3


def test_every_candidate_name_reads_back_to_its_ingredients():
    # Callers run guardrails.check([candidate.name], patient): the name must mean the product.
    import guardrails
    data = json.loads(gzip.decompress(_build.INDEX_PATH.read_bytes()))
    for key, p in data["products"].items():
        r = guardrails.normalize(p["name"])
        assert r.known and sorted(i.lower() for i in r.ingredients) == p["ingredients"], p
        assert key == "; ".join(p["ingredients"])


def test_label_matching_does_not_confuse_neighbouring_words(idx):
    # Fixed-length stems once read "thromboprophylaxis" as "thrombocytosis"; a context word
    # ("pregnancy") or a part of the diagnosis ("anemia") is no label indication for it.
    inds = {m.indication.lower() for m in idx.match_info("VTE prophylaxis").indications}
    assert "deep vein thrombosis prevention" in inds
    assert not any("thrombocyt" in i for i in inds)
    inds = {m.indication.lower() for m in idx.match_info("DVT in pregnancy").indications}
    assert "pregnancy" not in inds
    inds = {m.indication.lower() for m in idx.match_info("iron deficiency anaemia").indications}
    assert "iron deficiency anemia" in inds and "anemia" not in inds


def test_pregnancy_prefers_the_pregnancy_concept(idx):
    plain = idx.match_info("chronic hypertension").concepts
    assert [c.name for c in plain] == ["essential hypertension"]
    preg = idx.match_info("chronic hypertension", pregnant=True).concepts
    assert [c.name for c in preg] == ["hypertension in pregnancy"]
    top3 = names(idx.candidates("chronic hypertension", limit=3, pregnant=True))
    assert "labetalol" in top3 and "lisinopril" not in top3
    # No pregnancy concept for asthma: the plain one still matches.
    assert idx.match_info("asthma", pregnant=True).concepts[0].name == "asthma"


def test_numbers_and_units_are_not_extra_diagnoses(idx):
    info = idx.match_info("recurrent gout, 3 flares a year, urate 9.1 mg/dL")
    assert "chronic gout" in [c.name for c in info.concepts]


def test_pregnancy_concept_also_for_a_coded_diagnosis(idx):
    assert [c.name for c in idx.match_info("Essential (primary) hypertension", "I10",
                                           pregnant=True).concepts] == ["hypertension in pregnancy"]
    assert [c.name for c in idx.match_info("Asthma", "J45", pregnant=True).concepts] == ["asthma"]
