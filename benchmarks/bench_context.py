"""Context per clause: the reader's own ConText rules against negspacy, on the phrasing set.

    /work/venv-i19a/bin/python benchmarks/bench_context.py [--split test|dev|all]
        (needs spacy 3.8 and negspacy 1.1 installed; no spaCy model is downloaded)

Both variants run the whole rule reader (benchmarks/bench_phrasing.py); only the function that reads a
clause's context is swapped:

  rules     assistant/extract/context.py: negation, history, family, hypothetical and focus
            cues per clause, pre-coordinated "non-" terms (assistant/data/extract_context.json)
  negspacy  spacy.blank("en") + sentencizer + an EntityRuler holding the curated condition
            terms (the candidate index's concepts, the KCD English readings, the shorthand
            table), then negspacy's Negex with its "en_clinical" termset; a clause is negated
            when every condition in it is. negspacy reads negation only: history, family and
            hypothetical mentions are not modifiers it knows.

Prints the phrasing table for each and the time per consultation. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_phrasing import load_set, rules_reader, score, table  # noqa: E402


def negspacy_reader_context():
    """A read_clause_loose replacement backed by negspacy."""
    import csv
    from importlib import resources

    import spacy
    from negspacy.negation import Negex  # noqa: F401  (registers the "negex" factory)
    from negspacy.termsets import termset

    from assistant.shorthand import ABBREVIATIONS
    from assistant.extract.context import ClauseContext
    from assistant.extract.korean import diagnosis_table

    terms: set[str] = set(ABBREVIATIONS) | set(ABBREVIATIONS.values())
    path = resources.files("recommend.candidates").joinpath("data/concepts.tsv")
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t"):
            terms.update(row["terms"].split("|") + [row["concept"]])
    terms.update(english for _, english in diagnosis_table().values())
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER"})
    ruler.add_patterns([{"label": "CONDITION", "pattern": t.lower()} for t in terms if t])
    nlp.add_pipe("negex", config={"neg_termset": termset("en_clinical").get_patterns(),
                                  "ent_types": ["CONDITION"]})

    def read(raw: str) -> ClauseContext:
        text = " ".join(raw.split()).strip(" .:-,")
        doc = nlp(text)
        ents = list(doc.ents)
        negated = bool(ents) and all(e._.negex for e in ents)
        term = text
        if negated:
            term = doc[ents[0].start:].text
        return ClauseContext(term=term, negated=negated)
    return read


def run(split: str, variant: str) -> dict:
    import assistant.extract.diagnosis as dx
    import assistant.extract.labels as labels
    import assistant.extract.medications as meds

    originals = (dx.read_clause_loose, labels.read_clause_loose, meds.read_clause_loose)
    if variant == "negspacy":
        reader = negspacy_reader_context()
        dx.read_clause_loose = labels.read_clause_loose = meds.read_clause_loose = reader
    try:
        from assistant.extract import coding
        coding.code_diagnosis.cache_clear()   # each variant pays its own coding, or timings mislead
        coding._icd_tokens.cache_clear()
        cases = load_set(split=split)
        t0 = time.perf_counter()
        result = score(rules_reader, cases)
        result["summary"]["seconds"] = time.perf_counter() - t0
        return result
    finally:
        dx.read_clause_loose, labels.read_clause_loose, meds.read_clause_loose = originals


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--split", choices=("test", "dev", "all"), default="test")
    args = p.parse_args()
    # Load the knowledge base, the index and the ICD-10-CM tables once, outside the timing.
    score(rules_reader, load_set(split="dev")[:20])
    for variant in ("rules", "negspacy"):
        result = run(args.split, variant)
        print(table(result["summary"], variant))
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
