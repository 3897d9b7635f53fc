"""`rxassist data build` as a library call: sources -> split, validated case files + data card."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from rxassist.cases import Case, LineError, parse_case_line, write_cases
from rxassist.errors import NotFound

from casedata import nhanes, synthea
from casedata.datacard import file_summary, render_card
from casedata.splits import PatientCase, fixed_subset, split_cases


@dataclass
class BuildResult:
    files: dict[str, dict] = field(default_factory=dict)   # file name -> summary
    card: str = ""
    line_errors: dict[str, list[LineError]] = field(default_factory=dict)


def read_jsonl_cases(path: Path, errors: list[LineError]) -> list[PatientCase]:
    """Cases from a case file, keyed by `patient_id` when a line has one, else by case id."""
    if not path.is_file():
        raise NotFound(f"{path} does not exist", param=str(path))
    out: list[PatientCase] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                case = parse_case_line(raw)
            except ValueError as e:
                errors.append(LineError(lineno, str(e)))
                continue
            key = json.loads(raw).get("patient_id")
            out.append(PatientCase(str(key) if key is not None else case.id, case))
    return out


def _write(out_dir: Path, name: str, items: list[PatientCase], result: BuildResult,
           all_cases: list[Case]) -> None:
    write_cases(out_dir / name, [c for _, c in items])
    result.files[name] = file_summary([c for _, c in items], len({k for k, _ in items}))
    all_cases.extend(c for _, c in items)


def build(out_dir: Path, *, nhanes_dir: Path | None = None, synthea_dir: Path | None = None,
          case_files: list[Path] = (), test_subset: int = 200,
          log: Callable[[str], None] = print) -> BuildResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    result = BuildResult()
    all_cases: list[Case] = []
    notes: Counter = Counter()

    def write_splits(stem: str, items: list[PatientCase], subset: int) -> None:
        keys = {c.id: k for k, c in items}
        for split, cases in split_cases(items, salt=stem).items():
            _write(out_dir, f"{stem}-{split}.jsonl", [PatientCase(keys[c.id], c) for c in cases],
                   result, all_cases)
            if split == "test" and subset:
                chosen = fixed_subset(cases, subset)
                write_cases(out_dir / f"{stem}-test-{subset}.jsonl", chosen)
                result.files[f"{stem}-test-{subset}.jsonl"] = file_summary(
                    chosen, len({keys[c.id] for c in chosen}))

    if nhanes_dir is not None:
        items = nhanes.build_nhanes_cases(nhanes_dir, stats=notes)
        write_splits(nhanes.SOURCE, items, test_subset)
    if synthea_dir is not None:
        items = synthea.build_synthea_cases(synthea_dir)
        # Small and synthetic: shipped whole, as an out-of-distribution evaluation set.
        _write(out_dir, f"{synthea.SOURCE}.jsonl", items, result, all_cases)
    for path in case_files:
        errors: list[LineError] = []
        items = read_jsonl_cases(path, errors)
        for e in errors:
            log(f"{path}: {e} (skipped)")
        result.line_errors[str(path)] = errors
        write_splits(path.stem, items, 0)

    result.card = render_card(result.files, all_cases, dict(notes))
    (out_dir / "DATACARD.md").write_text(result.card, encoding="utf-8")
    return result
