"""Consultation readers side by side: rules, llm, both. Field-level precision and recall, latency.

    # rules only (no server):
    .venv/bin/python benchmarks/bench_readers.py --cases eval/phrasing/llm_reader_dev.jsonl \
        --readers rules
    # all three, against the model API `rxassist serve` starts (vLLM's OpenAI server; its key
    # is in $RXASSIST_HOME/run/model-api-key-<port>):
    .venv/bin/python benchmarks/bench_readers.py --cases eval/phrasing/phrasing.jsonl \
        --split test --readers rules,llm,both --base-url http://127.0.0.1:8001/v1 \
        --model smollm2-135m-instruct --api-key "$(cat ~/.cache/rxassist/run/model-api-key-8001)" \
        --out runs/readers/test.json --save-readings runs/readers/test-readings.jsonl
    # re-score saved readings (no server), e.g. after changing the merge:
    .venv/bin/python benchmarks/bench_readers.py --cases ... --readers rules,llm,both \
        --readings runs/readers/test-readings.jsonl

Each reader is exactly what the assistant runs (`reader` setting): `rules` is the deterministic
reader (assistant.dialogue.fold), `llm` the served model's grounded reading alone, `both` the
rules plus the model's reading merged so that it may only add caution (assistant.reading). The
model is asked once per consultation; `llm` and `both` share that answer, and `both`'s latency is
the rules' plus the model's. Multi-turn consultations (`turns`) are replayed with the rule
reader's own "Still needed:" question between turns, as the assistant asks it.
Scoring: eval/reader_scores.py (its docstring defines the file format and every number).
Writes one JSON file (summary per reader + per-case rows) and prints a Markdown table.
A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from eval.reader_scores import (PhrasingCase, ReaderOutput, read_cases, score,  # noqa: E402
                                table)

READERS = ("rules", "llm", "both")


def _history(turns: list) -> list[dict]:
    """User turns with the rule reader's own question between them."""
    import guardrails
    from assistant import render
    from assistant.dialogue import fold
    from assistant.extract import Extractor

    history: list[dict] = []
    for i, turn in enumerate(turns):
        if isinstance(turn, dict):
            history.append({"role": turn["role"], "content": turn["content"]})
            continue
        if i and history[-1]["role"] == "user":
            c = fold(history, Extractor(guardrails.find_drug_mentions)).consultation
            missing = c.missing()
            history.append({"role": "assistant",
                            "content": render.needs_info(c, missing) if missing else "Noted."})
        history.append({"role": "user", "content": str(turn)})
    return history


def _output(c, seconds: float, status: str = "ok") -> ReaderOutput:
    values = {k: v for k, v in c.values.items() if k != "diagnosis"}
    dx = c.diagnosis()
    if dx is not None:
        values["diagnosis"] = dx.text
        values["diagnosis_code"] = getattr(dx, "code", None)
    return ReaderOutput(values=values, missing=c.missing(), latency_s=seconds, status=status)


class ReplayReader:
    """The model's saved readings (--readings), so the merge can be re-scored without a server."""

    def __init__(self, path: Path):
        from assistant.llm_reader import LLMReading, PatientReading
        self._by_text: dict[str, object] = {}
        for line in path.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            fields = PatientReading.model_validate(r["fields"]) if r["fields"] else None
            self._by_text[r["text"]] = LLMReading(fields, r["status"], r["latency_s"],
                                                  r.get("detail", ""))

    def read(self, turns: list[str]):
        from assistant.llm_reader import note_text
        return self._by_text[note_text(turns)]


def _save_reading(path: Path | None, turns: list[str], reading) -> None:
    if path is None:
        return
    from assistant.llm_reader import note_text
    row = {"text": note_text(turns), "status": reading.status, "latency_s": reading.latency_s,
           "detail": reading.detail,
           "fields": reading.fields.model_dump() if reading.fields else None}
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_case(case: PhrasingCase, readers: list[str], llm_reader,
             save: Path | None = None) -> dict[str, ReaderOutput]:
    import guardrails
    from assistant.dialogue import fold
    from assistant.extract import Extractor
    from assistant.reading import llm_only, merge_both, user_turns

    history = _history(case.turns)
    t0 = time.perf_counter()
    folded = fold(history, Extractor(guardrails.find_drug_mentions))
    rules_s = time.perf_counter() - t0
    out = {"rules": _output(folded.consultation, rules_s)}
    if llm_reader is None or not ({"llm", "both"} & set(readers)):
        return out
    turns = user_turns(history)
    reading = llm_reader.read(turns)
    _save_reading(save, turns, reading)
    text = "\n".join(turns)
    if "llm" in readers:
        c, _ = llm_only(folded.consultation, reading, text, guardrails.find_drug_mentions)
        out["llm"] = _output(c, reading.latency_s, reading.status)
    if "both" in readers:
        c = copy.deepcopy(folded.consultation)
        t1 = time.perf_counter()
        merge_both(c, reading, text, guardrails.find_drug_mentions, guardrails.ingredients_of)
        merge_s = time.perf_counter() - t1
        out["both"] = _output(c, rules_s + reading.latency_s + merge_s, reading.status)
    return out


