#!/usr/bin/env python3
"""End-to-end parity with Hugging Face transformers' own outputs.

Compiles a model directory with llmc, runs every golden prompt through
llm-run (greedy, --ignore-eos) and checks, against the goldens that
transformers produced on the same weights (golden/*.npy):
  - the generated token ids are identical;
  - each logits row agrees to --rtol relative (max|a-b| / max|b|);
  - text prompts encode to the same prompt ids (tokenizer end to end).
Exits non-zero on the first mismatch, printing what differed.
"""
import argparse
import json
import shlex
import pathlib
import subprocess
import sys
import tempfile

import numpy as np


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"FAILED: {' '.join(cmd)}\n{r.stdout}{r.stderr}")
    return r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--llm-run", required=True)
    ap.add_argument("--model", required=True, help="HF model dir with golden/")
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--llmc-arg", action="append", default=[],
                    help="extra llmc flag (repeatable)")
    ap.add_argument("--llm-run-arg", action="append", default=[],
                    help="extra llm-run flag (repeatable)")
    ap.add_argument("--launcher", default="",
                    help="command llm-run runs under, e.g. 'mpirun -np 2' "
                         "(parallel artifacts start their ranks themselves "
                         "without one)")
    ap.add_argument("--batch", action="store_true",
                    help="run all prompts as one batch (ragged steps) and "
                         "compare the tokens of each")
    args = ap.parse_args()

    model = pathlib.Path(args.model)
    golden = model / "golden"
    prompts = json.loads((golden / "prompts.json").read_text())
    # Room for the longest prompt and its continuation (some models, e.g.
    # dynamic NTK ones, are run past their trained context on purpose).
    need = max(p["prompt_len"] + len(np.load(golden / f"p{p['index']}.ids.npy"))
               for p in prompts)
    # Flags the goldens assume (e.g. --weight-dtype=bf16 for goldens made
    # on rounded weights), unless the command line sets the same option.
    llmc_args = list(args.llmc_arg)
    assumed = golden / "llmc_args.json"
    if assumed.exists():
        given = {a.split("=")[0] for a in args.llmc_arg}
        llmc_args += [a for a in json.loads(assumed.read_text())
                      if a.split("=")[0] not in given]
    with tempfile.TemporaryDirectory() as tmp:
        art = pathlib.Path(tmp) / "model.llmc"
        run([args.llmc, str(model), "-o", str(art),
             f"--max-seq-len={need}"] + llmc_args)
        if args.batch:
            cmd = shlex.split(args.launcher) + [
                   args.llm_run, str(art), "--weights", str(model),
                   "--max-tokens", "32", "--ignore-eos", "--format", "json"]
            for p in prompts:
                ids = np.load(golden / f"p{p['index']}.prompt_ids.npy")
                cmd += ["--prompt-ids", " ".join(map(str, ids.tolist()))]
            outs = json.loads(run(cmd + args.llm_run_arg))
            for p, out in zip(prompts, outs):
                want = np.load(golden / f"p{p['index']}.ids.npy").tolist()
                if out["token_ids"] != want:
                    sys.exit(f"{model.name} p{p['index']} in a batch of "
                             f"{len(prompts)}: greedy tokens differ\n"
                             f"  llmc: {out['token_ids']}\n  HF:   {want}")
            print(f"{model.name}: {len(prompts)} prompts in one batch, "
                  "tokens identical")
            return
        worst = 0.0
        for p in prompts:
            i = p["index"]
            prompt_ids = np.load(golden / f"p{i}.prompt_ids.npy").tolist()
            want_ids = np.load(golden / f"p{i}.ids.npy").tolist()
            want_logits = np.load(golden / f"p{i}.logits.npy")
            dump = pathlib.Path(tmp) / f"p{i}.npy"
            cmd = shlex.split(args.launcher) + [
                   args.llm_run, str(art), "--weights", str(model),
                   "--max-tokens", str(len(want_ids)), "--ignore-eos",
                   "--format", "json", "--dump-logits", str(dump)]
            cmd += args.llm_run_arg
            if p["kind"] == "text":
                cmd += ["--prompt", p["text"]]
            else:
                cmd += ["--prompt-ids", " ".join(map(str, prompt_ids))]
            out = json.loads(run(cmd))
            if out["prompt_ids"] != prompt_ids:
                sys.exit(f"{model.name} p{i}: prompt ids differ\n"
                         f"  llmc: {out['prompt_ids']}\n  HF:   {prompt_ids}")
            if out["token_ids"] != want_ids:
                sys.exit(f"{model.name} p{i}: greedy tokens differ\n"
                         f"  llmc: {out['token_ids']}\n  HF:   {want_ids}")
            got = np.load(dump)
            if got.shape != want_logits.shape:
                sys.exit(f"{model.name} p{i}: logits shape {got.shape}, "
                         f"expected {want_logits.shape}")
            for j in range(len(want_ids)):
                err = (np.abs(got[j] - want_logits[j]).max()
                       / np.abs(want_logits[j]).max())
                worst = max(worst, err)
                if err > args.rtol:
                    sys.exit(f"{model.name} p{i} token {j}: logits differ "
                             f"by {err:.3e} relative (> {args.rtol})")
        print(f"{model.name}: {len(prompts)} prompts, tokens identical, "
              f"worst logits error {worst:.2e} relative")


if __name__ == "__main__":
    main()
