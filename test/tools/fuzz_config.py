#!/usr/bin/env python3
"""A structure-aware fuzzer for llmc's config.json import (the compiler
links LLVM, which the libFuzzer tree does not build).

Takes the shared tiny models' configs, sets random fields (top-level and
inside rope parameters) to hostile values (zero, negative, 2^31, 2^63-1,
huge and tiny floats, wrong types, empty strings, nested lists), drops
some, and runs `llmc DIR --emit=plan` on each. Every run must end within
--timeout seconds with exit 0, or exit 2 with an `error:` line naming
config.json; anything else (a crash, a signal, a hang, exit 1) fails and
the config is kept in --keep. Seeded: the same seed replays the same
configs.

    fuzz_config.py --llmc build/bin/llmc --models models/tiny [--runs 200]
"""
import argparse
import json
import pathlib
import random
import shutil
import subprocess
import sys
import tempfile
import time

HOSTILE = [0, -1, 1, 2, 3, 7, 2**31, 2**31 - 1, 2**63 - 1, -2**63, 10**30,
           1e-300, 1e300, -0.0, 0.5, 1e-45, "", "x" * 1000, "silu", "gelu",
           [], [1, 2], [[[]]], {}, {"type": "dynamic"}, None, True, False]
ROPE_KEYS = ["rope_type", "type", "factor", "rope_theta", "low_freq_factor",
             "high_freq_factor", "original_max_position_embeddings"]


def mutate(config, rng):
    c = json.loads(json.dumps(config))
    keys = list(c.keys()) + ["head_dim", "sliding_window", "layer_types",
                             "max_window_layers", "use_sliding_window",
                             "partial_rotary_factor", "n_inner"]
    for _ in range(rng.randint(1, 4)):
        k = rng.choice(keys)
        if rng.random() < 0.15:
            c.pop(k, None)
        else:
            c[k] = rng.choice(HOSTILE)
    if rng.random() < 0.3:
        rope = {k: rng.choice(HOSTILE) for k in
                rng.sample(ROPE_KEYS, rng.randint(1, 4))}
        c[rng.choice(["rope_parameters", "rope_scaling"])] = rope
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--timeout", type=float, default=30)
    ap.add_argument("--keep", default="fuzz-config-failures")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    configs = [json.loads(p.read_text()) for p in
               sorted(pathlib.Path(args.models).glob("*/config.json"))]
    failures = 0
    outcomes = {}
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp) / "model"
        d.mkdir()
        for i in range(args.runs):
            c = mutate(rng.choice(configs), rng)
            (d / "config.json").write_text(json.dumps(c))
            try:
                r = subprocess.run([args.llmc, str(d), "--emit=plan", "-o",
                                    "/dev/null"], capture_output=True,
                                   text=True, timeout=args.timeout)
                ok = r.returncode == 0 or (
                    r.returncode == 2 and "error:" in r.stderr)
                what = f"exit {r.returncode}: {r.stderr.strip()[-600:]}"
            except subprocess.TimeoutExpired:
                ok, what = False, f"no answer in {args.timeout} s"
            outcomes[r.returncode if ok else "bad"] = outcomes.get(
                r.returncode if ok else "bad", 0) + 1
            if not ok:
                failures += 1
                keep = pathlib.Path(args.keep)
                keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(d / "config.json", keep / f"config-{i}.json")
                print(f"run {i}: {what}\n  config kept in "
                      f"{keep / f'config-{i}.json'}", file=sys.stderr)
    print(f"fuzz_config: {args.runs} configs in "
          f"{time.monotonic() - start:.0f} s, outcomes {outcomes}, "
          f"{failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
