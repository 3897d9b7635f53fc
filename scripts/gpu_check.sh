#!/usr/bin/env bash
# The GPU checks, as one short run on a lent H100/H200 machine (it cannot reach any network).
# torch, transformers, peft and accelerate are on that machine's image; pydantic travels as
# wheels in .whl/ (downloaded here, see README "GPU machines"). Sized for about 6 minutes.
#   device run: bash scripts/gpu_check.sh     (carry: .whl .gpu-tok)
set -uo pipefail
export PYTHONUNBUFFERED=1
if [ "${1:-}" = "--prepare" ]; then  # on the CPU machine: the tokenizer the serving check needs
  src="${RXASSIST_HOME:-$HOME/.cache/rxassist}/models/smollm2-135m-instruct"
  mkdir -p .gpu-tok && cp "$src"/tokenizer*.json "$src"/chat_template.jinja .gpu-tok/ &&
    echo "prepared .gpu-tok (carry it with .whl)"; exit $?
fi
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl || exit 1
  export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch, transformers, peft; print('torch', torch.__version__, 'transformers', transformers.__version__, 'peft', peft.__version__); import importlib.util as u; print('flash_attn', bool(u.find_spec('flash_attn')))"
out=${OUT:-/tmp/gpu-check}; mkdir -p "$out"
# 8 of the 32 layers keeps every variant inside the lease; the per-layer cost is what FA-LoRA vs
# LoRA and attention kernels change. Methods: lora, fa-lora (cached projection, what training
# uses), fa-lora-peft (PEFT's optimizer, pinv every step). Attention: eager, sdpa, sdpa-flash
# (SDPA forced onto FLASH_ATTENTION, i.e. FlashAttention-2 inside PyTorch, for where flash-attn
# is not installed; the row's sdpa_kernels lists the aten ops that really ran), and
# flash_attention_2 where flash-attn is installed.
timeout 480 python3 benchmarks/bench_finetune_gpu.py --layers 8 --json "$out/bench_finetune_gpu.json" \
  2>&1 | tee "$out/bench_finetune_gpu.txt"

# Serving: base vs one adapter vs merged, transformers + PEFT `generate` (the baseline) beside
# merged and base, plus merged-vs-unmerged greedy agreement; the `rxassist serve` (vLLM) parts
# run where vllm is installed and are skipped with a message where it is not (the lent image).
# --base-model is a Llama-3.1-8B-shaped model (8 of 32 layers, random weights: timing and
# merge agreement do not need trained weights) with the embedded model's tokenizer, carried in
# .gpu-tok/ (prepare here: `bash scripts/gpu_check.sh --prepare`), and a random LoRA r16 adapter.
gpu_serving_check() {
  local work=/tmp/gpu-serving
  rm -rf "$work"; mkdir -p "$work"
  python3 - "$work" <<'PY' || return 1
import sys, torch
from pathlib import Path
from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
from peft import LoraConfig, get_peft_model
work = Path(sys.argv[1]); base = work / "llama-8b-shape-8l"; ad = work / "adapters" / "gpu-lora-r16"
tok = AutoTokenizer.from_pretrained(".gpu-tok")
cfg = LlamaConfig(hidden_size=4096, intermediate_size=14336, num_hidden_layers=8,
                  num_attention_heads=32, num_key_value_heads=8, vocab_size=len(tok),
                  max_position_embeddings=8192, rope_theta=500000.0, torch_dtype="bfloat16",
                  bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id)
torch.manual_seed(0)
LlamaForCausalLM(cfg).to(torch.bfloat16).save_pretrained(base); tok.save_pretrained(base)
m = get_peft_model(LlamaForCausalLM.from_pretrained(base, dtype=torch.bfloat16),
                   LoraConfig(r=16, lora_alpha=32, init_lora_weights=False,
                              target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                              "gate_proj", "up_proj", "down_proj"]))
m.save_pretrained(ad); print("built", base, ad)
PY
  timeout 300 python3 benchmarks/bench_serving.py --base-model "$work/llama-8b-shape-8l" \
    --adapter "$work/adapters/gpu-lora-r16" --hf-all --requests 16 --requests-c1 8 --agree 20 \
    --out "$out/bench_serving_gpu.json" 2>&1 | tee "$out/bench_serving_gpu.txt"
}
gpu_serving_check
