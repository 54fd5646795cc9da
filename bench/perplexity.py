#!/usr/bin/env python3
"""Perplexity of low-precision llmc builds on held-out text, against
transformers on the same weights.

The trained demo model (models/demo: a Llama trained on GPL-2/3, LGPL,
Apache-2.0, MPL-2.0, GFDL-1.3 and Artistic from /usr/share/common-licenses)
scores licenses it was not trained on (GPL-1, MPL-1.1, BSD, CC0-1.0) in
non-overlapping windows. llmc serves each artifact (`llm-run serve`) and is
asked for the prompt's log-probabilities the way lm-eval asks (a
completion with echo, logprobs and one new token); transformers (fp32)
scores the same windows on the checkpoint's weights, on them quantized to
int8 rows as `llmc --quantize int8` does, and on them in llama.cpp's Q8_0
format (blocks of 32 along each row, an f16 scale per block; the weights
only: llama.cpp also quantizes the activations, which is not emulated).
Reports each perplexity, its ratio to fp32 and, for llmc, the top-1
agreement of its prompt predictions with fp32 transformers.

    python3 bench/perplexity.py --build build [--windows 24]
"""
import argparse
import http.client
import json
import math
import pathlib
import socket
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "scripts"))
from benchlib import print_table  # noqa: E402
# The int8-row quantization the parity goldens use (llmc's definition).
from make_test_models import q8_rows  # noqa: E402

HELD_OUT = ["GPL-1", "MPL-1.1", "BSD", "CC0-1.0"]


def windows(tokenizer, licenses, length, count):
    ids = []
    for name in HELD_OUT:
        path = pathlib.Path(licenses) / name
        if path.exists():
            ids += tokenizer(path.read_text(errors="replace"))["input_ids"]
    out = [ids[i:i + length] for i in range(0, len(ids) - length, length)]
    return out[:count]


def q8_0(w):
    """llama.cpp Q8_0 on a row-major [N, K] weight: blocks of 32 along K,
    d = amax / 127 stored as f16, q = round(x / d)."""
    import torch
    n, k = w.shape
    pad = (-k) % 32
    x = torch.nn.functional.pad(w, (0, pad)).reshape(n, -1, 32)
    d = (x.abs().amax(dim=2, keepdim=True) / 127.0).half().float()
    q = torch.where(d > 0, torch.round(x / torch.where(d > 0, d, 1.0)),
                    torch.zeros_like(x)).clamp(-127, 127)
    return (q * d).reshape(n, -1)[:, :k]


def hf_scores(model_dir, wins, transform=None):
    """Per window: log-probabilities of tokens 1..n-1 and the argmax
    predictions, from transformers in fp32."""
    import torch
    import transformers
    model = transformers.AutoModelForCausalLM.from_pretrained(
        model_dir, dtype=torch.float32).eval()
    if transform:  # the projections and the embedding table (tied here)
        emb = model.get_input_embeddings().weight
        with torch.no_grad():
            emb.copy_(transform(emb))
            for mod in model.modules():
                if isinstance(mod, torch.nn.Linear) and mod.weight is not emb:
                    mod.weight.copy_(transform(mod.weight))
    out = []
    with torch.no_grad():
        for w in wins:
            logits = model(torch.tensor([w])).logits[0].float()
            lp = torch.log_softmax(logits, dim=-1)
            tgt = torch.tensor(w[1:])
            out.append((lp[:-1].gather(1, tgt[:, None])[:, 0].numpy(),
                        lp[:-1].argmax(-1).numpy()))
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(port, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request("POST", "/v1/completions", json.dumps(body),
                 {"Content-Type": "application/json"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise SystemExit(f"llm-run serve: {r.status} {data[:300]!r}")
    return json.loads(data)


def llmc_scores(build, art, model_dir, wins, served):
    port = free_port()
    proc = subprocess.Popen(
        [str(build / "bin/llm-run"), str(art), "--weights", str(model_dir),
         "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        out = []
        for w in wins:
            r = post(port, dict(model=served, prompt=[w], echo=True, logprobs=1,
                                max_tokens=1, temperature=0))
            lp = r["choices"][0]["logprobs"]
            n = len(w)
            logprobs = np.array(lp["token_logprobs"][1:n], dtype=np.float64)
            tops = [max(t, key=t.get) for t in lp["top_logprobs"][1:n]]
            out.append((logprobs, tops))
        return out
    finally:
        proc.terminate()
        proc.wait()


def ppl(scores):
    lps = np.concatenate([s[0] for s in scores])
    return math.exp(-float(lps.mean())), len(lps)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--model", default=str(HERE.parent / "models/demo"))
    ap.add_argument("--licenses", default="/usr/share/common-licenses")
    ap.add_argument("--window", type=int, default=256)
    ap.add_argument("--windows", type=int, default=24)
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()

    import transformers
    build = pathlib.Path(args.build).resolve()
    model_dir = pathlib.Path(args.model)
    tok = transformers.AutoTokenizer.from_pretrained(model_dir)
    wins = windows(tok, args.licenses, args.window, args.windows)
    if not wins:
        raise SystemExit(f"no held-out text under {args.licenses}")
    ref = hf_scores(model_dir, wins)
    base, n = ppl(ref)
    rows = [("text", f"{', '.join(HELD_OUT)}: {len(wins)} windows of "
                     f"{args.window} tokens, {n} scored"),
            ("transformers fp32", f"{base:.4f}")]
    for name, fn in [("transformers int8 rows", q8_rows),
                     ("transformers Q8_0 weights", q8_0)]:
        p, _ = ppl(hf_scores(model_dir, wins, fn))
        rows.append((name, f"{p:.4f} ({p / base - 1:+.2%})"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, flags in [("llmc f32", ["--weight-dtype", "f32"]),
                            ("llmc bf16", ["--weight-dtype", "bf16"]),
                            ("llmc int8", ["--quantize", "int8"])]:
            art = pathlib.Path(tmp) / (name.replace(" ", "-") + ".llmc")
            subprocess.run([str(build / "bin/llmc"), str(model_dir), "-o",
                            str(art), *flags], check=True)
            got = llmc_scores(build, art, model_dir, wins, art.stem)
            p, _ = ppl(got)
            # llm-run names tokens by their text: compare texts.
            agree = np.mean([a == tok.decode([int(b)])
                             for g, r in zip(got, ref)
                             for a, b in zip(g[1], r[1])])
            rows.append((name, f"{p:.4f} ({p / base - 1:+.2%}), top-1 "
                               f"agreement with fp32 {agree:.1%}"))
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
