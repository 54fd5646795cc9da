#!/usr/bin/env bash
# Builds the runtime, llm-run and the runtime's tests with AddressSanitizer
# and UndefinedBehaviorSanitizer in build-asan (no compiler: the packaged
# LLVM is not instrumented) and runs the runtime's unit tests and the
# end-to-end parity tests under them, with llmc from the regular build.
# Any sanitizer report fails the run.
#
#   scripts/sanitize.sh [--build build]
set -euo pipefail
cd "$(dirname "$0")/.."
MAIN=build
while [ $# -gt 0 ]; do
  case "$1" in
    --build) MAIN=$2; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) echo "sanitize.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$MAIN/bin/llmc" ] ||
  { echo "sanitize.sh: build llmc first ($MAIN/bin/llmc)" >&2; exit 1; }
BUILD=build-asan
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLLMC_BUILD_COMPILER=OFF -DLLMC_SANITIZE=ON >/dev/null
if ! out=$(ninja -C "$BUILD" llm-run llmc-runtime-tests 2>&1); then
  echo "$out" | grep -E "error|FAILED" -A3 >&2
  exit 1
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allow_user_poisoning=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
echo "sanitize.sh: runtime unit tests"
"$BUILD/bin/llmc-runtime-tests" --gtest_brief=1
echo "sanitize.sh: parity under ASan + UBSan"
for args in "llama-tiny" "gpt2-tiny --batch" "qwen2-sliding --batch" \
            "mistral-tiny --llmc-arg=--max-batch-tokens=16 --batch" \
            "llama-f32-as-bf16 --llmc-arg=--kv-dtype=f16 --rtol=1e-2"; do
  set -- $args
  model=$1; shift
  python3 test/e2e/parity.py --llmc "$MAIN/bin/llmc" \
    --llm-run "$BUILD/bin/llm-run" --model "models/tiny/$model" "$@"
done
echo "sanitize.sh: clean"
