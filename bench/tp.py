#!/usr/bin/env python3
"""Tensor and pipeline parallelism on CPU ranks: per-rank weight bytes and
decode step time of llmc --tp N / --pp M against one rank, in one command,
on one machine.

Uses the ~125M-parameter random Llama of cpu_decode.py (hidden 768, 12
layers, 12 heads, 4 KV heads, MLP 2048, vocab 32000; fp32, made once in
--work). Compiles it for one rank and each --tp and --pp given (default:
--tp 2 and --pp 2), then runs --rounds rounds; every round measures every
build at batch 1 and 16, each in a fresh llm-run (which starts its ranks
with mpirun), in a seeded random order. Decode tokens/s come from
llm-run's own timing (prefill and loading excluded). One rank runs all
cores in one process; N ranks run cores/N threads each. Reports the
per-rank weight bytes from the manifests and the median per-round ratio
against one rank.

    python3 bench/tp.py --build build [--tp 2] [--pp 2] [--rounds 3]
"""
import argparse
import json
import os
import json as _json
import pathlib
import random
import statistics
import subprocess
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
                    help="tensor-parallel degrees to compare with one rank")
    ap.add_argument("--pp", type=int, action="append",
                    help="pipeline-parallel degrees to compare with one rank")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--cpu", default="native")
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()
    if not args.tp and not args.pp:
        args.tp, args.pp = [2], [2]
    one = "tp 1"
    builds = {one: ()}
    for tp in args.tp or []:
        builds[f"tp {tp}"] = ("--tp", str(tp))
    for pp in args.pp or []:
        builds[f"pp {pp}"] = ("--pp", str(pp))

    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model_dir = make_model(work)
    build = pathlib.Path(args.build)
    arts = {}
    for name, flags in builds.items():
        arts[name] = work / f"llama-125m.{name.replace(' ', '')}.llmc"
        llmc_compile(build, model_dir, arts[name],
                     ("--cpu", args.cpu, *flags))

    def rank_bytes(name):
        m = json.loads((arts[name] / "manifest.json").read_text())
        ranks = m.get("ranks") or [m]
        return [r["weights"]["bytes"] for r in ranks]

    rng = random.Random(1)
    long_prompts = [[rng.randrange(1, 30000) for _ in range(200)]
                    for _ in range(8)]

    def prefill_s(name, extra):
        cmd = [str(build / "bin/llm-run"), str(arts[name]), "--weights",
               str(model_dir), "--max-tokens", "2", "--ignore-eos",
               "--format", "json", *extra]
        for p in long_prompts:
            cmd += ["--prompt-ids", " ".join(map(str, p))]
        out = _json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                         text=True).stdout)
        return out[0]["timing"]["prefill_s"]

    runs = [(name, b) for name in builds for b in (1, 16)]
    prefills = [(name, ()) for name in builds] + [
        (name, ("--micro-batches=1",)) for name in builds
        if name.startswith("pp")]
    tps = {r: [] for r in runs}
    pre = {r: [] for r in prefills}
    order = random.Random(0)
    for rnd in range(args.rounds):
        todo = [("decode", r) for r in runs] + [("prefill", r)
                                                for r in prefills]
        for what, r in order.sample(todo, len(todo)):
            if what == "decode":
                name, batch = r
                v = llmc_decode(build, arts[name], model_dir, args.tokens,
                                batch)
                tps[r].append(v)
                print(f"round {rnd + 1}: {name} batch {batch:2}: {v:8.2f} "
                      "tokens/s", flush=True)
            else:
                v = prefill_s(*r)
                pre[r].append(v)
                print(f"round {rnd + 1}: {r[0]} {' '.join(r[1])} prefill "
                      f"8x200: {v:.3f} s", flush=True)

    rows = [("model", "Llama 125M (768/12L/12H/4KV/2048/32000), fp32, random"),
            ("rounds", f"{args.rounds}, each run a fresh llm-run, random "
                       "order per round")]
    for name in builds:
        b = rank_bytes(name)
        rows.append((f"{name}: weight bytes per rank",
                     ", ".join(f"{x / 1e6:.1f} MB" for x in b)))
    for batch in (1, 16):
        for name in builds:
            xs = tps[(name, batch)]
            rows.append((f"batch {batch}, {name}",
                         f"{statistics.median(xs):.2f} tokens/s (min "
                         f"{min(xs):.2f}, max {max(xs):.2f})"))
        for name in list(builds)[1:]:
            rs = [x / y for x, y in zip(tps[(name, batch)], tps[(one, batch)])]
            rows.append((f"batch {batch}, {name} / {one}",
                         f"{statistics.median(rs):.2f}x (per round "
                         f"{', '.join(f'{r:.2f}' for r in rs)})"))
    for name, extra in prefills:
        xs = pre[(name, extra)]
        label = f"prefill 8x200, {name}" + (" (steps whole)" if extra else "")
        rows.append((label, f"{statistics.median(xs):.3f} s (min "
                            f"{min(xs):.3f}, max {max(xs):.3f})"))
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
