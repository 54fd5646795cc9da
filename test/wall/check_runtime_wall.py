#!/usr/bin/env python3
"""Checks DESIGN contract 2: the runtime neither includes nor links LLVM/MLIR.

Fails (exit 1) when a runtime source includes an LLVM/MLIR header, when a
binary depends on libLLVM/libMLIR (ldd), or when a binary or library defines
or references symbols of the llvm:: or mlir:: namespaces (which catches
static linking too).
"""
import argparse
import pathlib
import re
import subprocess
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*[<"](llvm|llvm-c|mlir|mlir-c)/')
LIBS = re.compile(r"lib(LLVM|MLIR)[^\s]*\.so")
SYMBOLS = re.compile(r"\b(llvm|mlir)::")


def check_sources(root):
    bad = []
    for path in sorted(pathlib.Path(root).rglob("*")):
        if path.suffix not in {".h", ".hpp", ".cpp", ".cc", ".cu", ".cuh"}:
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if INCLUDE.match(line):
                bad.append(f"{path}:{n}: includes {line.strip()}")
    return bad


def symbol_name(line):
    """The symbol of an nm line: "ADDRESS TYPE NAME" or "TYPE NAME"."""
    parts = line.split(None, 2)
    if len(parts) == 3 and re.fullmatch(r"[0-9a-fA-F]+", parts[0]):
        return parts[2]
    if len(parts) >= 2 and len(parts[0]) == 1:
        return line.split(None, 1)[1]
    return None


def check_binary(path, dynamic):
    bad = []
    if dynamic:
        out = subprocess.run(["ldd", path], capture_output=True, text=True).stdout
        for lib in sorted(set(LIBS.findall(out))):
            bad.append(f"{path}: links lib{lib}")
    nm = subprocess.run(["nm", "-C", path], capture_output=True, text=True)
    if nm.returncode != 0:
        bad.append(f"{path}: nm failed: {nm.stderr.strip()}")
    hits = sorted({n for n in map(symbol_name, nm.stdout.splitlines())
                   if n and SYMBOLS.search(n)})
    for sym in hits[:5]:
        bad.append(f"{path}: has symbol {sym}")
    if len(hits) > 5:
        bad.append(f"{path}: ... and {len(hits) - 5} more llvm::/mlir:: symbols")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--source", action="append", default=[],
                    help="runtime source directory to scan for includes")
    ap.add_argument("--binary", action="append", default=[],
                    help="executable or shared library to inspect")
    ap.add_argument("--library", action="append", default=[],
                    help="static library to inspect")
    args = ap.parse_args()
    bad = []
    for root in args.source:
        bad += check_sources(root)
    for b in args.binary:
        bad += check_binary(b, dynamic=True)
    for lib in args.library:
        bad += check_binary(lib, dynamic=False)
    checked = len(args.source) + len(args.binary) + len(args.library)
    if bad:
        print("runtime/LLVM wall broken:")
        for line in bad:
            print("  " + line)
        return 1
    print(f"runtime/LLVM wall holds ({checked} items checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
