#!/usr/bin/env python3
"""Makes tokenizer.json fixtures in the styles the shared models lack, with
the ids and decoded text that Hugging Face's `tokenizers` gives for a set
of strings (the runtime's TokenizerTest checks our C++ against them):

  llama3-style    Split by the Llama 3 regex + ByteLevel without regex,
                  ignore_merges, a <|begin_of_text|> template
  qwen2-style     NFC normalizer + Split by the Qwen2 regex + ByteLevel
  metaspace-first Metaspace pre-tokenizer (prepend_scheme "first") with
                  byte fallback and a <s> template (newer Llama 2 files)
  nfkc-lower      NFKC + Lowercase normalizers (Unicode, not ASCII only)
                  + Split by the Qwen2 regex + ByteLevel

The cases add Unicode that normalization changes (compatibility forms,
decomposed accents, non-ASCII capitals) and long runs (thousands of
spaces: one word for BPE) to the training strings; only the training
strings train the fixtures.

    python3 scripts/make_tokenizer_cases.py --out runtime/test/data/tokenizers
"""
import argparse
import json
import pathlib

from tokenizers import (Regex, Tokenizer, decoders, models, normalizers,
                        pre_tokenizers, processors, trainers)

LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?"
         r"[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")

CASES = ["Hello, world!", "  leading spaces and\ttabs\nnew lines\r\n\r\nend",
         "It's what they'LL do, we'd say", "numbers 1234567890 and 3.14159",
         "大模型推理优化 KV cache 分页", "emoji 🙂🚀 and accents café naïve",
         "", " ", "<|begin_of_text|>inline special", "x<s>y</s>z",
         "UPPER lower MiXeD 42nd", "tabs\t\tand  double  spaces  "]


# Checked, not trained on.
EXTRA = ["\ufb01ne \u00bd \u216b \uff21\uff22\uff23 \u2460 \u2122 x\u00b2",
         "cafe\u0301 \u212b \u1e9b\u0323 \u00c5ngstr\u00f6m",
         "\u00c0\u00c9\u00ce\u00d5\u00dc STRASSE Stra\u00dfe "
         "\u0391\u0392\u0393 \u03a9MEGA \u041a\u0418\u0420\u0418\u041b\u041b\u0418\u0426\u0410",
         "\u0130stanbul \u0130I\u0131i \u03a3\u039f\u03a3 \u1e9e\u00df",
         "a" + " " * 3000 + "b", "ab" * 1500, "\n" * 500 + "end"]


def corpus(licenses):
    texts = []
    for p in sorted(pathlib.Path(licenses).iterdir()):
        if p.is_file():
            texts.append(p.read_text(errors="replace")[:20000])
    return texts + CASES


def byte_level(pattern, specials, bos, normalizer=None):
    tok = Tokenizer(models.BPE(ignore_merges=bos is not None))
    if normalizer:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=700, special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    return tok, trainer


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--licenses", default="/usr/share/common-licenses")
    args = ap.parse_args()
    texts = corpus(args.licenses)
    made = {}

    tok, trainer = byte_level(LLAMA3, ["<|begin_of_text|>", "<|end_of_text|>"],
                              bos="<|begin_of_text|>")
    tok.train_from_iterator(texts, trainer)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.TemplateProcessing(
        single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A $B",
        special_tokens=[("<|begin_of_text|>", bos)])
    made["llama3-style"] = tok

    tok, trainer = byte_level(QWEN2, ["<|endoftext|>"], bos=None,
                              normalizer=normalizers.NFC())
    tok.train_from_iterator(texts, trainer)
    made["qwen2-style"] = tok

    tok = Tokenizer(models.BPE(byte_fallback=True, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first",
                                                 split=False)
    tok.decoder = decoders.Sequence([decoders.Metaspace(prepend_scheme="first"),
                                     decoders.ByteFallback(), decoders.Fuse()])
    specials = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    trainer = trainers.BpeTrainer(vocab_size=700, special_tokens=specials)
    tok.train_from_iterator(texts, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B",
        special_tokens=[("<s>", tok.token_to_id("<s>"))])
    made["metaspace-first"] = tok

    tok, trainer = byte_level(QWEN2, ["<|endoftext|>"], bos=None,
                              normalizer=normalizers.Sequence(
                                  [normalizers.NFKC(),
                                   normalizers.Lowercase()]))
    tok.train_from_iterator(texts, trainer)
    made["nfkc-lower"] = tok

    for name, tok in made.items():
        out = pathlib.Path(args.out) / name
        out.mkdir(parents=True, exist_ok=True)
        tok.save(str(out / "tokenizer.json"))
        cases = []
        for text in CASES + EXTRA:
            ids = tok.encode(text).ids
            cases.append(dict(text=text, ids=ids,
                              decoded=tok.decode(ids, skip_special_tokens=True)))
        (out / "cases.json").write_text(
            json.dumps(cases, ensure_ascii=False, indent=1))
        print(f"{name}: {len(cases)} cases")


if __name__ == "__main__":
    main()
