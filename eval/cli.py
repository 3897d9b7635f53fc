"""`rxassist eval run | report | review`: replay cases, tabulate runs, human review."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from eval.config import default
from recommend.schemas import MAX_CANDIDATES


def _margin(text: str) -> float | None:
    """--margin none: the model's choices always rank first."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not value >= 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0 or 'none', got {text!r}")
    return value


def _add_choice_options(parser: argparse.ArgumentParser) -> None:
    """How a model target chooses: one declaration for `eval run` and `eval suite`."""
    parser.add_argument("--choice", default=default("choice"), choices=("enum", "logprob"),
                        help="model target: how the model chooses among candidates "
                        "(default enum)")
    parser.add_argument("--offer", type=_positive_int, default=default("offer"), metavar="N",
                        help="model target: the model chooses among the N best-supported safe "
                        f"candidates (default {default('offer')}, at most {MAX_CANDIDATES})")
    parser.add_argument("--margin", type=_margin, default=default("margin"),
                        metavar="SCORE|none",
                        help="model target with fill: a candidate whose evidence score beats "
                        f"the model's choice by more than this ranks above it (default "
                        f"{default('margin')}; none: the model's choices always first)")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate a model or the assistant on case files")
    sub = p.add_subparsers(dest="eval_command", metavar="SUBCOMMAND")
    p.set_defaults(func=lambda args: p.print_help() or 2)

    r = sub.add_parser("run", help="replay cases against an OpenAI-compatible endpoint",
                       description="Replays cases and writes OUT/metrics.json, OUT/cases.jsonl "
                       "(per-case results; a rerun skips finished cases) and OUT/scores.jsonl.")
    r.add_argument("--cases", type=Path, required=True, metavar="FILE")
    r.add_argument("--target", default=default("target"), metavar="NAME",
                   help="model (model API choosing among candidates; default) | assistant "
                   "(assistant API consultation) | prior (candidates in evidence order, no model) "
                   "| frequency (in-process baseline from the training split)")
    r.add_argument("--base-url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8001/v1")
    r.add_argument("--model", help="model name at the endpoint (a LoRA adapter name selects it)")
    r.add_argument("--out", type=Path, required=True, metavar="DIR")
    r.add_argument("--limit", type=_positive_int, metavar="N", help="first N cases only")
    r.add_argument("--concurrency", type=_positive_int, default=default("concurrency"))
    r.add_argument("--max-retries", type=int, default=default("max_retries"),
                   help="retries per request on connection errors, 429 and 5xx (the openai "
                   "client's backoff: 0.5 s doubling up to 8 s, honouring Retry-After)")
    r.add_argument("--timeout", type=float, default=default("timeout_s"),
                   help="seconds per request")
    r.add_argument("--temperature", type=float, default=default("temperature"))
    r.add_argument("--max-tokens", type=_positive_int, default=default("max_tokens"))
    r.add_argument("--no-fill", action="store_true",
                   help="model target: only the model's own choices (default: then the next "
                   "candidates in evidence order up to --top-k, as the assistant answers)")
    _add_choice_options(r)
    r.add_argument("--no-structured-output", action="store_true",
                   help="model target: do not send response_format (endpoints without it)")
    r.add_argument("--judge-base-url", help="OpenAI-compatible endpoint of the LLM judge")
    r.add_argument("--judge-model", help="judge model name (e.g. gpt-4o)")
    r.add_argument("--judge-prompt", type=Path, help="judge prompt file (default: the versioned "
                   "eval/prompts/judge-v1.md)")
    r.add_argument("--no-judge-structured-output", action="store_true",
                   help="do not send response_format to the judge")
    r.add_argument("--train-cases", type=Path, help="training split for the frequency baseline "
                   "and the reference judge (default: data/cases/nhanes-2013-2014-train.jsonl)")
    r.add_argument("--top-k", type=_positive_int, default=default("top_k"),
                   help="drugs recommended per case (frequency, prior; at most 5 for model)")
    r.add_argument("--adapter", help="label for the report (default: parsed from --model)")
    r.add_argument("--rank", type=int, help="adapter rank, for the report")
    r.add_argument("--step", type=int, help="checkpoint step, for the report")
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_run)

    su = sub.add_parser("suite", help="frequency baseline + each --model, then the report",
                        description="Runs `eval run` for the frequency baseline and for every "
                        "--model (base model, adapters) on the same cases into OUT/<name>, "
                        "then prints and writes the report (OUT/report.md, OUT/report.html). "
                        "Resumable like `eval run`.")
    su.add_argument("--cases", type=Path, required=True, metavar="FILE")
    su.add_argument("--base-url", required=True, help="the model API, e.g. http://127.0.0.1:8001/v1")
    su.add_argument("--model", action="append", default=[], dest="models", metavar="NAME",
                    help="a model or adapter name served there (repeatable)")
    su.add_argument("--all-served", action="store_true",
                    help="also every model the endpoint lists at GET /models (base + adapters)")
    su.add_argument("--out", type=Path, required=True, metavar="DIR")
    su.add_argument("--limit", type=_positive_int, metavar="N")
    su.add_argument("--concurrency", type=_positive_int, default=default("concurrency"))
    su.add_argument("--max-tokens", type=_positive_int, default=default("max_tokens"))
    su.add_argument("--judge-base-url")
    su.add_argument("--judge-model")
    su.add_argument("--train-cases", type=Path, help="training split for the baseline and the "
                    "reference judge (default: data/cases/nhanes-2013-2014-train.jsonl)")
    su.add_argument("--no-baseline", action="store_true",
                    help="skip the frequency and prior baselines")
    su.add_argument("--top-k", type=_positive_int, default=default("top_k"),
                    help="drugs per case: the most each model may choose (1-5), and the "
                    f"baselines' k (default {default('top_k')})")
    su.add_argument("--baseline-top-k", type=_positive_int, action="append", default=[],
                    metavar="K", help="also run the frequency baseline with k=K (repeatable), "
                    "e.g. the models' average number of recommendations")
    _add_choice_options(su)
    su.add_argument("--no-progress", action="store_true")
    su.add_argument("--model-only", action="store_true",
                    help="also run each model without the evidence fill (its own choices only), "
                    "into OUT/<name>-model-only")
    su.set_defaults(func=_suite)

    rep = sub.add_parser("report", help="the paper's table + extra metrics, Markdown and HTML")
    rep.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    rep.add_argument("--out", type=Path, default=Path("eval-report"), metavar="DIR",
                     help="writes DIR/report.md and DIR/report.html (default ./eval-report)")
    rep.set_defaults(func=_report)

    rev = sub.add_parser("review", help="human review: export a CSV, import the filled CSV")
    rsub = rev.add_subparsers(dest="review_command", metavar="SUBCOMMAND")
    rev.set_defaults(func=lambda args: rev.print_help() or 2)
    ex = rsub.add_parser("export", help="one row per recommended drug, for a clinician")
    ex.add_argument("run", type=Path, metavar="RUN_DIR")
    ex.add_argument("--out", type=Path, required=True, metavar="CSV")
    ex.set_defaults(func=_review_export)
    im = rsub.add_parser("import", help="human-judged accuracy and agreement with each judge")
    im.add_argument("csv", type=Path, metavar="CSV")
    im.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    im.add_argument("--out", type=Path, metavar="JSON", help="also write the figures as JSON")
    im.set_defaults(func=_review_import)


