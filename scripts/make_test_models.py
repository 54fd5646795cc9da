#!/usr/bin/env python3
"""Makes tiny Hugging Face checkpoints with golden outputs, for the parity
tests, covering what the four shared models do not: llama3 / linear /
dynamic rope scaling, GQA with an explicit head_dim, tied Llama heads,
attention and MLP biases, bf16 and fp16 weights, sharded safetensors, the
transformers 4.x config form, GPT-2 with exact GELU and per-layer
attention scaling, and shapes no kernel block divides.

Needs torch + transformers (pip, or the GPU machine). Writes, per model,
config.json, model*.safetensors, tokenizer files and golden/ in the layout
of ../shared/models (see its README):
    p{i}.prompt_ids.npy, p{i}.ids.npy, p{i}.logits.npy, prompts.json

    python3 scripts/make_test_models.py --out models/tiny \
        --tokenizer-from models/tiny/llama-tiny
"""
import argparse
import copy
import json
import pathlib
import shutil

import numpy as np
import torch
import transformers

NEW_TOKENS = 32
MIN_GAP = 2e-3


def llama_base(**kw):
    cfg = dict(vocab_size=512, hidden_size=64, intermediate_size=96,
               num_hidden_layers=2, num_attention_heads=4,
               num_key_value_heads=2, max_position_embeddings=256,
               rms_norm_eps=1e-6, eos_token_id=0, bos_token_id=None,
               initializer_range=0.2)
    cfg.update(kw)
    return cfg


MODELS = {
    # GQA 8:2 with head_dim 24 (8 * 24 != 64), tied head, Llama 3.1 rope
    # scaling with a small original context so that it matters; bf16
    # weights; config rewritten in the transformers 4.x form.
    "llama3-scaled": dict(
        arch="llama", dtype=torch.bfloat16, legacy_config=True,
        config=llama_base(num_attention_heads=8, num_key_value_heads=2,
                          head_dim=24, tie_word_embeddings=True,
                          rope_parameters=dict(
                              rope_type="llama3", rope_theta=500000.0,
                              factor=8.0, low_freq_factor=1.0,
                              high_freq_factor=4.0,
                              original_max_position_embeddings=64))),
    # Linear rope scaling, attention and MLP biases, fp16 weights in
    # several shards.
    "llama-linear-bias": dict(
        arch="llama", dtype=torch.float16, shard="60KB",
        config=llama_base(attention_bias=True, mlp_bias=True,
                          rope_parameters=dict(rope_type="linear",
                                               rope_theta=10000.0,
                                               factor=2.0))),
    # Dynamic NTK scaling with a 32-position original context: the prompts
    # and the generation run past it. 4.x config form.
    "llama-dynamic": dict(
        arch="llama", dtype=torch.float32, legacy_config=True,
        config=llama_base(max_position_embeddings=32,
                          rope_parameters=dict(rope_type="dynamic",
                                               rope_theta=10000.0,
                                               factor=2.0))),
    # Qwen2 with its sliding window on the layers from max_window_layers on
    # (here the second), shorter than the longer prompts; the config keeps
    # only the 4.x fields (no layer_types), so max_window_layers decides.
    "qwen2-sliding": dict(
        arch="qwen2", dtype=torch.float32, legacy_config=True,
        config=dict(vocab_size=512, hidden_size=64, intermediate_size=96,
                    num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, max_position_embeddings=256,
                    rms_norm_eps=1e-6, use_sliding_window=True,
                    sliding_window=12, max_window_layers=1,
                    tie_word_embeddings=True, eos_token_id=0,
                    bos_token_id=None, initializer_range=0.2)),
    # Shapes that divide nothing evenly: hidden 72, 3 query heads of 24
    # channels and one KV head (MQA), an MLP of 98 (the linear kernels'
    # channel and row blocks leave remainders; 3 heads + 2 KV rows make 5
    # QKV work items), 3 layers.
    "llama-odd": dict(
        arch="llama", dtype=torch.float32,
        config=llama_base(hidden_size=72, num_attention_heads=3,
                          num_key_value_heads=1, intermediate_size=98,
                          num_hidden_layers=3)),
    # GPT-2 with the exact (erf) GELU, a non-default MLP width and
    # 1/(layer+1) attention scaling.
    "gpt2-erf": dict(
        arch="gpt2", dtype=torch.float32,
        config=dict(vocab_size=512, n_embd=64, n_layer=2, n_head=4,
                    n_inner=80, n_positions=256, activation_function="gelu",
                    scale_attn_by_inverse_layer_idx=True, eos_token_id=0,
                    bos_token_id=0, initializer_range=0.2)),
    # fp32 checkpoints whose goldens come from the weights rounded to bf16
    # / f16 (`round`): what llmc --weight-dtype bf16 / f16 must compute
    # when it narrows the checkpoint at load (round to nearest even).
    # Llama: merged QKV and gate/up recipes; GPT-2: transposed Conv1D
    # weights and the tied embedding / LM head.
    "llama-f32-as-bf16": dict(
        arch="llama", dtype=torch.float32, round=torch.bfloat16,
        llmc_args=["--weight-dtype=bf16"],
        config=llama_base(num_attention_heads=4, num_key_value_heads=1)),
    # int8 rows (llmc --quantize=int8): goldens on every projection weight
    # and the embedding table quantized per output channel / token row and
    # dequantized (round to nearest even of w / s, s = max|w| / 127); norms,
    # biases and positions stay fp32. Llama: untied LM head, merged QKV;
    # GPT-2: Conv1D weights per column (output channel), tied LM head.
    "llama-f32-as-int8": dict(
        arch="llama", dtype=torch.float32, quantize="int8",
        llmc_args=["--quantize=int8"],
        config=llama_base(num_attention_heads=4, num_key_value_heads=2,
                          initializer_range=0.1)),
    "gpt2-f32-as-int8": dict(
        arch="gpt2", dtype=torch.float32, quantize="int8",
        llmc_args=["--quantize=int8"],
        config=dict(vocab_size=512, n_embd=64, n_layer=2, n_head=4,
                    n_positions=256, eos_token_id=0, bos_token_id=0,
                    initializer_range=0.2)),
    "gpt2-f32-as-f16": dict(
        arch="gpt2", dtype=torch.float32, round=torch.float16,
        llmc_args=["--weight-dtype=f16"],
        config=dict(vocab_size=512, n_embd=64, n_layer=2, n_head=4,
                    n_positions=256, eos_token_id=0, bos_token_id=0,
                    initializer_range=0.2)),
}


