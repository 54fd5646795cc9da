#!/usr/bin/env bash
# Installs what llmc needs to build (and with --test, to test),
# idempotently: Debian packages (LLVM/MLIR 22, build tools, libraries) and,
# for the tests, NumPy, the openai client, jinja2, websocket-client,
# Chromium (the chat page test), SLURM + munge (srun launch test) and
# clang with libFuzzer (the fuzz targets). Installs only what is missing; uses sudo
# only when not root.
set -euo pipefail
TEST=0
if [ "${1:-}" = "--test" ]; then TEST=1; fi

PACKAGES=(
  build-essential cmake ninja-build ccache lld git python3 python3-pip
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libfmt-dev nlohmann-json3-dev libcli11-dev libgtest-dev libpcre2-dev
  pkg-config clang-format python3-numpy libcpp-httplib-dev
  libopenmpi-dev openmpi-bin libutf8proc-dev
)
# The tests: the chat page's browser, and SLURM (a private one-node
# cluster started by test/e2e/slurm.py to launch ranks with srun).
if [ "$TEST" = 1 ]; then
  PACKAGES+=(chromium slurmd slurmctld slurm-client munge)
  # The fuzz targets: clang with libFuzzer (scripts/fuzz.sh).
  PACKAGES+=(clang libclang-rt-14-dev)
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages present"
fi

# The end-to-end tests compare against NumPy goldens with whichever python3
# comes first on PATH (it may not be Debian's, which python3-numpy serves).
if ! python3 -c "import numpy" 2>/dev/null; then
  echo "setup: installing numpy for $(command -v python3)"
  python3 -m pip install --quiet numpy
fi
# The server tests drive llm-run serve through the official openai client,
# and check the chat-template interpreter against jinja2.
# The chat page is tested in headless Chromium over the DevTools protocol.
if [ "$TEST" = 1 ] && ! python3 -c "import openai, jinja2, websocket" 2>/dev/null; then
  echo "setup: installing openai, jinja2, websocket-client for" \
    "$(command -v python3)"
  python3 -m pip install --quiet openai jinja2 websocket-client ||
    python3 -m pip install --quiet --break-system-packages openai jinja2 \
      websocket-client
fi
