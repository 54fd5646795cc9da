#!/usr/bin/env python3
"""The GPU check (see bench/gpu/check.sh, which runs this): parity against
transformers on the same GPU and weights, compute-sanitizer memcheck, and
decode speed against transformers eager and torch.compile, in one command.
Every section runs even when an earlier one failed; the JSON and Markdown
say what passed, what failed and why.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

DEADLINE = time.monotonic() + 9 * 60  # inside one 10-minute device call


def left():
    return DEADLINE - time.monotonic()


def llm_run(bundle, art, weights, prompts, max_tokens, extra=(),
            timeout=240):
    cmd = [str(bundle / "bin/llm-run"), str(art), "--weights", str(weights),
           "--max-tokens", str(max_tokens), "--ignore-eos", "--format",
           "json", *extra]
    for p in prompts:
        cmd += ["--prompt-ids", " ".join(map(str, p))]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=max(10, min(timeout, left())))
    if r.returncode != 0:
        raise RuntimeError(f"llm-run failed ({r.returncode}): "
                           f"{r.stderr.strip()[-2000:]}")
    return json.loads(r.stdout)


def hf_greedy(model, ids, n):
    import torch
    with torch.no_grad():
        out = model.generate(
            torch.tensor([ids], device="cuda"), max_new_tokens=n,
            min_new_tokens=n, do_sample=False, output_logits=True,
            return_dict_in_generate=True, pad_token_id=0)
    new = out.sequences[0, len(ids):].tolist()
    logits = torch.stack(out.logits)[:, 0].float().cpu().numpy()
    return new, logits


def compare(name, bundle, art, weights, model, prompts, n, tol):
    rows = []
    for i, ids in enumerate(prompts):
        want, want_logits = hf_greedy(model, ids, n)
        with tempfile.TemporaryDirectory() as tmp:
            dump = pathlib.Path(tmp) / "logits.npy"
            got = llm_run(bundle, art, weights, [ids], n,
                          ["--dump-logits", str(dump)])
            got_logits = np.load(dump)
        same = got["token_ids"] == want
        # Logits compared along transformers' path while the ids agree.
        k = next((j for j, (a, b) in enumerate(zip(got["token_ids"], want))
                  if a != b), n)
        err = max((float(np.abs(got_logits[j] - want_logits[j]).max() /
                         max(np.abs(want_logits[j]).max(), 1e-9))
                   for j in range(k)), default=0.0)
        rows.append({"prompt": i, "ids_equal": same,
                     "first_difference": None if same else k,
                     "max_rel_logits_err": err, "logits_ok": err <= tol})
    ok = sum(r["ids_equal"] for r in rows)
    return {"model": name, "prompts": len(rows), "ids_equal": ok,
            "max_rel_logits_err": max(r["max_rel_logits_err"] for r in rows),
            "tolerance": tol, "rows": rows,
            "passed": ok >= (len(rows) + 1) // 2 and
            all(r["logits_ok"] for r in rows)}


def parity_tiny(bundle, results):
    import torch
    import transformers
    for art in sorted((bundle / "art").glob("*.llmc")):
        name = art.name[:-len(".llmc")]
        model_dir = ROOT / "models" / "tiny" / name
        if not (model_dir / "golden" / "prompts.json").exists():
            continue
        if left() < 120:
            results.append({"model": name, "skipped": "time"})
            continue
        try:
            hf = transformers.AutoModelForCausalLM.from_pretrained(
                model_dir, dtype=torch.float32).cuda().eval()
            prompts = [np.load(model_dir / "golden" /
                               f"p{p['index']}.prompt_ids.npy").tolist()
                       for p in json.loads(
                           (model_dir / "golden/prompts.json").read_text())]
            prompts = [p for p in prompts if len(p) + 32 <= 160]
            results.append(compare(name, bundle, art, model_dir, hf, prompts,
                                   32, 1e-3))
        except Exception as e:  # recorded, the next model goes on
            results.append({"model": name, "error": repr(e)[-1500:],
                            "passed": False})


def make_1b(work):
    """A Llama-3.2-1B-shaped model with random bf16 weights, made on the
    GPU and saved as safetensors."""
    import torch
    import transformers
    import load
    d = work / "llama-1b"
    if (d / "model.safetensors").exists():
        return d
    torch.manual_seed(0)
    cfg = transformers.LlamaConfig(**{k: v for k, v in load.CONFIG.items()
                                      if k not in ("architectures",
                                                   "torch_dtype")})
    with torch.device("cuda"):
        model = transformers.LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(d, safe_serialization=True)
    return d


def parity_1b(bundle, work, out):
    import torch
    import transformers
    d = make_1b(work)
    # The weights are bf16; llmc computes in fp32 (weights widened), and so
    # does the reference here, on the same values.
    hf = transformers.AutoModelForCausalLM.from_pretrained(
        d, dtype=torch.float32).cuda().eval()
    rng = np.random.default_rng(1)
    prompts = [rng.integers(3, 128000, size=n).tolist()
               for n in (16, 33, 64, 100)]
    out["parity"].append(compare("llama-3.2-1b-shape (bf16 weights, fp32)",
                                 bundle, bundle / "art/llama-1b.llmc", d, hf,
                                 prompts, 32, 2e-2))
    del hf
    torch.cuda.empty_cache()
    return d


def sanitizer(bundle, out):
    tool = shutil.which("compute-sanitizer") or \
        "/usr/local/cuda/bin/compute-sanitizer"
    arts = sorted((bundle / "art").glob("llama-tiny.llmc"))
    if not arts or not os.path.exists(tool):
        out["memcheck"] = {"skipped": "no compute-sanitizer or no artifact"}
        return
    cmd = [tool, "--tool", "memcheck", "--error-exitcode", "3",
           str(bundle / "bin/llm-run"), str(arts[0]), "--weights",
           str(ROOT / "models/tiny/llama-tiny"), "--prompt-ids", "1 2 3 4",
           "--max-tokens", "4", "--ignore-eos", "--format", "json"]
    r = subprocess.run(cmd, capture_output=True, text=True,
                       timeout=max(10, min(180, left())))
    summary = [l for l in (r.stdout + r.stderr).splitlines()
               if "ERROR SUMMARY" in l]
    out["memcheck"] = {"exit": r.returncode,
                       "summary": summary[-1] if summary else None,
                       "passed": r.returncode == 0}


def hf_speed(model, batch, prompt_len, new, compiled):
    import torch
    ids = torch.randint(3, 128000, (batch, prompt_len), device="cuda")

    def gen(n):
        torch.cuda.synchronize()
        t = time.perf_counter()
        with torch.no_grad():
            model.generate(ids, max_new_tokens=n, min_new_tokens=n,
                           do_sample=False, pad_token_id=0)
        torch.cuda.synchronize()
        return time.perf_counter() - t
    for _ in range(2 if compiled else 1):
        gen(new)  # warm-up (and compile)
    prefill = gen(1)
    total = gen(new)
    return batch * (new - 1) / max(total - prefill, 1e-9)


def speed(bundle, d, out):
    import torch
    import transformers
    rows = {}
    rng = np.random.default_rng(2)
    for batch in (1, 64):
        if left() < 60:
            rows[f"llmc b{batch}"] = "skipped (time)"
            continue
        prompts = [rng.integers(3, 128000, size=128).tolist()
                   for _ in range(batch)]
        try:
            new = 128 if batch == 1 else 32
            res = llm_run(bundle, bundle / "art/llama-1b.llmc", d, prompts,
                          new, timeout=max(30, left() - 150))
            t = (res[0] if isinstance(res, list) else res)["timing"]
            rows[f"llmc b{batch}"] = {
                "tokens_per_s": batch * t["decode_steps"] / t["decode_s"],
                "new_tokens": new, "load_s": t["load_s"]}
        except Exception as e:
            rows[f"llmc b{batch}"] = f"error: {repr(e)[-500:]}"
    model = transformers.AutoModelForCausalLM.from_pretrained(
        d, dtype=torch.bfloat16).cuda().eval()
    for batch in (1, 64):
        if left() < 45:
            rows[f"hf eager b{batch}"] = "skipped (time)"
            continue
        try:
            rows[f"hf eager b{batch}"] = {
                "tokens_per_s": hf_speed(model, batch, 128, 128, False)}
        except Exception as e:
            rows[f"hf eager b{batch}"] = f"error: {repr(e)[-500:]}"
    try:
        model.generation_config.cache_implementation = "static"
        model.forward = torch.compile(model.forward, mode="reduce-overhead",
                                      fullgraph=True)
        for batch in (1, 64):
            if left() < 60:
                rows[f"hf compile b{batch}"] = "skipped (time)"
                continue
            rows[f"hf compile b{batch}"] = {
                "tokens_per_s": hf_speed(model, batch, 128, 128, True)}
    except Exception as e:
        rows["hf compile"] = f"error: {repr(e)[-500:]}"
    out["speed"] = rows
    # Batch 1 reads every weight once per token: 2.47 GB of bf16 at the
    # H100's 2.99 TB/s copy bandwidth.
    out["floor_b1_bf16_tokens_per_s"] = 2.99e12 / 2.47e9


def nccl(bundle, out):
    """NCCL at world size 1 (the one-GPU machine), and tensor parallelism
    over two GPUs where there are two (llm-run starts its ranks with
    mpirun)."""
    tests = bundle / "bin" / "llmc-runtime-tests"
    r = subprocess.run([str(tests), "--gtest_filter=Nccl.*:CudaDevice.*",
                        "--gtest_brief=1"], capture_output=True, text=True,
                       timeout=max(10, min(120, left())))
    text = r.stdout + r.stderr
    out["nccl_world1"] = {
        "passed": r.returncode == 0 and "SKIPPED" not in text,
        "skipped": "SKIPPED" in text, "log": text[-1500:]}
    gpus = subprocess.run(["nvidia-smi", "-L"], capture_output=True,
                          text=True).stdout.count("GPU ")
    art = bundle / "art-tp" / "llama-tiny.tp2.llmc"
    if gpus < 2 or not shutil.which("mpirun") or not art.exists():
        out["tp2"] = {"skipped": f"{gpus} GPU(s), mpirun "
                      f"{'found' if shutil.which('mpirun') else 'missing'}"}
        return
    import torch
    import transformers
    model_dir = ROOT / "models" / "tiny" / "llama-tiny"
    hf = transformers.AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32).cuda().eval()
    prompts = [np.load(model_dir / "golden" /
                       f"p{p['index']}.prompt_ids.npy").tolist()
               for p in json.loads(
                   (model_dir / "golden/prompts.json").read_text())][:2]
    out["tp2"] = compare("llama-tiny --tp 2", bundle, art, model_dir, hf,
                         prompts, 16, 1e-3)


def markdown(out):
    lines = [f"# GPU check ({out.get('gpu', '?')})", "",
             "## Parity against transformers (same GPU, same weights)", "",
             "| model | prompts | greedy ids equal | max rel. logits error "
             "| passed |", "|---|---|---|---|---|"]
    for p in out["parity"]:
        if "error" in p or "skipped" in p:
            lines.append(f"| {p['model']} | - | - | - | "
                         f"{p.get('error', p.get('skipped'))} |")
            continue
        lines.append(f"| {p['model']} | {p['prompts']} | {p['ids_equal']} | "
                     f"{p['max_rel_logits_err']:.2e} (tol {p['tolerance']}) "
                     f"| {p['passed']} |")
    n = out.get("nccl_world1", {})
    lines += ["", f"NCCL, world size 1 (Nccl.* test): "
              f"{'passed' if n.get('passed') else n or 'not run'}"]
    t = out.get("tp2", {})
    lines += [f"Tensor parallel, 2 GPUs: "
              f"{t.get('skipped') or ('passed' if t.get('passed') else t)}"]
    m = out.get("memcheck", {})
    lines += ["", f"compute-sanitizer memcheck: "
              f"{m.get('summary') or m.get('skipped') or m}", "",
              "## Decode tokens/s, Llama-3.2-1B shape, prompt 128", "",
              "| engine | tokens/s |", "|---|---|"]
    for k, v in out.get("speed", {}).items():
        value = f"{v['tokens_per_s']:.1f}" if isinstance(v, dict) else v
        lines.append(f"| {k} | {value} |")
    lines.append(f"| floor (bf16 weights, 2.99 TB/s) | "
                 f"{out.get('floor_b1_bf16_tokens_per_s', 0):.0f} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bundle", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true",
                    help="parity and memcheck only")
    args = ap.parse_args()
    bundle = pathlib.Path(args.bundle).resolve()
    outdir = pathlib.Path(args.out)
    outdir.mkdir(parents=True, exist_ok=True)
    out = {"parity": []}
    gpu = outdir / "gpu.txt"
    out["gpu"] = gpu.read_text().strip() if gpu.exists() else "?"
    work = pathlib.Path(tempfile.mkdtemp(prefix="llmc-gpu-"))
    sections = [("parity (tiny)", lambda: parity_tiny(bundle, out["parity"])),
                ("memcheck", lambda: sanitizer(bundle, out)),
                ("nccl", lambda: nccl(bundle, out))]
    d_holder = {}

    def p1b():
        d_holder["d"] = parity_1b(bundle, work, out)
    sections.append(("parity (1B)", p1b))
    if not args.quick:
        sections.append(("speed", lambda: speed(
            bundle, d_holder.get("d") or make_1b(work), out)))
    for name, fn in sections:
        print(f"== {name} ({left():.0f} s left)", flush=True)
        try:
            fn()
        except Exception:
            out.setdefault("errors", {})[name] = traceback.format_exc()[-3000:]
            print(out["errors"][name], flush=True)
        (outdir / "gpu-check.json").write_text(json.dumps(out, indent=1))
        (outdir / "gpu-check.md").write_text(markdown(out))
    print(markdown(out))


if __name__ == "__main__":
    main()
