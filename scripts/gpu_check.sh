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
only_parallel=0; [ "${1:-}" = "--parallel-only" ] && only_parallel=1
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
[ "$only_parallel" = 1 ] || timeout 480 python3 benchmarks/bench_finetune_gpu.py --layers 8 --json "$out/bench_finetune_gpu.json" \
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
  [ "${BUILD_ONLY:-0}" = 1 ] && return 0   # --parallel-only needs the model, not the benchmark
  timeout 300 python3 benchmarks/bench_serving.py --base-model "$work/llama-8b-shape-8l" \
    --adapter "$work/adapters/gpu-lora-r16" --hf-all --requests 16 --requests-c1 8 --agree 20 \
    --out "$out/bench_serving_gpu.json" 2>&1 | tee "$out/bench_serving_gpu.txt"
}
if [ "$only_parallel" = 1 ]; then BUILD_ONLY=1 gpu_serving_check; else gpu_serving_check; fi

# vLLM parallelism pass-through (docs/scaling.md): the engine command rxassist builds, and where
# vllm is installed, a real engine with tensor parallel over the GPUs (2 at most) serving the
# model built above, and a `serve --model-url` front end answering one consultation through it.
#   device run: bash scripts/gpu_check.sh --parallel-only   (about 4 minutes; carry .whl .gpu-tok)
gpu_parallel_check() {
  local work=/tmp/gpu-serving gpus tp
  gpus=$(python3 -c "import torch; print(torch.cuda.device_count())")
  tp=$(( gpus >= 2 ? 2 : 1 ))
  PYTHONPATH="$PWD:${PYTHONPATH:-}" python3 - "$tp" <<'PY' || return 1
import sys
from serving.config import EngineConfig
from serving.vllm_process import EngineSpec, engine_command
tp = int(sys.argv[1])
cfg = EngineConfig(base_model="/m", served_name="m", log_path="/tmp/e.log", api_key="k" * 24,
                   tensor_parallel_size=tp, pipeline_parallel_size=1,
                   distributed_executor_backend="mp", max_loras=2, max_cpu_loras=4)
cmd = engine_command(cfg, EngineSpec("/m", ("m",), 8001, lora=True), on_gpu=True)
want = {"--distributed-executor-backend": "mp", "--max-loras": "2", "--max-cpu-loras": "4"}
if tp > 1:
    want["--tensor-parallel-size"] = str(tp)
got = {k: cmd[cmd.index(k) + 1] for k in want if k in cmd}
print("parallel pass-through", "OK" if got == want else f"MISSING {want} vs {got}")
PY
  if [ "$only_parallel" != 1 ]; then  # keeps the full run inside one lease
    echo "parallel engine check: run bash scripts/gpu_check.sh --parallel-only"; return 0
  fi
  if ! python3 -c "import vllm" 2>/dev/null; then
    echo "parallel serving check skipped: vllm is not installed on this machine"; return 0
  fi
  [ -d "$work/llama-8b-shape-8l" ] || { echo "parallel check: run the serving check first"; return 1; }
  local key="gpu-check-model-key-$RANDOM$RANDOM" log="$out/parallel_serve.log"
  PYTHONPATH="$PWD:${PYTHONPATH:-}" timeout 240 python3 -m rxassist.cli serve \
    --base-model "$work/llama-8b-shape-8l" --adapter-dir "$work/adapters" \
    --default-adapter gpu-lora-r16 --merge-default off --tensor-parallel-size "$tp" \
    --distributed-executor-backend mp --max-loras 2 --max-cpu-loras 4 \
    --port 8300 --model-port 8301 --model-api-key "$key" >"$log" 2>&1 &
  local engine_pid=$!
  for _ in $(seq 1 200); do curl -sf -o /dev/null http://127.0.0.1:8300/health && break; sleep 1; done
  ps -eo args | grep -m1 "[s]erving.vllm_entry" | tee "$out/parallel_engine_cmdline.txt"
  PYTHONPATH="$PWD:${PYTHONPATH:-}" timeout 120 python3 -m rxassist.cli serve --port 8302 \
    --model-url http://127.0.0.1:8301/v1 --model-api-key "$key" \
    --default-adapter gpu-lora-r16 >"$out/parallel_replica.log" 2>&1 &
  local replica_pid=$!
  for _ in $(seq 1 90); do curl -sf -o /dev/null http://127.0.0.1:8302/health && break; sleep 1; done
  curl -s -m 60 http://127.0.0.1:8302/v1/chat/completions -H 'content-type: application/json' \
    -d '{"model":"rxassist","messages":[{"role":"user","content":"58 year old man, essential hypertension, no known allergies, currently taking metformin"}]}' \
    | python3 -c "import json,sys; r=json.load(sys.stdin); print('consultation through --model-url:', [x['drug'] for x in r['rxassist']['recommendations']] if 'rxassist' in r else r)"
  kill -TERM "$replica_pid" "$engine_pid" 2>/dev/null; wait "$replica_pid" "$engine_pid" 2>/dev/null
  tail -5 "$log"
}
gpu_parallel_check
