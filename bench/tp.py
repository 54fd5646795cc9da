#!/usr/bin/env python3
"""Tensor parallelism on CPU ranks: per-rank weight bytes and decode step
time of llmc --tp N against --tp 1, in one command, on one machine.

Uses the ~125M-parameter random Llama of cpu_decode.py (hidden 768, 12
layers, 12 heads, 4 KV heads, MLP 2048, vocab 32000; fp32, made once in
--work). Compiles it at --tp 1 and each --tp given, then runs --rounds
rounds; every round measures every degree at batch 1 and 16, each in a
fresh llm-run (which starts its ranks with mpirun), in a seeded random
order. Decode tokens/s come from llm-run's own timing (prefill and loading
excluded). TP=1 runs all cores in one process; TP=N runs N ranks of
cores/N threads each. Reports the per-rank weight bytes from the
manifests and the median per-round ratio TP=N / TP=1.

    python3 bench/tp.py --build build [--tp 2] [--rounds 3]
"""
import argparse
import json
import os
import pathlib
import random
import statistics
import tempfile

from benchlib import print_table
from cpu_decode import llmc_compile, llmc_decode, make_model


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(),
                                                   "llmc-bench"))
    ap.add_argument("--tp", type=int, action="append",
                    help="degrees to compare with 1 (default: 2)")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu", default="native")
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()
    degrees = [1] + (args.tp or [2])

    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model_dir = make_model(work)
    build = pathlib.Path(args.build)
    arts = {}
    for tp in degrees:
        arts[tp] = work / f"llama-125m.tp{tp}.llmc"
        llmc_compile(build, model_dir, arts[tp],
                     ("--cpu", args.cpu, "--tp", str(tp)))

    def rank_bytes(tp):
        m = json.loads((arts[tp] / "manifest.json").read_text())
        ranks = m.get("ranks") or [m]
        return [r["weights"]["bytes"] for r in ranks]

    runs = [(tp, b) for tp in degrees for b in (1, 16)]
    tps = {r: [] for r in runs}
    order = random.Random(0)
    for rnd in range(args.rounds):
        for tp, batch in order.sample(runs, len(runs)):
            v = llmc_decode(build, arts[tp], model_dir, args.tokens, batch)
            tps[(tp, batch)].append(v)
            print(f"round {rnd + 1}: tp {tp} batch {batch:2}: {v:8.2f} "
                  "tokens/s", flush=True)

    rows = [("model", "Llama 125M (768/12L/12H/4KV/2048/32000), fp32, random"),
            ("rounds", f"{args.rounds}, each run a fresh llm-run, random "
                       "order per round")]
    for tp in degrees:
        b = rank_bytes(tp)
        rows.append((f"tp {tp}: weight bytes per rank",
                     ", ".join(f"{x / 1e6:.1f} MB" for x in b)))
    for batch in (1, 16):
        for tp in degrees:
            xs = tps[(tp, batch)]
            rows.append((f"batch {batch}, tp {tp}",
                         f"{statistics.median(xs):.2f} tokens/s (min "
                         f"{min(xs):.2f}, max {max(xs):.2f})"))
        for tp in degrees[1:]:
            rs = [x / y for x, y in zip(tps[(tp, batch)], tps[(1, batch)])]
            rows.append((f"batch {batch}, tp {tp} / tp 1",
                         f"{statistics.median(rs):.2f}x (per round "
                         f"{', '.join(f'{r:.2f}' for r in rs)})"))
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
