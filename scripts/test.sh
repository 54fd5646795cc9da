#!/usr/bin/env bash
# README command 2: install, build and run the whole test suite (lit,
# GoogleTest and repository checks) through ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh --test
./scripts/build.sh
BUILD_DIR=${LLMC_BUILD_DIR:-build}
ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)"
