"""`rxassist data build`: NHANES / Synthea / case JSONL -> split, validated case files."""

from __future__ import annotations

import argparse
from pathlib import Path

from rxassist.paths import REPO_ROOT, SHIPPED_DATA_DIR

# A checkout has the raw data beside it in ../shared/data; a fresh clone uses the shipped cases.
DEFAULT_RAW_DIR = REPO_ROOT.parent / "shared" / "data"
# Each raw source: its --<name>-dir option -> (folder name under DEFAULT_RAW_DIR, what it holds).
RAW_SOURCES = {
    "nhanes": ("nhanes-2013-2014", "folder with medications.csv and demographic.csv"),
    "synthea": ("synthea-sample", "Synthea CSV export folder"),
    "drugcentral": ("drugcentral-2016", "DrugCentral extract with drug_indication.tsv, for the "
                    "reference judge's indication table"),
    "labeledin": ("labeledin", "LabeledIn folder with indications.tsv"),
}


def _default_dir(source: str) -> Path:
    return DEFAULT_RAW_DIR / RAW_SOURCES[source][0]


def register(subparsers) -> None:
    p = subparsers.add_parser("data", help="build case files from prescription records")
    sub = p.add_subparsers(dest="data_command", metavar="SUBCOMMAND")
    b = sub.add_parser("build", help="NHANES / Synthea / case JSONL -> split case files + data card",
                       description="Builds validated case files (docs/formats.md#case-files), "
                       "split by patient deterministically, and prints a data card. Without source "
                       "options it reads the NHANES and Synthea folders in ../shared/data.")
    for option, (folder, what) in RAW_SOURCES.items():
        b.add_argument(f"--{option}-dir", type=Path,
                       help=f"{what} (default {DEFAULT_RAW_DIR / folder})")
    b.add_argument("--cases", type=Path, action="append", default=[], metavar="FILE",
                   help="a case JSONL file to validate and split (repeatable)")
    b.add_argument("--out", type=Path, default=SHIPPED_DATA_DIR / "cases",
                   help="output folder (default: data/cases in the repository)")
    b.add_argument("--test-subset", type=int, default=200, metavar="N",
                   help="also write a fixed N-case subset of each test split (0 = none)")
    b.set_defaults(func=_build)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def _build(args: argparse.Namespace) -> int:
    from rxassist.errors import ConfigError

    from casedata.build import build

    if args.test_subset < 0:
        raise ConfigError(f"--test-subset must be >= 0, got {args.test_subset}")
    nhanes_dir, synthea_dir = args.nhanes_dir, args.synthea_dir
    if nhanes_dir is None and synthea_dir is None and not args.cases:
        nhanes_dir, synthea_dir = _default_dir("nhanes"), _default_dir("synthea")
    for opt, d in (("--nhanes-dir", nhanes_dir), ("--synthea-dir", synthea_dir)):
        if d is not None and not d.is_dir():
            raise ConfigError(f"{opt} {d} is not a folder (the raw data lives in ../shared/data "
                              "beside a checkout; pass the folder explicitly)")
    dc, li = args.drugcentral_dir, args.labeledin_dir
    if dc is None and li is None and args.nhanes_dir is None and args.synthea_dir is None \
            and not args.cases:
        dc, li = _default_dir("drugcentral"), _default_dir("labeledin")
    for opt, d, name in (("--drugcentral-dir", dc, "drug_indication.tsv"),
                         ("--labeledin-dir", li, "indications.tsv")):
        if d is not None and not (d / name).is_file():
            raise ConfigError(f"{opt} {d} has no {name}")
    result = build(args.out, nhanes_dir=nhanes_dir, synthea_dir=synthea_dir,
                   case_files=args.cases, test_subset=args.test_subset)
    print(result.card, end="")
    print(f"wrote {len(result.files)} case files and DATACARD.md to {args.out}")
    if dc is not None or li is not None:
        from eval.reference import INDICATIONS_FILE, build_indications

        n = build_indications(dc / "drug_indication.tsv" if dc else None,
                              li / "indications.tsv" if li else None)
        print(f"wrote {n} ingredient-indication rows to {INDICATIONS_FILE}")
    return 0