class DiagnosisMatcher:
    """Two diagnoses are the same when their codes share a category, or the candidate index
    reads both texts as the same concept (else the same prior code); text equality last."""

    def __init__(self):
        from recommend.candidates import load_index
        self.index = load_index()
        self._cache: dict[str, tuple[str | None, str | None]] = {}

    def _reading(self, text: str) -> tuple[str | None, str | None]:
        if text not in self._cache:
            info = self.index.match_info(text)
            concept = info.concepts[0].name if info.concepts else None
            code = info.prior_codes[0].code if info.prior_codes else None
            self._cache[text] = (concept, code)
        return self._cache[text]

    def __call__(self, read: dict, gold: dict) -> bool:
        got_code, want_code = read.get("diagnosis_code"), gold.get("diagnosis_code")
        if got_code and want_code:
            return got_code.replace(".", "")[:3] == want_code.replace(".", "")[:3]
        got, want = str(read.get("diagnosis") or ""), str(gold.get("diagnosis") or "")
        if " ".join(got.casefold().split()) == " ".join(want.casefold().split()):
            return True
        (c1, p1), (c2, p2) = self._reading(got), self._reading(want)
        if c2 is not None:
            return c1 == c2
        if want_code and p1:
            return p1.replace(".", "")[:3] == want_code.replace(".", "")[:3]
        return p2 is not None and p1 == p2


def item_key(field: str, item: str) -> frozenset[str]:
    import guardrails
    # The rule reader writes an abbreviation beside its expansion ("oral contraceptive (OCP)").
    bare = re.sub(r"\s*\([^)]*\)", " ", item)
    return frozenset(guardrails.ingredients_of(item)) | {" ".join(x.casefold().split())
                                                         for x in (item, bare)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cases", type=Path, required=True)
    p.add_argument("--split", default=None, help="only this split (e.g. test); default all")
    p.add_argument("--readers", default="rules,llm,both")
    p.add_argument("--base-url", default=None, help="the model API, e.g. http://127.0.0.1:8001/v1")
    p.add_argument("--model", default=None, help="served model (or adapter) name the reader asks")
    p.add_argument("--api-key", default="EMPTY")
    p.add_argument("--timeout", type=float, default=300.0)
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--out", type=Path, default=None)
    p.add_argument("--save-readings", type=Path, default=None,
                   help="append the model's raw readings here (JSONL), one per consultation")
    p.add_argument("--readings", type=Path, default=None,
                   help="replay saved readings instead of asking a server (latency as saved)")
    args = p.parse_args(argv)
    readers = [r.strip() for r in args.readers.split(",") if r.strip()]
    bad = [r for r in readers if r not in READERS]
    if bad or not readers:
        p.error(f"--readers: {bad or 'none'}; choose from {', '.join(READERS)}")
    llm_reader = None
    if {"llm", "both"} & set(readers) and args.readings:
        llm_reader = ReplayReader(args.readings)
    elif {"llm", "both"} & set(readers):
        if not (args.base_url and args.model):
            p.error("--readers llm/both need --base-url and --model")
        from assistant.llm_reader import LLMReader
        from recommend.model_client import ModelClient, ModelSettings
        client = ModelClient(ModelSettings(base_url=args.base_url, api_key=args.api_key,
                                           timeout_s=args.timeout, max_retries=0))
        llm_reader = LLMReader(client, args.model, max_tokens=args.max_tokens)
    cases, problems = read_cases(args.cases, args.split)
    for msg in problems:
        print(f"{args.cases}: {msg} (skipped)", file=sys.stderr)
    if not cases:
        p.error(f"{args.cases}: no consultations" + (f" in split {args.split!r}"
                                                      if args.split else ""))
    cases = cases[:args.limit] if args.limit else cases
    outputs: dict[str, dict[str, ReaderOutput]] = {r: {} for r in readers}
    for i, case in enumerate(cases, 1):
        got = run_case(case, readers, llm_reader, args.save_readings)
        for r in readers:
            outputs[r][case.id] = got[r]
        print(f"\r{i}/{len(cases)}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    same = DiagnosisMatcher()
    results = {r: score(cases, outputs[r], same_diagnosis=same, item_key=item_key)
               for r in readers}
    print(table(results))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        summary = {"cases": str(args.cases), "split": args.split, "n": len(cases),
                   "model": args.model, "readers": results,
                   "read": {r: {cid: {"values": o.values, "missing": o.missing,
                                      "status": o.status} for cid, o in outputs[r].items()}
                            for r in readers}}
        args.out.write_text(json.dumps(summary, indent=1, ensure_ascii=False, default=str),
                            encoding="utf-8")
        print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
