"""`rxassist finetune federated` (docs/federated.md): options -> FederatedConfig -> run."""

from __future__ import annotations

import argparse
import json
import sys

from finetune.fed_config import FederatedConfig

# argparse only collects strings; FederatedConfig validates and names the option on error.
_OPTIONS = ("cases", "out", "sites", "partition", "alpha", "max_site_cases", "rounds",
            "local_steps", "batch_size", "lr", "rank", "lora_alpha", "target_modules",
            "max_length", "max_grad_norm", "seed", "base_model", "noise_multiplier",
            "clipping_norm", "delta", "parallel_sites", "threads")

_default = FederatedConfig.default


def register(actions: argparse._SubParsersAction) -> None:
    p = actions.add_parser(
        "federated", help="federated FA-LoRA across simulated hospitals (Flower), optional DP",
        description="Split cases into non-IID simulated hospitals, train FA-LoRA at each with "
                    "Flower (only B is sent and averaged), optionally with site-level "
                    "differential privacy, and write one adapter folder rxassist serve loads.")
    p.add_argument("--cases", help="cases to split into --sites hospitals (JSONL)")
    p.add_argument("--out", help="adapter folder to write")
    p.add_argument("--sites", help="number of simulated hospitals drawn from --cases")
    p.add_argument("--site-file", action="append", default=[], metavar="NAME=FILE",
                   help="an extra site with its own case file, e.g. synthea=data/cases/"
                        "synthea-sample.jsonl (repeatable)")
    p.add_argument("--partition", default=_default("partition"),
                   help="non-IID split by 'chapter' (ICD-10-CM) or 'age' band (default %(default)s)")
    p.add_argument("--alpha", default=_default("alpha"),
                   help="Dirichlet concentration; smaller = more skewed sites (default %(default)s)")
    p.add_argument("--max-site-cases", help="sample at most this many cases per site")
    p.add_argument("--rounds", default=_default("rounds"), help="federated rounds (default %(default)s)")
    p.add_argument("--local-steps", help="optimizer steps per site per round")
    FederatedConfig.add_lora_options(p)
    p.add_argument("--seed", default=_default("seed"),
                   help="seeds the shared frozen A, the split and each site's data order")
    p.add_argument("--noise-multiplier", default=_default("noise_multiplier"),
                   help="site-level DP: Gaussian noise std = multiplier x clipping norm / sites; "
                        "0 = no DP (default %(default)s)")
    p.add_argument("--clipping-norm", default=_default("clipping_norm"),
                   help="L2 bound on each site's B update under DP (default %(default)s)")
    p.add_argument("--delta", default=_default("delta"),
                   help="delta at which epsilon is reported (default %(default)s)")
    p.add_argument("--parallel-sites", default=_default("parallel_sites"),
                   help="sites trained at once (each loads the model; default %(default)s)")
    p.add_argument("--threads", default=None, help="torch threads per site")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    p.add_argument("--verbose", action="store_true", help="Flower and Ray logs")
    p.set_defaults(func=_run)


def _run(args) -> int:
    config = FederatedConfig.from_args(args, _OPTIONS, ("cases", "out", "sites", "local_steps"),
                                       site_files=args.site_file, overwrite=args.overwrite)
    from finetune.federated import REPORT_FILE, run_federated
    report = run_federated(config, verbose=args.verbose)
    summary = {k: report[k] for k in ("rounds", "local_steps", "steps_total", "wall_seconds",
                                      "bytes_per_round")}
    summary["sites"] = [f"{s['name']} ({s['cases']} cases)" for s in report["sites"]]
    summary["epsilon"], summary["delta"] = report["dp"]["epsilon"], report["dp"]["delta"]
    print(json.dumps(summary))
    print(f"wrote {config.out} ({REPORT_FILE} inside)", file=sys.stderr)
    return 0