def _run(args: argparse.Namespace) -> int:
    from eval.runner import RunConfig, run_eval

    config = RunConfig.from_args(args, api_key=os.environ.get("OPENAI_API_KEY") or "EMPTY",
                                 judge_api_key=os.environ.get("JUDGE_API_KEY")
                                 or os.environ.get("OPENAI_API_KEY") or "EMPTY")
    outcome = run_eval(config)
    from eval.report import markdown_table
    print(markdown_table([outcome.summary]))
    print(f"wrote {config.out / 'metrics.json'}")
    if outcome.failed:
        print(f"{outcome.failed} case(s) failed after retries; rerun the same command to resume")
        return 1
    return 0


def _served_models(base_url: str, api_key: str) -> list[str]:
    import httpx

    from rxassist.errors import ModelUnavailable

    url = base_url.rstrip("/") + "/models"
    try:
        response = httpx.get(url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)
        response.raise_for_status()
        return [m["id"] for m in response.json()["data"]]
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as e:
        raise ModelUnavailable(f"could not list the models at {url}: {e}") from None


def _suite(args: argparse.Namespace) -> int:
    import re

    from eval.report import write_report
    from eval.runner import RunConfig, run_eval

    key = os.environ.get("OPENAI_API_KEY") or "EMPTY"
    judge_key = os.environ.get("JUDGE_API_KEY") or key
    common = dict(cases=args.cases, limit=args.limit, concurrency=args.concurrency,
                  max_tokens=args.max_tokens, judge_base_url=args.judge_base_url,
                  top_k=args.top_k, offer=args.offer, margin=args.margin,
                  judge_model=args.judge_model, progress=not args.no_progress,
                  api_key=key, judge_api_key=judge_key)
    if args.train_cases:
        common["train_cases"] = args.train_cases
    models = list(args.models)
    if args.all_served:
        models += [m for m in _served_models(args.base_url, key) if m not in models]
    if not models:
        from rxassist.errors import ConfigError
        raise ConfigError("give --model NAME (repeatable) or --all-served")
    configs = [] if args.no_baseline else [
        RunConfig.build(out=args.out / "frequency-baseline", target="frequency", **common),
        RunConfig.build(out=args.out / "prior-baseline", target="prior", **common)]
    for k in ([] if args.no_baseline else args.baseline_top_k):
        if k != args.top_k:
            configs.append(RunConfig.build(out=args.out / f"frequency-top{k}", target="frequency",
                                     **{**common, "top_k": k}))
    for model in models:
        name = re.sub(r"[^A-Za-z0-9._-]+", "_", model)
        configs.append(RunConfig.build(out=args.out / name, base_url=args.base_url,
                                       model=model, choice=args.choice, **common))
        if args.model_only:
            configs.append(RunConfig.build(out=args.out / f"{name}-model-only",
                                           base_url=args.base_url, model=model,
                                           choice=args.choice, fill=False, **common))
    failed = sum(run_eval(c).failed for c in configs)
    md = write_report([c.out for c in configs], args.out)
    print(md, end="")
    print(f"wrote {args.out / 'report.md'} and {args.out / 'report.html'}")
    if failed:
        print(f"{failed} case(s) failed after retries; rerun the same command to resume")
    return 1 if failed else 0


def _report(args: argparse.Namespace) -> int:
    from eval.report import write_report

    md = write_report(args.runs, args.out)
    print(md, end="")
    print(f"wrote {args.out / 'report.md'} and {args.out / 'report.html'}")
    return 0


def _review_export(args: argparse.Namespace) -> int:
    from eval.review import export_review

    n = export_review(args.run, args.out)
    print(f"wrote {n} row(s) to {args.out}")
    return 0


def _review_import(args: argparse.Namespace) -> int:
    import json

    from eval.review import import_review, render_agreement

    figures = import_review(args.csv, args.runs)
    print(render_agreement(figures), end="")
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return 0
