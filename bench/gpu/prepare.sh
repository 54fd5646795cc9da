#!/usr/bin/env bash
# Run on the development machine (which has LLVM, the GPU machine does not):
# packs into gpu-bundle/ what bench/gpu/check.sh needs on the GPU machine:
#   bin/llm-run and the shared libraries it needs beyond the C/C++ runtime,
#   art/<model>.llmc   every bundled tiny model compiled --target=cuda,
#   art/llama-1b.llmc  the Llama-3.2-1B shape (configs only: no weights),
#   bin/llmc-runtime-tests  (the NCCL test: world size 1 on the GPU),
#   art-tp/llama-tiny.tp2.llmc  tensor-parallel, for a machine of 2+ GPUs.
# Then, with the device tool: carry gpu-bundle, run bench/gpu/check.sh.
#
#   bench/gpu/prepare.sh [--build build] [--arch sm_90a] [--out gpu-bundle]
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=build
ARCH=sm_90a
OUTDIR=gpu-bundle
while [ $# -gt 0 ]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --arch) ARCH=$2; shift 2 ;;
    --out) OUTDIR=$2; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) echo "prepare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
[ -x "$BUILD/bin/llmc" ] && [ -x "$BUILD/bin/llm-run" ] ||
  { echo "prepare.sh: build llmc and llm-run first ($BUILD/bin)" >&2; exit 1; }
rm -rf "$OUTDIR"
mkdir -p "$OUTDIR/bin" "$OUTDIR/lib" "$OUTDIR/art" "$OUTDIR/art-tp"
cp "$BUILD/bin/llm-run" "$BUILD/bin/llmc-runtime-tests" "$OUTDIR/bin/"
# Shared libraries beyond libc/libstdc++ (the GPU machine has newer ones).
ldd "$BUILD/bin/llm-run" "$BUILD/bin/llmc-runtime-tests" |
  awk '/=> \// {print $3}' | sort -u | while read -r lib; do
  case "$(basename "$lib")" in
    libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|\
    libstdc++.so*|libgcc_s.so*) ;;
    *) cp -L "$lib" "$OUTDIR/lib/" ;;
  esac
done
for dir in models/tiny/*/; do
  name=$(basename "$dir")
  [ -f "$dir/golden/prompts.json" ] || continue
  "$BUILD/bin/llmc" "$dir" --target=cuda --arch="$ARCH" \
    -o "$OUTDIR/art/$name.llmc" --max-seq-len=160
done
"$BUILD/bin/llmc" models/tiny/llama-tiny --target=cuda --arch="$ARCH" --tp 2 \
  -o "$OUTDIR/art-tp/llama-tiny.tp2.llmc" --max-seq-len=160
python3 - "$OUTDIR/art" <<'PY'
import json, pathlib, sys
sys.path.insert(0, "bench")
import load
d = pathlib.Path(sys.argv[1]) / "llama-1b-config"
d.mkdir(parents=True, exist_ok=True)
(d / "config.json").write_text(json.dumps(load.CONFIG, indent=1))
PY
"$BUILD/bin/llmc" "$OUTDIR/art/llama-1b-config" --target=cuda --arch="$ARCH" \
  -o "$OUTDIR/art/llama-1b.llmc" --max-seq-len=512 --max-batch-tokens=512
du -sh "$OUTDIR"
echo "prepare.sh: carry gpu-bundle and run bench/gpu/check.sh on the GPU"
