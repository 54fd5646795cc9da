#!/usr/bin/env python3
"""Load time and resident memory of llm-run on a Llama-3.2-1B-shaped bf16
checkpoint (random weights, 2.5 GB), from start to the first generated
token.

Writes the checkpoint once (bf16 safetensors + config.json, no tokenizer)
under --work, compiles its config, then runs `llm-run --prompt-ids ...
--max-tokens 1` in a fresh process per round and reports the median of
its `load_s` (artifact, KV pool, weights read and converted), the wall
time of the whole run, and its peak RSS, for the artifact that keeps the
bf16 weights (the default, --weight-dtype auto) and one that widens them
to f32 (--weight-dtype f32), interleaved. With --baseline-build, another
build's llm-run runs in the same rounds too.

    python3 bench/load.py --build build [--baseline-build OLD/build]
"""
import argparse
import json
import os
import pathlib
import random
import statistics
import subprocess
import tempfile
import time

import numpy as np

from benchlib import print_table

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "vocab_size": 128256,
    "hidden_size": 2048,
    "intermediate_size": 8192,
    "num_hidden_layers": 16,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 64,
    "hidden_act": "silu",
    "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-5,
    "rope_theta": 500000.0,
    "rope_scaling": {"rope_type": "llama3", "factor": 32.0,
                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192},
    "tie_word_embeddings": True,
    "torch_dtype": "bfloat16",
    "bos_token_id": 128000,
    "eos_token_id": 128001,
    "attention_bias": False,
    "mlp_bias": False,
}


def tensors():
    c = CONFIG
    h, i, v = c["hidden_size"], c["intermediate_size"], c["vocab_size"]
    kv = c["num_key_value_heads"] * c["head_dim"]
    yield "model.embed_tokens.weight", [v, h]
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        yield p + "input_layernorm.weight", [h]
        yield p + "post_attention_layernorm.weight", [h]
        yield p + "self_attn.q_proj.weight", [h, h]
        yield p + "self_attn.k_proj.weight", [kv, h]
        yield p + "self_attn.v_proj.weight", [kv, h]
        yield p + "self_attn.o_proj.weight", [h, h]
        yield p + "mlp.gate_proj.weight", [i, h]
        yield p + "mlp.up_proj.weight", [i, h]
        yield p + "mlp.down_proj.weight", [h, i]
    yield "model.norm.weight", [h]


def make_checkpoint(model):
    """bf16 safetensors written directly: random finite values (a block of
    random bf16 numbers tiled over each tensor)."""
    st = model / "model.safetensors"
    if st.exists():
        return
    model.mkdir(parents=True, exist_ok=True)
    (model / "config.json").write_text(json.dumps(CONFIG, indent=1))
    rng = np.random.default_rng(0)
    pool = (rng.standard_normal(1 << 22, dtype=np.float32) * 0.02)
    pool = (pool.view(np.uint32) >> 16).astype(np.uint16)
    header, offset = {}, 0
    for name, shape in tensors():
        n = int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": shape,
                        "data_offsets": [offset, offset + 2 * n]}
        offset += 2 * n
    blob = json.dumps(header).encode()
    blob += b" " * (-len(blob) % 8)
    tmp = st.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        f.write(len(blob).to_bytes(8, "little"))
        f.write(blob)
        for name, shape in tensors():
            n = int(np.prod(shape))
            reps = -(-n // pool.size)
            f.write(np.tile(pool, reps)[:n].tobytes())
    tmp.rename(st)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--baseline-build",
                    help="another build to measure in the same rounds")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(),
                                                   "llmc-bench-load"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()

    work = pathlib.Path(args.work)
    model = work / "llama-3.2-1b-shaped"
    print("writing the checkpoint (once) ...", flush=True)
    make_checkpoint(model)
    # llmc keeps the bf16 weights (--weight-dtype auto); "llmc-f32" widens
    # them at load, as every build before bf16 kernels did.
    builds = {"llmc": pathlib.Path(args.build),
              "llmc-f32": pathlib.Path(args.build)}
    flags = {"llmc-f32": ["--weight-dtype", "f32"]}
    if args.baseline_build:
        builds["baseline"] = pathlib.Path(args.baseline_build)
    arts = {}
    for name, build in builds.items():
        art = work / f"{name}.llmc"
        subprocess.run([str(build / "bin/llmc"), str(model), "-o", str(art),
                        *flags.get(name, [])],
                       check=True, capture_output=True)
        arts[name] = art

    results = {name: [] for name in builds}
    rng = random.Random(1)
    for r in range(args.rounds):
        order = list(builds)
        rng.shuffle(order)
        for name in order:
            load, wall, rss = measure(builds[name] / "bin/llm-run",
                                      arts[name], model)
            results[name].append((load, wall, rss))
            print(f"round {r + 1}: {name:<8} load {load:6.2f} s, run "
                  f"{wall:6.2f} s, peak RSS {rss / 1e9:5.2f} GB", flush=True)

    size = (model / "model.safetensors").stat().st_size
    rows = [("checkpoint", f"Llama-3.2-1B shape, bf16, {size / 1e9:.2f} GB"),
            ("rounds", f"{args.rounds}, each run a fresh process")]
    for name, rs in results.items():
        rows.append((f"{name}: load", f"{statistics.median(x[0] for x in rs):.2f} s"
                     f" (min {min(x[0] for x in rs):.2f})"))
        rows.append((f"{name}: run to first token",
                     f"{statistics.median(x[1] for x in rs):.2f} s"))
        rows.append((f"{name}: peak RSS",
                     f"{statistics.median(x[2] for x in rs) / 1e9:.2f} GB"))
    print_table(rows, args.markdown)


def measure(llm_run, art, model):
    """Runs llm-run and reads its peak RSS from wait4's rusage."""
    cmd = [str(llm_run), str(art), "--weights", str(model),
           "--prompt-ids", "128000 9906 1917", "--max-tokens", "1",
           "--ignore-eos", "--format", "json"]
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    if status != 0:
        raise SystemExit(f"{llm_run} failed:\n{err.decode()}")
    timing = json.loads(out)["timing"]
    return timing["load_s"], wall, usage.ru_maxrss * 1024


if __name__ == "__main__":
    main()
