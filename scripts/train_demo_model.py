#!/usr/bin/env python3
"""Trains the bundled demo model (models/demo): a ~1M-parameter Llama with a
byte-level BPE tokenizer, on the free-software license texts every Debian
system ships in /usr/share/common-licenses. It learns enough to continue
license prose, which is all the README's quick start needs, offline.

Needs torch, transformers and tokenizers (pip). About 12 minutes on 2 cores:

    python3 scripts/train_demo_model.py --out models/demo
"""
import argparse
import pathlib
import time

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

LICENSES = ["GPL-3", "GPL-2", "LGPL-2.1", "LGPL-3", "Apache-2.0", "MPL-2.0",
            "GFDL-1.3", "Artistic"]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--licenses", default="/usr/share/common-licenses")
    args = ap.parse_args()
    torch.manual_seed(0)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    texts = [(pathlib.Path(args.licenses) / n).read_text(errors="replace")
             for n in LICENSES if (pathlib.Path(args.licenses) / n).exists()]
    corpus = "\n\n".join(texts)

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=1024, special_tokens=["<|endoftext|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    tok.save(str(out / "tokenizer.json"))
    hf_tok = transformers.PreTrainedTokenizerFast(
        tokenizer_file=str(out / "tokenizer.json"),
        eos_token="<|endoftext|>")
    hf_tok.save_pretrained(out)

    ids = torch.tensor(tok.encode(corpus).ids)
    cfg = transformers.LlamaConfig(
        vocab_size=tok.get_vocab_size(), hidden_size=128,
        intermediate_size=352, num_hidden_layers=4, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512,
        rms_norm_eps=1e-5, tie_word_embeddings=True, eos_token_id=0,
        bos_token_id=None)
    model = transformers.LlamaForCausalLM(cfg)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3,
                                                total_steps=args.steps)
    seq, batch = 128, 32
    start = time.time()
    for step in range(args.steps):
        idx = torch.randint(0, len(ids) - seq - 1, (batch,))
        x = torch.stack([ids[i:i + seq] for i in idx])
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0 or step == args.steps - 1:
            print(f"step {step} loss {loss.item():.3f} "
                  f"({time.time() - start:.0f} s)", flush=True)
    model.eval()
    model.to(torch.bfloat16).save_pretrained(out)
    print(f"saved {sum(p.numel() for p in model.parameters())} parameters "
          f"to {out}")


if __name__ == "__main__":
    main()
