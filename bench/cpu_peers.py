#!/usr/bin/env python3
"""CPU peers benchmark: llmc (f32, bf16, int8) against llama.cpp (F32, F16,
Q8_0) and CTranslate2 (float32, int8) in one command, interleaved rounds,
each engine run in a fresh process, ratios from the same round.

Installs the peers from PyPI into a venv under --work (once; llama.cpp
builds from the llama-cpp-python sdist, several minutes on 2 cores), makes
the 125M Llama of bench/cpu_decode.py (random weights, seeded, fp32) with a
Llama-2-style byte-fallback BPE tokenizer.json of exactly vocab_size
entries (what every converter accepts), converts it for each engine, then
runs --rounds rounds. Every round measures, in a rotated order:
  - decode tokens/s at batch 1 (8-token prompt, --tokens new tokens,
    greedy, EOS ignored), prefill excluded: (t(N) - t(1)) / (N - 1) for
    the peers, llm-run's own decode timing for llmc;
  - decode at batch 16 (llmc and CTranslate2; llama-cpp-python's
    high-level API runs one sequence);
  - prefill tokens/s of one 512-token prompt.
All engines use --threads threads (default 2). The report gives each
engine's median and the median of its per-round ratio to the llmc build of
the same precision (above 1: the peer is faster). Record lscpu with it.

    python3 bench/cpu_peers.py --build build [--rounds 3] [--markdown F]
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

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import print_table  # noqa: E402

CONFIG = dict(vocab_size=32000, hidden_size=768, intermediate_size=2048,
              num_hidden_layers=12, num_attention_heads=12,
              num_key_value_heads=4, max_position_embeddings=2048,
              rms_norm_eps=1e-5, tie_word_embeddings=False,
              bos_token_id=1, eos_token_id=2)
# --size 1b: Llama-3.2-1B's shape, saved in bf16 (2.5 GB).
CONFIG_1B = dict(vocab_size=128256, hidden_size=2048, intermediate_size=8192,
                 num_hidden_layers=16, num_attention_heads=32,
                 num_key_value_heads=8, max_position_embeddings=2048,
                 rms_norm_eps=1e-5, tie_word_embeddings=True,
                 bos_token_id=1, eos_token_id=2)
PROMPT_LEN = 8
PREFILL_LEN = 512
LLAMA_CPP = "llama-cpp-python==0.3.36"
CT2 = "ctranslate2==4.8.5"


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def venv_python(work):
    return work / "venv" / "bin" / "python"


def ensure_peers(work):
    """The peers in their own venv (system site packages for torch and
    transformers, which the converters use)."""
    py = venv_python(work)
    if not py.exists():
        sh([sys.executable, "-m", "venv", "--system-site-packages",
            str(work / "venv")])
    ok = subprocess.run([str(py), "-c",
                         "import llama_cpp, ctranslate2, sentencepiece"],
                        capture_output=True).returncode == 0
    sdist_dir = work / "sdist"
    if not ok:
        print("installing the peers (once; llama.cpp builds from source) ...",
              flush=True)
        sh([str(py), "-m", "pip", "download", "--no-deps", "--no-binary",
            ":all:", LLAMA_CPP, "-d", str(sdist_dir)])
        env = dict(os.environ, CMAKE_BUILD_PARALLEL_LEVEL=str(os.cpu_count()),
                   CMAKE_ARGS="-DLLAVA_BUILD=OFF")
        sdist = next(sdist_dir.glob("llama_cpp_python-*.tar.gz"))
        sh([str(py), "-m", "pip", "install", str(sdist)], env=env)
        sh([str(py), "-m", "pip", "install", CT2, "sentencepiece"])
    src = work / "llama.cpp-src"
    if not (src / "convert_hf_to_gguf.py").exists():
        if not sdist_dir.exists():
            sh([str(py), "-m", "pip", "download", "--no-deps", "--no-binary",
                ":all:", LLAMA_CPP, "-d", str(sdist_dir)])
        sdist = next(sdist_dir.glob("llama_cpp_python-*.tar.gz"))
        sh(["tar", "xzf", str(sdist), "-C", str(work)])
        vendored = next(work.glob("llama_cpp_python-*/vendor/llama.cpp"))
        vendored.rename(src)
    return py, src


def llama2_tokenizer(vocab_size):
    """A Llama-2-style tokenizer.json: <unk> <s> </s>, the 256 byte
    tokens, then filler pieces up to exactly vocab_size entries."""
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2}
    for b in range(256):
        vocab[f"<0x{b:02X}>"] = len(vocab)
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = 0
    while len(vocab) < vocab_size:
        piece = "\u2581" + letters[i % 26] + str(i // 26)
        vocab[piece] = len(vocab)
        i += 1
    special = [dict(id=k, content=t, single_word=False, lstrip=False,
                    rstrip=False, normalized=False, special=True)
               for k, t in enumerate(["<unk>", "<s>", "</s>"])]
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": special,
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "\u2581"},
            {"type": "Replace", "pattern": {"String": " "},
             "content": "\u2581"}]},
        "pre_tokenizer": None,
        "post_processor": None,
        "decoder": {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "\u2581"},
             "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
        "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>",
                  "continuing_subword_prefix": None,
                  "end_of_word_suffix": None, "fuse_unk": True,
                  "byte_fallback": True, "ignore_merges": False,
                  "vocab": vocab, "merges": []}}


def make_model(work, size):
    model_dir = work / ("llama-125m" if size == "125m" else "llama-1b-bf16")
    if (model_dir / "tokenizer.json").exists():
        return model_dir
    import torch
    import transformers
    torch.manual_seed(0)
    model = transformers.LlamaForCausalLM(transformers.LlamaConfig(**CONFIG))
    if size == "1b":
        model = model.to(torch.bfloat16)
    model.save_pretrained(model_dir)
    (model_dir / "tokenizer.json").write_text(
        json.dumps(llama2_tokenizer(CONFIG["vocab_size"])))
    (model_dir / "tokenizer_config.json").write_text(json.dumps(dict(
        tokenizer_class="LlamaTokenizerFast", bos_token="<s>",
        eos_token="</s>", unk_token="<unk>", add_bos_token=True,
        add_eos_token=False, model_max_length=2048)))
    return model_dir


def convert(work, py, src, model_dir, build, size):
    out = {}
    big = size == "1b"
    llmc_variants = [("f32", ["--weight-dtype", "f32"]),
                     ("bf16", ["--weight-dtype", "bf16"]),
                     ("int8", ["--weight-dtype", "f32", "--quantize",
                               "int8"])]
    if big:  # the bf16 checkpoint as is, and int8 (embeddings stay bf16)
        llmc_variants = [("bf16", []), ("int8", ["--quantize", "int8"])]
    for name, flags in llmc_variants:
        art = work / f"llmc-{size}-{name}.llmc"
        sh([str(build / "bin/llmc"), str(model_dir), "-o", str(art),
            "--max-seq-len", "1024", "--cpu", "native", *flags])
        out[f"llmc {name}"] = art
    for outtype in ("f16", "q8_0") if big else ("f32", "f16", "q8_0"):
        gguf = work / f"model-{size}-{outtype}.gguf"
        if not gguf.exists():
            sh([str(py), str(src / "convert_hf_to_gguf.py"), str(model_dir),
                "--outtype", outtype, "--outfile", str(gguf)],
               capture_output=True)
        out[f"llama.cpp {outtype.upper()}"] = gguf
    for q in () if big else ("float32", "int8"):
        d = work / f"ct2-{q}"
        if not d.exists():
            sh([str(py.parent / "ct2-transformers-converter"), "--model",
                str(model_dir), "--output_dir", str(d), "--quantization", q],
               capture_output=True)
        out[f"ctranslate2 {q}"] = d
    return out


def prompts(batch, length=PROMPT_LEN):
    rng = random.Random(batch * 1000 + length)
    return [[rng.randrange(300, CONFIG["vocab_size"]) for _ in range(length)]
            for _ in range(batch)]


# --- workers: each runs in a fresh process and prints one JSON number ---

def llama_cpp_worker(path, mode, tokens, threads):
    import llama_cpp
    start = time.perf_counter()
    llm = llama_cpp.Llama(model_path=path, n_ctx=1024, n_batch=512,
                          n_threads=threads, n_threads_batch=threads,
                          verbose=False, logits_all=False)
    if mode == "first":  # load, the prompt and one token: seconds
        llm.eval(prompts(1)[0])
        llm.eval([int(llm.scores[llm.n_tokens - 1].argmax())])
        return time.perf_counter() - start
    if mode == "prefill":
        ids = prompts(1, PREFILL_LEN)[0]
        t = time.perf_counter()
        llm.eval(ids)
        return PREFILL_LEN / (time.perf_counter() - t)

    def run(n):
        llm.reset()
        ids = prompts(1)[0]
        t = time.perf_counter()
        llm.eval(ids)
        for _ in range(n):
            tok = int(llm.scores[llm.n_tokens - 1].argmax())
            llm.eval([tok])
        return time.perf_counter() - t
    run(2)  # warm up
    return (tokens - 1) / (run(tokens) - run(1))


def ct2_worker(path, mode, tokens, threads, batch):
    import ctranslate2
    gen = ctranslate2.Generator(path, device="cpu", inter_threads=1,
                                intra_threads=threads)
    vj = os.path.join(path, "vocabulary.json")
    if os.path.exists(vj):
        with open(vj) as f:
            vocab = json.load(f)
    else:
        with open(os.path.join(path, "vocabulary.txt")) as f:
            vocab = f.read().split("\n")

    def toks(ids):
        return [vocab[i] for i in ids]
    if mode == "prefill":
        p = [toks(prompts(1, PREFILL_LEN)[0])]
        t = time.perf_counter()
        gen.generate_batch(p, max_length=1, sampling_topk=1,
                           include_prompt_in_result=False)
        return PREFILL_LEN / (time.perf_counter() - t)
    ps = [toks(p) for p in prompts(batch)]

    def run(n):
        t = time.perf_counter()
        gen.generate_batch(ps, max_length=n, min_length=n, sampling_topk=1,
                           include_prompt_in_result=False)
        return time.perf_counter() - t
    run(2)
    return batch * (tokens - 1) / (run(tokens) - run(1))


def llmc_run(build, art, model_dir, mode, tokens, batch, threads):
    args = []
    ps = prompts(1, PREFILL_LEN) if mode == "prefill" else prompts(batch)
    for p in ps:
        args += ["--prompt-ids", " ".join(map(str, p))]
    n = 2 if mode == "prefill" else 1 if mode == "first" else tokens
    out = json.loads(sh(
        [str(build / "bin/llm-run"), str(art), "--weights", str(model_dir),
         *args, "--max-tokens", str(n), "--ignore-eos", "--format", "json",
         "--threads", str(threads)],
        capture_output=True, text=True).stdout)
    timing = (out[0] if isinstance(out, list) else out)["timing"]
    if mode == "prefill":
        return PREFILL_LEN / timing["prefill_s"]
    if mode == "first":  # load, the prompt and one token: seconds
        return timing["load_s"] + timing["prefill_s"]
    return batch * timing["decode_steps"] / timing["decode_s"]


def measure(engine, path, mode, batch, args, py, build, model_dir):
    if engine.startswith("llmc"):
        return llmc_run(build, path, model_dir, mode, args.tokens, batch,
                        args.threads)
    kind = "llama_cpp" if engine.startswith("llama.cpp") else "ct2"
    out = sh([str(py), __file__, "--worker", kind, str(path), "--mode", mode,
              "--batch", str(batch), "--tokens", str(args.tokens),
              "--threads", str(args.threads), "--size", args.size],
             capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# Each peer against the llmc build of its precision.
BASELINE = {"llama.cpp F32": "llmc f32", "llama.cpp F16": "llmc bf16",
            "llama.cpp Q8_0": "llmc int8", "ctranslate2 float32": "llmc f32",
            "ctranslate2 int8": "llmc int8"}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(),
                                                   "llmc-bench-peers"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--size", choices=["125m", "1b"], default="125m",
                    help="1b: a Llama-3.2-1B-shaped bf16 checkpoint; llmc "
                         "bf16/int8 against llama.cpp F16/Q8_0, decode b1 "
                         "and start to first token")
    ap.add_argument("--markdown", help="also write the table here")
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="decode", help=argparse.SUPPRESS)
    ap.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    global CONFIG
    if args.size == "1b":
        CONFIG = CONFIG_1B
    if args.worker:
        kind, path = args.worker
        if kind == "llama_cpp":
            v = llama_cpp_worker(path, args.mode, args.tokens, args.threads)
        else:
            v = ct2_worker(path, args.mode, args.tokens, args.threads,
                           args.batch)
        print(json.dumps(v))
        return

    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    build = pathlib.Path(args.build).resolve()
    py, src = ensure_peers(work)
    model_dir = make_model(work, args.size)
    engines = convert(work, py, src, model_dir, build, args.size)
    modes = [("decode", 1), ("decode", 16), ("prefill", 1)]
    if args.size == "1b":
        modes = [("decode", 1), ("first", 1)]
    results = {(e, m, b): [] for e in engines for m, b in modes}
    for r in range(args.rounds):
        order = list(engines)
        order = order[r % len(order):] + order[:r % len(order)]
        for e in order:
            for mode, batch in modes:
                if e.startswith("llama.cpp") and batch > 1:
                    continue
                v = measure(e, engines[e], mode, batch, args, py, build,
                            model_dir)
                results[(e, mode, batch)].append(v)
                unit = "s" if mode == "first" else "tok/s"
                print(f"round {r + 1}: {e:<20} {mode} b{batch}: {v:8.2f} "
                      f"{unit}", flush=True)

    rows = [("model", "Llama 125M (hidden 768, 12 layers, GQA 12/4, vocab "
                      "32000), random weights, fp32" if args.size == "125m"
                      else "Llama-3.2-1B shape (hidden 2048, 16 layers, GQA "
                      "32/8, vocab 128256, tied), random weights, bf16"),
            ("threads", str(args.threads)),
            ("rounds", f"{args.rounds}, each engine a fresh process")]
    for e in engines:
        cells = []
        for mode, batch in modes:
            xs = results[(e, mode, batch)]
            if not xs:
                cells.append("-")
                continue
            cell = f"{statistics.median(xs):.2f}"
            base = BASELINE.get(e)
            if base and results[(base, mode, batch)]:
                # Above 1: the peer is better (faster, or sooner).
                ratios = [(y / x if mode == "first" else x / y) for x, y in
                          zip(xs, results[(base, mode, batch)])]
                cell += f" ({statistics.median(ratios):.2f}x)"
            cells.append(cell)
        rows.append((e, " | ".join(cells)))
    rows.append(("columns", " | ".join(
        "start to first token, s" if m == "first" else
        f"{'prefill 512' if m == 'prefill' else 'decode'} b{b}, tok/s"
        for m, b in modes) + " (ratio: peer vs llmc of the same precision, "
        "above 1 = the peer is better)"))
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
