#!/usr/bin/env bash
# The GPU check, in one command, on the GPU machine (repository root, with
# gpu-bundle/ carried from bench/gpu/prepare.sh; CUDA, PyTorch and
# transformers there, no LLVM, no network). Writes $OUT/gpu-check.json and
# $OUT/gpu-check.md:
#   - parity against transformers on the same GPU and weights: every
#     bundled tiny model (fp32) and a Llama-3.2-1B-shaped model (random
#     bf16 weights, computed in fp32): greedy ids and logits;
#   - compute-sanitizer memcheck on a short run;
#   - NCCL at world size 1 (the Nccl.* runtime test on the GPU), and
#     --tp 2 parity where the machine has 2+ GPUs and mpirun;
#   - decode speed at batch 1 and 64 (prompt 128 + 128 new, greedy,
#     prefill excluded) against transformers eager and torch.compile
#     (static cache), in the same command, with the bandwidth floor.
#
#   bench/gpu/check.sh [--quick]
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
[ -x gpu-bundle/bin/llm-run ] ||
  { echo "check.sh: no gpu-bundle/ (run bench/gpu/prepare.sh and carry it)" >&2; exit 1; }
export LD_LIBRARY_PATH="$PWD/gpu-bundle/lib:${LD_LIBRARY_PATH:-}"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader \
  > "$OUT/gpu.txt" 2>&1 || true
exec python3 bench/gpu/check.py --bundle gpu-bundle --out "$OUT" "$@"
