"""The `rxassist` command: one entry point, subcommands registered by name.

Each layer owns its subcommands in a `cli` module with `register(subparsers)`; heavy imports
(torch, vllm, gradio) happen inside the handlers so `rxassist guardrails check` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from rxassist import __version__
from rxassist.errors import RxAssistError

# name -> module providing register(subparsers). Order is the order in --help.
COMMAND_MODULES: dict[str, str] = {
    "serve": "serving.cli",
    "models": "rxassist.base_model.cli",
    "finetune": "finetune.cli",
    "data": "casedata.cli",
    "eval": "eval.cli",
    "guardrails": "guardrails.cli",
    "candidates": "recommend.candidates.cli",
}


class CliError(RxAssistError):
    exit_code = 2


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rxassist",
        description="Prescription assistant for clinicians. It assists; the clinician decides.")
    parser.add_argument("--version", action="version", version=f"rxassist {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module_name in COMMAND_MODULES.items():
        if only is not None and name != only:
            # Keep --help complete while importing only what this invocation needs.
            sub.add_parser(name, help=f"(see `rxassist {name} --help`)")
            continue
        module = importlib.import_module(module_name)
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    first = next((a for a in argv if not a.startswith("-")), None)
    only = first if first in COMMAND_MODULES else None
    parser = build_parser(only)
    args = parser.parse_args(argv)
    func = getattr(args, "func", None)
    if func is None:
        (parser if args.command is None else parser).print_help(sys.stderr)
        return 2
    try:
        rc = func(args)
    except KeyboardInterrupt:
        return 130
    except RxAssistError as e:
        if getattr(args, "json_errors", False):
            print(json.dumps({"error": e.message}), file=sys.stderr)
        else:
            print(f"rxassist {args.command}: error: {e.message}", file=sys.stderr)
        return e.exit_code
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
