#!/usr/bin/env bash
# README command 1: install, build, and run the main job: compile the bundled
# Llama step (models/llama-tiny.mlir) through llmc-opt and print verified IR.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh
./build/bin/llmc-opt models/llama-tiny.mlir -canonicalize
