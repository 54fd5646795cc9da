#!/usr/bin/env bash
# README command 1: install, build, compile the bundled demo model for the
# CPU and generate text with it, offline.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
MODEL=${LLMC_DEMO_MODEL:-models/demo}
PROMPT=${LLMC_DEMO_PROMPT:-"This program is free software"}
echo "== llmc $MODEL -> build/demo.llmc"
./build/bin/llmc "$MODEL" -o build/demo.llmc
echo "== llm-run build/demo.llmc --prompt \"$PROMPT\""
./build/bin/llm-run build/demo.llmc --weights "$MODEL" --prompt "$PROMPT" \
  --max-tokens 64
