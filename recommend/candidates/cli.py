"""`rxassist candidates ...`: build the candidate index, show ranked candidates for a diagnosis."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "candidates", help="candidate drugs per diagnosis, with their evidence",
        description="Ranked candidate drugs for a diagnosis from open evidence: prescribing "
                    "priors of the training records, label indications (DrugCentral 2016, "
                    "LabeledIn) and a curated first-line table from named guidelines. "
                    "It assists; the clinician decides.")
    sub = p.add_subparsers(dest="candidates_command", metavar="ACTION", required=True)

    b = sub.add_parser("build", help="rebuild recommend/candidates/data/index.json.gz",
                       description="Builds the index from the training split, "
                                   "data/reference/indications.tsv and the curated tables in "
                                   "recommend/candidates/data/. Deterministic.")
    b.add_argument("--train", type=Path, help="training case file (default: the shipped "
                                              "NHANES training split)")
    b.add_argument("--indications", type=Path, help="indication table (default: "
                                                    "data/reference/indications.tsv)")
    b.add_argument("--out", type=Path, help="output (default: the shipped index)")
    b.add_argument("--verbose", action="store_true",
                   help="list every dropped indication row")
    b.add_argument("--check", action="store_true",
                   help="do not write; exit 1 if the shipped index differs from a rebuild")
    b.set_defaults(func=_build)

    s = sub.add_parser("show", help="ranked candidates for a diagnosis, with evidence")
    s.add_argument("diagnosis", help='diagnosis text, e.g. "community-acquired pneumonia"')
    s.add_argument("--code", help="ICD-10 code, e.g. I10")
    s.add_argument("--limit", type=int, default=12, help="how many candidates (default 12)")
    s.add_argument("--pregnant", action="store_true",
                   help="the patient is pregnant (prefers a pregnancy-specific concept)")
    s.add_argument("--age", type=float,
                   help="the patient's age in years (under 18 prefers a children's concept)")
    s.add_argument("--vascular", action="store_true",
                   help="a coronary, cerebrovascular or peripheral arterial history is known "
                        "(offers secondary-prevention rows)")
    s.add_argument("--json", action="store_true", help="JSON: candidates and match info")
    s.add_argument("--index", type=Path, help="an index file (default: the shipped one)")
    s.set_defaults(func=_show)


def _build(args) -> int:
    from recommend.candidates import _build as b

    kwargs = {}
    if args.train:
        kwargs["train"] = args.train
    if args.indications:
        kwargs["indications"] = args.indications
    index = b.build_index(**kwargs)
    out = args.out or b.INDEX_PATH
    if args.check:
        same = out.exists() and out.read_bytes() == b.index_bytes(index)
        print(f"{out}: {'up to date' if same else 'DIFFERS from a rebuild'} "
              f"(version {index['version']})")
        return 0 if same else 1
    size = b.write_index(index, out)
    stats = ", ".join(f"{k} {v}" for k, v in index["stats"].items())
    print(f"wrote {out} ({size / 1024:.0f} KiB, version {index['version']}): {stats}")
    print("indication rows not taken as evidence of treatment:")
    for kind, d in index["dropped_indications"].items():
        print(f"  {kind}: {d['rows']} rows")
        for why, n in d["reasons"].items():
            print(f"    {n:4d}  {why}")
    if args.verbose:
        for kind, d in index["dropped_indications"].items():
            for row in d["rows_dropped"]:
                print(f"  {kind}: {row}")
    return 0


def _show(args) -> int:
    from recommend.candidates import CandidateIndex, load_index
    from rxassist.errors import InvalidInput

    if args.limit < 1:
        raise InvalidInput(f"--limit must be at least 1, got {args.limit}", param="limit")
    if not args.diagnosis.strip() and not (args.code or "").strip():
        raise InvalidInput("give a diagnosis text (or --code)", param="diagnosis")
    idx = CandidateIndex.from_file(args.index) if args.index else load_index()
    pregnant = True if args.pregnant else None
    info = idx.match_info(args.diagnosis, args.code, pregnant=pregnant, age=args.age)
    found = idx.lookup(args.diagnosis, args.code, limit=args.limit, pregnant=pregnant,
                       age=args.age, vascular=args.vascular or None)
    cands = found.candidates
    if args.json:
        json.dump({"index_version": idx.version,
                   "candidates": [dict(c.model_dump(), evidence_text=c.evidence_text())
                                  for c in cands],
                   "match": info.model_dump()}, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
        return 0
    codes = ", ".join(f"{c.code} ({c.how}, n={c.patients})" for c in info.prior_codes) or "none"
    concepts = ", ".join(f"{c.name} ({c.how} {c.score:.0f})" for c in info.concepts) or "none"
    print(f"diagnosis: {info.diagnosis_text!r}  code: {info.code or '-'}")
    if info.code_note:
        print(f"note: {info.code_note}")
    print(f"priors from: {codes}\nconcepts: {concepts}\n"
          f"label indications matched: {len(info.indications)}")
    if not cands and found.advice:
        # A guideline says no drug treats it (acute kidney injury, oedema of unstated cause).
        print("no drug is offered for this diagnosis; guideline advice:")
        for a in found.advice:
            print(f"    {a}")
        return 0
    if not cands:
        print("no candidates known for this diagnosis")
        return 0
    for i, c in enumerate(cands, 1):
        print(f"{i:2d}. {c.name}  [{c.score:.3f}]\n    {c.evidence_text()}")
    return 0
