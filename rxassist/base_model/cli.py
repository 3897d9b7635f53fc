"""`rxassist models`: prepare and list base models."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("models", help="prepare the embedded base model, show model paths")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    prep = msub.add_parser("prepare", help="convert the embedded SmolLM2-135M-Instruct GGUF "
                                           "into a safetensors folder under RXASSIST_HOME")
    prep.add_argument("--force", action="store_true", help="rebuild even if present")
    prep.set_defaults(func=_prepare)
    where = msub.add_parser("path", help="print the folder a --base-model value resolves to")
    where.add_argument("--base-model", default=None, help="path or hub id (default: embedded)")
    where.set_defaults(func=_path)


def _prepare(args) -> int:
    from rxassist.base_model import prepare_default_model
    from rxassist.paths import default_base_model_dir
    path = prepare_default_model(default_base_model_dir(), force=args.force)
    print(path)
    return 0


def _path(args) -> int:
    from rxassist.paths import resolve_base_model
    print(resolve_base_model(args.base_model, prepare=False))
    return 0
