#!/usr/bin/env bash
# The GPU check of native TensorFlow (bench/gpu-check.ts): on an NVIDIA machine with the npm
# and PyPI registries in reach, builds the CUDA 12 backend from PyPI's wheels (segtune setup
# tensorflow --gpu), lists the backends, measures training images/s on the GPU next to the same
# U-Net in PyTorch on CUDA, and runs a short quick search with two trials per GPU, recording GPU
# memory per trial. Writes bench/results/gpu-check.md. Takes a few minutes after the downloads
# (about 6 GB, cached in segtune's cache and pip's).
# usage: scripts/gpu-check.sh [PYTHON]   (PYTHON: one whose torch sees CUDA; default: a venv)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nvidia-smi >/dev/null || { echo "gpu-check: nvidia-smi is not on PATH: this needs an NVIDIA machine" >&2; exit 2; }
nvidia-smi -L
[ -d node_modules ] || npm ci
node scripts/build.mjs
node apps/cli/bin/segtune.mjs setup tensorflow --gpu
node apps/cli/bin/segtune.mjs backends
py=${1:-}
if [ -z "$py" ]; then
  if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then py=python3
  else py=$(scripts/python-venv.sh torch-cuda 'torch==2.13.0'); fi
fi
"$py" -c 'import torch; assert torch.cuda.is_available(), "this torch sees no GPU"; print("PyTorch", torch.__version__, torch.cuda.get_device_name(0))'
npx tsx bench/gpu-check.ts "$py"