def make_model(spec):
    if spec["arch"] == "llama":
        cfg = transformers.LlamaConfig(**spec["config"])
        model = transformers.LlamaForCausalLM(cfg)
    elif spec["arch"] == "qwen2":
        cfg = transformers.Qwen2Config(**spec["config"])
        model = transformers.Qwen2ForCausalLM(cfg)
    else:
        cfg = transformers.GPT2Config(**spec["config"])
        model = transformers.GPT2LMHeadModel(cfg)
    model.eval()
    return model


def round_weights(model, dtype):
    """Rounds the weights to `dtype`, so that the fp32 goldens use exactly
    the values the checkpoint holds (or llmc narrows it to)."""
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def q8_rows(w):
    """Per-row int8 quantize-dequantize, as llmc packs int8 rows."""
    s = w.abs().amax(dim=1, keepdim=True) / 127.0
    q = torch.where(s > 0, torch.round(w / torch.where(s > 0, s, 1.0)),
                    torch.zeros_like(w)).clamp(-127, 127)
    return q * s


def quantize_projections(model):
    """What llmc --quantize int8 quantizes: every projection and the
    embedding table (tied or not), per output channel / per token row."""
    with torch.no_grad():
        emb = model.get_input_embeddings().weight
        emb.copy_(q8_rows(emb))
        for name, mod in model.named_modules():
            if isinstance(mod, torch.nn.Linear):
                if mod.weight is not emb:
                    mod.weight.copy_(q8_rows(mod.weight))
            elif type(mod).__name__ == "Conv1D":  # GPT-2: [in, out]
                mod.weight.copy_(q8_rows(mod.weight.t()).t())


def to_legacy_config(path):
    cfg = json.loads(path.read_text())
    rope = cfg.pop("rope_parameters", None)
    if rope:
        cfg["rope_theta"] = rope.pop("rope_theta")
        if rope.get("rope_type", "default") != "default":
            rt = rope.pop("rope_type")
            cfg["rope_scaling"] = dict(type=rt, **rope) if rt == "dynamic" \
                else dict(rope_type=rt, **rope)
    if "dtype" in cfg:
        cfg["torch_dtype"] = cfg.pop("dtype")
    cfg.pop("layer_types", None)
    path.write_text(json.dumps(cfg, indent=2))


