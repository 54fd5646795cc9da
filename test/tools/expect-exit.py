#!/usr/bin/env python3
"""expect-exit.py N CMD...: runs CMD, forwards its output, and exits 0 only
when CMD exited with status N (1 otherwise, saying what it got)."""
import subprocess
import sys

want = int(sys.argv[1])
r = subprocess.run(sys.argv[2:])
if r.returncode != want:
    print(f"expect-exit: expected exit {want}, got {r.returncode}",
          file=sys.stderr)
    sys.exit(1)
