#!/usr/bin/env python3
"""CPU decode benchmark: llmc against transformers' own generate, in one
command on one machine, at batch 1 and batch 16.

Makes (once, cached in --work) a ~125M-parameter Llama with random weights
(hidden 768, 12 layers, 12 heads, 4 KV heads, MLP 2048, vocab 32000; fp32),
then measures at batch 1 and 16 (8-token prompts):
  - llmc: compile time, and decode tokens/s from llm-run's own timing
    (prefill and weight loading excluded; batch 16 = 16 prompts in the
    same steps);
  - transformers: model.generate (PyTorch eager, fp32, greedy), decode
    tokens/s as new tokens over the time after the first token;
  - the memory-bandwidth floor: weight bytes / measured copy bandwidth.
Also the compile report (kernels per layer fused and not, arena at 2 and at
the real layer count). Prints a table; --markdown writes it for
docs/performance.md. Needs torch + transformers + numpy.

    python3 bench/cpu_decode.py --build build --tokens 64
"""
import argparse
import json
import os
import pathlib
import subprocess
import tempfile
import time

import numpy as np

CONFIG = dict(vocab_size=32000, hidden_size=768, intermediate_size=2048,
              num_hidden_layers=12, num_attention_heads=12,
              num_key_value_heads=4, max_position_embeddings=2048,
              rms_norm_eps=1e-5, tie_word_embeddings=False)


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


def llmc_compile(build, model_dir, work, extra=()):
    art = work / "bench.llmc"
    t = time.perf_counter()
    subprocess.run([str(build / "bin/llmc"), str(model_dir), "-o", str(art),
                    "--max-seq-len", "512", *extra], check=True)
    return art, time.perf_counter() - t


def llmc_decode(build, art, model_dir, tokens, batch):
    """Decode tokens/s over all sequences (prefill excluded)."""
    prompts = []
    for i in range(batch):
        prompts += ["--prompt-ids", " ".join(str(1 + i + j) for j in range(8))]
    out = json.loads(subprocess.run(
        [str(build / "bin/llm-run"), str(art), "--weights", str(model_dir),
         *prompts, "--max-tokens", str(tokens), "--ignore-eos", "--format",
         "json"], check=True, capture_output=True, text=True).stdout)
    timing = (out[0] if batch > 1 else out)["timing"]
    return batch * timing["decode_steps"] / timing["decode_s"]


def hf_decode(model_dir, tokens, batch=1):
    import torch
    import transformers
    torch.set_num_threads(os.cpu_count())
    model = transformers.AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32).eval()
    ids = torch.tensor([[1 + i + j for j in range(8)] for i in range(batch)])
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
    return batch * (tokens - 1) / max(total - first, 1e-9)


def report(build, model_dir, work, extra=()):
    path = work / "report.json"
    subprocess.run([str(build / "bin/llmc"), str(model_dir), "-o",
                    str(work / "r.llmc"), "--report", str(path), *extra],
                   check=True)
    return json.loads(path.read_text())


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(),
                                                   "llmc-bench"))
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--cpu", default="native")
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()
    build, work = pathlib.Path(args.build), pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model_dir = make_model(work)
    weight_bytes = sum(p.stat().st_size for p in model_dir.glob("*.safetensors"))

    art, compile_s = llmc_compile(build, model_dir, work, ("--cpu", args.cpu))
    llmc_tps = llmc_decode(build, art, model_dir, args.tokens, 1)
    hf_tps = hf_decode(model_dir, args.tokens)
    llmc_b16 = llmc_decode(build, art, model_dir, args.tokens, 16)
    hf_b16 = hf_decode(model_dir, args.tokens, 16)
    bw = copy_bandwidth()
    floor_tps = bw / weight_bytes
    fused = report(build, model_dir, work)
    plain = report(build, model_dir, work, ("--no-fuse",))

    rows = [
        ("model", "Llama 125M (768/12L/12H/4KV/2048/32000), fp32, random"),
        ("llmc decode, batch 1", f"{llmc_tps:.2f} tokens/s"),
        ("transformers generate, batch 1", f"{hf_tps:.2f} tokens/s"),
        ("llmc / transformers", f"{llmc_tps / hf_tps:.2f}x (target >= 1.5x)"),
        ("llmc decode, batch 16", f"{llmc_b16:.2f} tokens/s"),
        ("transformers generate, batch 16", f"{hf_b16:.2f} tokens/s"),
        ("llmc / transformers, batch 16",
         f"{llmc_b16 / hf_b16:.2f}x (target >= 2x)"),
        ("bandwidth floor", f"{floor_tps:.2f} tokens/s "
         f"({weight_bytes / 1e6:.0f} MB of weights at {bw / 1e9:.1f} GB/s "
         "copy bandwidth)"),
        ("floor / llmc time", f"{floor_tps / llmc_tps:.2f}x the floor's time "
         "per token (target <= 1.3x)"),
        ("compile time", f"{compile_s:.1f} s (target < 30 s)"),
        ("kernels per layer", f"{fused['kernels_per_layer']} fused, "
         f"{plain['kernels_per_layer']} unfused (target <= 7)"),
        ("launches per step", f"{fused['launches_per_step']}"),
        ("arena", f"{fused['arena_bytes']} bytes "
         f"(naive {fused['naive_arena_bytes']})"),
    ]
    width = max(len(r[0]) for r in rows)
    for k, v in rows:
        print(f"{k:<{width}}  {v}")
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write("| measure | value |\n|---|---|\n")
            for k, v in rows:
                f.write(f"| {k} | {v} |\n")


if __name__ == "__main__":
    main()