def greedy(model, prompt):
    # A fresh copy per prompt: dynamic rope keeps state across generate
    # calls (its cached length only grows), which would make a golden
    # depend on the prompts before it.
    model = copy.deepcopy(model)
    ids = torch.tensor([prompt])
    with torch.no_grad():
        out = model.generate(ids, max_new_tokens=NEW_TOKENS, do_sample=False,
                             output_logits=True, return_dict_in_generate=True,
                             eos_token_id=None, pad_token_id=0)
    new = out.sequences[0, len(prompt):].numpy()
    logits = torch.stack(out.logits, 1)[0].float().numpy()
    top2 = np.sort(logits, axis=1)[:, -2:]
    return new, logits, float((top2[:, 1] - top2[:, 0]).min())


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--tokenizer-from", required=True,
                    help="model dir whose tokenizer files to copy")
    ap.add_argument("--only", action="append")
    ap.add_argument("--golden-only", metavar="MODEL_DIR",
                    help="only write golden/ for an existing checkpoint "
                         "(e.g. models/demo)")
    args = ap.parse_args()
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if args.golden_only:
        out = pathlib.Path(args.golden_only)
        model = transformers.AutoModelForCausalLM.from_pretrained(
            out, dtype=torch.float32).eval()
        tokenizer = transformers.AutoTokenizer.from_pretrained(out)
        n = write_goldens(model, tokenizer, out, rng)
        print(f"{out}: {n} prompts")
        return
    tok_dir = pathlib.Path(args.tokenizer_from)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tok_dir)
    for name, spec in MODELS.items():
        if args.only and name not in args.only:
            continue
        out = pathlib.Path(args.out) / name
        if out.exists():
            shutil.rmtree(out)
        model = make_model(spec)
        round_weights(model, spec["dtype"])
        # Module.to() converts in place, buffers (rope inv_freq) included:
        # save a copy so the golden model keeps its fp32 buffers.
        save = copy.deepcopy(model).to(spec["dtype"])
        if "round" in spec:
            round_weights(model, spec["round"])
        if spec.get("quantize") == "int8":
            quantize_projections(model)
        kw = {"max_shard_size": spec["shard"]} if "shard" in spec else {}
        save.save_pretrained(out, **kw)
        if spec.get("legacy_config"):
            to_legacy_config(out / "config.json")
        for f in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(tok_dir / f, out / f)
        n = write_goldens(model, tokenizer, out, rng)
        if "llmc_args" in spec:
            # The flags the goldens assume (test/e2e/parity.py adds them).
            (out / "golden" / "llmc_args.json").write_text(
                json.dumps(spec["llmc_args"]) + "\n")
        print(f"{name}: {n} prompts -> {out}")


def write_goldens(model, tokenizer, out, rng):
    texts = ["Hello, world! This is a test of the compiler.",
             "The GNU General Public License is a free license.",
             "Subject to the terms and conditions of this License"]
    vocab = model.config.vocab_size
    golden = out / "golden"
    if golden.exists():
        shutil.rmtree(golden)
    golden.mkdir()
    prompts, index = [], 0
    candidates = [("ids", None, [int(x) for x in rng.integers(1, vocab, n)])
                  for n in (1, 7, 40, 5, 12, 33, 20, 3)]
    candidates += [("text", t, tokenizer(t)["input_ids"]) for t in texts]
    for kind, text, ids in candidates:
        if len(prompts) == 5:
            break
        new, logits, gap = greedy(model, ids)
        if gap < MIN_GAP:
            continue
        np.save(golden / f"p{index}.prompt_ids.npy", np.array(ids))
        np.save(golden / f"p{index}.ids.npy", new.astype(np.int64))
        np.save(golden / f"p{index}.logits.npy", logits)
        prompts.append(dict(index=index, kind=kind, text=text,
                            prompt_len=len(ids), min_top2_gap=gap))
        index += 1
    (golden / "prompts.json").write_text(json.dumps(prompts, indent=1))
    return len(prompts)


if __name__ == "__main__":
    main()
