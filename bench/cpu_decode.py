#!/usr/bin/env python3
"""CPU decode benchmark: llmc against transformers' own generate (and,
with --baseline-build, against another llmc build), in one command on one
machine, at batch 1 and batch 16.

Makes (once, cached in --work) a ~125M-parameter Llama with random weights
(hidden 768, 12 layers, 12 heads, 4 KV heads, MLP 2048, vocab 32000; fp32),
compiles it with each llmc build (--cpu native), then runs --rounds rounds.
Every round measures every engine at batch 1 and 16, each run in a fresh
process, in a (seeded) random order per round:
  - llmc (and the baseline build): decode tokens/s from llm-run's own
    timing (prefill and weight loading excluded; batch 16 = 16 prompts in
    the same steps);
  - transformers: model.generate (PyTorch eager, fp32, greedy, all cores),
    decode tokens/s as new tokens over the time after the first token.
The report gives each engine's median and min-max, and the median of the
per-round ratios (llmc / transformers, llmc / baseline). Also: the
memory-bandwidth floor (weight bytes / measured copy bandwidth), compile
time and the compile report. --markdown writes the table for
docs/performance.md. Needs torch + transformers + numpy.

    python3 bench/cpu_decode.py --build build [--baseline-build OLD/build]
"""
import argparse
import json
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchlib import print_table

CONFIG = dict(vocab_size=32000, hidden_size=768, intermediate_size=2048,
              num_hidden_layers=12, num_attention_heads=12,
              num_key_value_heads=4, max_position_embeddings=2048,
              rms_norm_eps=1e-5, tie_word_embeddings=False)
PROMPT_LEN = 8


def make_model(work):
    import torch
    import transformers
    model_dir = work / "llama-125m"
    if (model_dir / "model.safetensors").exists():
        return model_dir
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**CONFIG))
    model.save_pretrained(model_dir)
    return model_dir


def copy_bandwidth():
    """Bytes/s moved by a large copy, reads and writes both counted (the
    STREAM convention): the best of a few runs."""
    a = np.ones(256 * 1024 * 1024 // 4, dtype=np.float32)
    b = np.empty_like(a)
    best = 0.0
    for _ in range(5):
        t = time.perf_counter()
        np.copyto(b, a)
        best = max(best, 2 * a.nbytes / (time.perf_counter() - t))
    return best


def prompts(batch):
    return [[1 + i + j for j in range(PROMPT_LEN)] for i in range(batch)]


def llmc_compile(build, model_dir, out, extra=()):
    t = time.perf_counter()
    subprocess.run([str(build / "bin/llmc"), str(model_dir), "-o", str(out),
                    "--max-seq-len", "512", *extra], check=True)
    return time.perf_counter() - t


def llmc_decode(build, art, model_dir, tokens, batch):
    """Decode tokens/s over all sequences (prefill excluded)."""
    args = []
    for p in prompts(batch):
        args += ["--prompt-ids", " ".join(map(str, p))]
    out = json.loads(subprocess.run(
        [str(build / "bin/llm-run"), str(art), "--weights", str(model_dir),
         *args, "--max-tokens", str(tokens), "--ignore-eos", "--format",
         "json"], check=True, capture_output=True, text=True).stdout)
    timing = (out[0] if batch > 1 else out)["timing"]
    return batch * timing["decode_steps"] / timing["decode_s"]


def hf_worker(model_dir, tokens, batch):
    """Runs in its own process: transformers' decode tokens/s."""
    import torch
    import transformers
    torch.set_num_threads(os.cpu_count())
    model = transformers.AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32).eval()
    ids = torch.tensor(prompts(batch))
    with torch.no_grad():
        model.generate(ids, max_new_tokens=4, do_sample=False,
                       pad_token_id=0)  # warm up
        t = time.perf_counter()
        model.generate(ids, max_new_tokens=1, do_sample=False, pad_token_id=0)
        first = time.perf_counter() - t
        t = time.perf_counter()
        model.generate(ids, max_new_tokens=tokens, do_sample=False,
                       pad_token_id=0, min_new_tokens=tokens)
        total = time.perf_counter() - t
    print(json.dumps(batch * (tokens - 1) / max(total - first, 1e-9)))


