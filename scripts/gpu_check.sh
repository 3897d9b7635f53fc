#!/usr/bin/env bash
# The GPU checks, as one short run on a lent H100/H200 machine (it cannot reach any network).
# torch, transformers, peft and accelerate are on that machine's image; pydantic travels as
# wheels in .whl/ (downloaded here, see README "GPU machines"). Sized for about 6 minutes.
#   device run: bash scripts/gpu_check.sh     (carry: .whl)
set -uo pipefail
export PYTHONUNBUFFERED=1
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__); import importlib.util as u; print('flash_attn', bool(u.find_spec('flash_attn')))"
out=${OUT:-/tmp/gpu-check}; mkdir -p "$out"
# 8 of the 32 layers keeps every variant (eager, SDPA, FA-2 where installed) inside the lease;
# the per-layer cost is what FA-LoRA vs LoRA and attention kernels change.
timeout 420 python3 benchmarks/bench_finetune_gpu.py --layers 8 --json "$out/bench_finetune_gpu.json" \
  2>&1 | tee "$out/bench_finetune_gpu.txt"
