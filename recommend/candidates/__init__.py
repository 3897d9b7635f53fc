"""Candidate drugs per diagnosis, from open evidence, each with its basis.

    load_index() -> CandidateIndex                  the shipped, built index (loads once)
    idx.candidates(diagnosis_text, code=None, limit=12, *, pregnant=None, age=None)
                                                    -> list[Candidate]
    idx.lookup(diagnosis_text, code=None, limit=12, *, pregnant=None, setting=None, age=None)
                                                    -> Lookup: candidates + what was held
                                                    back and why
    idx.match_info(diagnosis_text, code=None, *, pregnant=None, age=None) -> MatchInfo
                                                    how the diagnosis was read
    lookalike_conflict(query, term, known)          would a fuzzy match read one real
                                                    diagnosis word as another?

Evidence sources: prescribing priors from the NHANES training split (exact ICD-10 code, then
its 3-character category), label indications (DrugCentral 2016, LabeledIn) and a curated
first-line table from named guidelines. The ranking formula is in _index.py; provenance and
licences in data/README.md. The index is built by `rxassist candidates build`.
"""

from recommend.candidates._index import CandidateIndex, load_index
from recommend.candidates._text import lookalike_conflict
from recommend.candidates._types import (Candidate, CodeMatch, ConceptMatch, Evidence, HeldBack,
                                        IndicationMatch, Lookup, MatchInfo)

__all__ = ["CandidateIndex", "Candidate", "Evidence", "MatchInfo", "CodeMatch",
           "ConceptMatch", "IndicationMatch", "HeldBack", "Lookup", "load_index", "lookalike_conflict"]