def hf_decode(model_dir, tokens, batch):
    out = subprocess.run(
        [sys.executable, __file__, "--hf-worker", str(model_dir),
         "--tokens", str(tokens), "--batch", str(batch)],
        check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def report(build, model_dir, work, extra=()):
    path = work / "report.json"
    subprocess.run([str(build / "bin/llmc"), str(model_dir), "-o",
                    str(work / "r.llmc"), "--report", str(path), *extra],
                   check=True)
    return json.loads(path.read_text())


def spread(xs):
    return (f"{statistics.median(xs):.2f} tokens/s "
            f"(min {min(xs):.2f}, max {max(xs):.2f})")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--baseline-build",
                    help="another llmc build to measure in the same rounds")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(),
                                                   "llmc-bench"))
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cpu", default="native")
    ap.add_argument("--no-transformers", action="store_true",
                    help="measure the llmc builds only")
    ap.add_argument("--markdown", help="also write the table here")
    ap.add_argument("--hf-worker", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hf_worker:
        return hf_worker(args.hf_worker, args.tokens, args.batch)

    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model_dir = make_model(work)
    weight_bytes = sum(p.stat().st_size
                       for p in model_dir.glob("*.safetensors"))

    builds = {"llmc": pathlib.Path(args.build)}
    if args.baseline_build:
        builds["baseline"] = pathlib.Path(args.baseline_build)
    artifacts, compile_s = {}, {}
    for name, build in builds.items():
        artifacts[name] = work / f"{name}.llmc"
        compile_s[name] = llmc_compile(build, model_dir, artifacts[name],
                                       ("--cpu", args.cpu))

    engines = list(builds) + ([] if args.no_transformers else ["transformers"])
    runs = [(e, b) for e in engines for b in (1, 16)]
    tps = {r: [] for r in runs}
    order = random.Random(0)
    for rnd in range(args.rounds):
        for engine, batch in order.sample(runs, len(runs)):
            if engine == "transformers":
                v = hf_decode(model_dir, args.tokens, batch)
            else:
                v = llmc_decode(builds[engine], artifacts[engine], model_dir,
                                args.tokens, batch)
            tps[(engine, batch)].append(v)
            print(f"round {rnd + 1}: {engine:12} batch {batch:2}: "
                  f"{v:8.2f} tokens/s", flush=True)

    def ratio(a, b, batch):
        rs = [x / y for x, y in zip(tps[(a, batch)], tps[(b, batch)])]
        return (f"{statistics.median(rs):.2f}x (per round "
                f"{', '.join(f'{r:.2f}' for r in rs)})")

    bw = copy_bandwidth()
    floor_tps = bw / weight_bytes
    fused = report(builds["llmc"], model_dir, work)
    plain = report(builds["llmc"], model_dir, work, ("--no-fuse",))
    rows = [("model", "Llama 125M (768/12L/12H/4KV/2048/32000), fp32, random"),
            ("rounds", f"{args.rounds}, each engine in a fresh process, "
                       "in a random order per round")]
    for batch in (1, 16):
        for e in engines:
            rows.append((f"{e} decode, batch {batch}", spread(tps[(e, batch)])))
        if "transformers" in engines:
            rows.append((f"llmc / transformers, batch {batch}",
                         ratio("llmc", "transformers", batch)))
        if "baseline" in engines:
            rows.append((f"llmc / baseline, batch {batch}",
                         ratio("llmc", "baseline", batch)))
    llmc1 = statistics.median(tps[("llmc", 1)])
    rows += [
        ("bandwidth floor", f"{floor_tps:.2f} tokens/s "
         f"({weight_bytes / 1e6:.0f} MB of weights at {bw / 1e9:.1f} GB/s "
         "copy bandwidth)"),
        ("floor / llmc time", f"{floor_tps / llmc1:.2f}x the floor's time "
         "per token"),
    ]
    for name in builds:
        rows.append((f"{name} compile time", f"{compile_s[name]:.2f} s"))
    rows += [
        ("kernels per layer", f"{fused['kernels_per_layer']} fused, "
         f"{plain['kernels_per_layer']} unfused"),
        ("launches per step", f"{fused['launches_per_step']} "
         f"({fused['distinct_kernels']} distinct kernels)"),
        ("arena", f"{fused['arena_bytes']} bytes "
         f"(naive {fused['naive_arena_bytes']})"),
    ]
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
