"""Shared helpers for the bench/ scripts: the machine line and the result
table (printed, and optionally written as markdown)."""

import os
import subprocess


def machine():
    """The CPU the numbers were taken on: lscpu's model name, core count and
    widest x86 vector extension, so every table says what produced it."""
    info = {}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True,
                             check=True).stdout
        for line in out.splitlines():
            key, _, value = line.partition(":")
            info[key.strip()] = value.strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    flags = set(info.get("Flags", "").split())
    isa = ("AVX-512" if "avx512f" in flags else
           "AVX2" if "avx2" in flags else "no AVX2")
    model = info.get("Model name", "unknown CPU")
    family = info.get("CPU family", "?")
    number = info.get("Model", "?")
    return (f"{model} (family {family} model {number}), "
            f"{os.cpu_count()} CPUs, {isa}")


def print_table(rows, markdown=None):
    """Prints (measure, value) rows aligned, preceded by the machine line;
    with `markdown`, also writes them there as a table."""
    rows = [("machine", machine())] + list(rows)
    width = max(len(r[0]) for r in rows)
    print()
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if markdown:
        with open(markdown, "w") as f:
            f.write("| measure | value |\n|---|---|\n")
            for k, v in rows:
                f.write(f"| {k} | {v} |\n")
