#!/usr/bin/env python3
"""Compile time and kernel library size against model depth: Llama-3-8B
(32 layers) and Llama-3-70B (80 layers) configs, compiled by llmc (configs
only: the compiler needs no weights).

Every round compiles each config once, each in a fresh llmc process, in an
order that alternates between rounds; the report gives the median time per
config, the median of the per-round 70B/8B time ratio, and the sizes of the
kernel libraries (target: 70B within 1.3x the 8B time and within 10% of its
library). With --baseline-build, the same rounds also run another build's
llmc (e.g. the one before kernels were shared across layers), interleaved,
and its numbers are reported beside.

    python3 bench/compile_depth.py --build build [--baseline-build OLD/build]
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import tempfile
import time

from benchlib import print_table

LLAMA3 = dict(architectures=["LlamaForCausalLM"], model_type="llama",
              vocab_size=128256, rms_norm_eps=1e-5, hidden_act="silu",
              max_position_embeddings=131072, tie_word_embeddings=False,
              bos_token_id=128000, eos_token_id=[128001, 128008, 128009],
              rope_theta=500000.0, torch_dtype="bfloat16",
              rope_scaling=dict(rope_type="llama3", factor=8.0,
                                low_freq_factor=1.0, high_freq_factor=4.0,
                                original_max_position_embeddings=8192))
CONFIGS = {
    "llama3-8b": dict(LLAMA3, hidden_size=4096, intermediate_size=14336,
                      num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8),
    "llama3-70b": dict(LLAMA3, hidden_size=8192, intermediate_size=28672,
                       num_hidden_layers=80, num_attention_heads=64,
                       num_key_value_heads=8),
}


def library_of(artifact):
    """The artifact's compiled program: the kernel library (format 2) or the
    step library (format 1)."""
    m = json.loads((artifact / "manifest.json").read_text())
    prog = m["program"]
    return artifact / prog["library"], len(prog.get("kernels", [])) or None


def compile_once(llmc, model_dir, out):
    t = time.perf_counter()
    subprocess.run([str(llmc), str(model_dir), "-o", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - t
    lib, kernels = library_of(out)
    return seconds, lib.stat().st_size, kernels


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--baseline-build",
                    help="another build to measure in the same rounds")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(),
                                                   "llmc-compile-depth"))
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    for name, cfg in CONFIGS.items():
        (work / name).mkdir(exist_ok=True)
        (work / name / "config.json").write_text(json.dumps(cfg, indent=2))
    builds = {"llmc": pathlib.Path(args.build) / "bin/llmc"}
    if args.baseline_build:
        builds["baseline"] = pathlib.Path(args.baseline_build) / "bin/llmc"

    runs = [(b, c) for b in builds for c in CONFIGS]
    times = {r: [] for r in runs}
    sizes, kernels = {}, {}
    for rnd in range(args.rounds):
        order = runs if rnd % 2 == 0 else list(reversed(runs))
        for build, cfg in order:
            out = work / f"{build}-{cfg}.llmc"
            s, size, k = compile_once(builds[build], work / cfg, out)
            times[(build, cfg)].append(s)
            sizes[(build, cfg)], kernels[(build, cfg)] = size, k
            print(f"round {rnd + 1}: {build:8} {cfg:10} {s:6.2f} s, "
                  f"library {size / 1e6:.3f} MB", flush=True)

    rows = []
    for build in builds:
        small, big = (build, "llama3-8b"), (build, "llama3-70b")
        ratios = [b / s for s, b in zip(times[small], times[big])]
        size_ratio = sizes[big] / sizes[small]
        for key in (small, big):
            k = f", {kernels[key]} distinct kernels" if kernels[key] else ""
            rows.append((f"{build}: {key[1]} compile",
                         f"{statistics.median(times[key]):.2f} s "
                         f"(min {min(times[key]):.2f}, max "
                         f"{max(times[key]):.2f}), library "
                         f"{sizes[key] / 1e6:.3f} MB{k}"))
        rows.append((f"{build}: 70B / 8B time",
                     f"{statistics.median(ratios):.2f}x (per round "
                     f"{', '.join(f'{r:.2f}' for r in ratios)}; target "
                     f"<= 1.3x)"))
        rows.append((f"{build}: 70B / 8B library",
                     f"{size_ratio:.3f}x (target <= 1.10x)"))
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
