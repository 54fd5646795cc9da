#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/: clang, ASan + UBSan on llmc's own
# code; the packaged LLVM/MLIR the config target links are not instrumented)
# in build-fuzz and runs each for --seconds, from the seeds in
# fuzz/corpus/<target> plus the shared tiny models' files. A crash, leak,
# sanitizer report or timeout fails the run and leaves its input in
# build-fuzz/crashes/.
#
#   scripts/fuzz.sh [--seconds 25] [target ...]   # safetensors tokenizer manifest openai jinja config
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=25
TARGETS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECS=$2; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) TARGETS+=("$1"); shift ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(safetensors tokenizer manifest openai jinja config)
command -v clang++ >/dev/null ||
  { echo "fuzz.sh: needs clang++ with libFuzzer (apt install clang)" >&2; exit 1; }
BUILD=build-fuzz
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLLMC_BUILD_COMPILER=ON -DLLMC_BUILD_TESTS=OFF -DLLMC_FUZZ=ON \
  -DLLMC_ENABLE_CUDA=OFF >/dev/null
if ! out=$(ninja -C "$BUILD" $(printf 'fuzz-%s ' "${TARGETS[@]}") 2>&1); then
  echo "$out" | grep -E "error|FAILED" -A3 >&2
  exit 1
fi
mkdir -p "$BUILD/crashes"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:allow_user_poisoning=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for t in "${TARGETS[@]}"; do
  corpus=$(mktemp -d)
  seeds=$(mktemp -d)
  cp fuzz/corpus/"$t"/* "$seeds"/ 2>/dev/null || true
  for m in models/tiny/*/; do
    n=$(basename "$m")
    case "$t" in
      safetensors) [ -f "$m/model.safetensors" ] &&
        head -c 65536 "$m/model.safetensors" > "$seeds/$n" ;;
      tokenizer) [ -f "$m/tokenizer.json" ] &&
        { printf '\001'; head -c 60000 "$m/tokenizer.json"; } > "$seeds/$n" ;;
      config) cp "$m/config.json" "$seeds/$n" ;;
    esac || true
  done
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=(-dict="fuzz/$t.dict")
  echo "fuzz.sh: $t for ${SECS} s"
  if ! "$BUILD/bin/fuzz-$t" -max_total_time="$SECS" -timeout=20 \
      -rss_limit_mb=2560 -max_len=65536 -print_final_stats=1 "${dict[@]}" \
      -artifact_prefix="$BUILD/crashes/$t-" "$corpus" "$seeds" \
      > "$BUILD/fuzz-$t.log" 2>&1; then
    echo "fuzz.sh: $t FAILED (input in $BUILD/crashes/):" >&2
    tail -60 "$BUILD/fuzz-$t.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" \
      "$BUILD/fuzz-$t.log" | sed "s/^/fuzz.sh: $t: /"
  fi
  rm -rf "$corpus" "$seeds"
done
exit $status
