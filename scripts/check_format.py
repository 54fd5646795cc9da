#!/usr/bin/env python3
"""Fails when a tracked C++ file is not clang-format clean (LLVM style)."""
import argparse
import subprocess
import sys

EXTS = (".h", ".cpp", ".cc", ".cu", ".cuh")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--clang-format", default="clang-format")
    ap.add_argument("root")
    args = ap.parse_args()
    files = subprocess.run(
        ["git", "-C", args.root, "ls-files", "--cached", "--others",
         "--exclude-standard"], capture_output=True, text=True, check=True
    ).stdout.split()
    files = [f for f in files if f.endswith(EXTS)]
    bad = []
    for f in files:
        r = subprocess.run([args.clang_format, "--dry-run", "-Werror", f],
                           cwd=args.root, capture_output=True, text=True)
        if r.returncode != 0:
            bad.append(f)
    if bad:
        print("not clang-format clean (run clang-format -i on them):")
        for f in bad:
            print("  " + f)
        return 1
    print(f"clang-format: {len(files)} files clean")
    return 0


if __name__ == "__main__":
    sys.exit(main())
