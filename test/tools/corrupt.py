#!/usr/bin/env python3
"""corrupt.py MODE SRC DST [ARG]: copies a model directory or an artifact
to DST and damages it in one way, for the bad-input tests.

Model modes (SRC is a Hugging Face model directory):
  truncate            cut model.safetensors in half
  offsets             make the last tensor's data_offsets run past the file
  drop TENSOR         remove TENSOR from the checkpoint
  dtype TENSOR        relabel TENSOR as I32 (same size, unsupported dtype)
  shape TENSOR        reverse TENSOR's shape (same size, wrong layout)
Artifact modes (SRC is an llmc artifact):
  flip-library        change one byte of the kernel library
  version             set the manifest's format_version to 99
  old-format          set it to 1 (an artifact of an older llmc)
  manifest-garbage    replace manifest.json with text that is not JSON
  plan-offset         move a launch's arena argument past the arena
  plan-kernel         make a launch name a kernel the program lacks
  plan-kv             give a launch's KV cache argument another layout
  missing-kernel      rename a kernel everywhere in the manifest, so the
                      library has no entry point for it
  limits              raise max_seq_len and max_batch_tokens fourfold (a
                      manifest consistent in itself, not with the library)
  foreign-library SRC2  take SRC2's kernel library (another build), its
                      fingerprint updated in the manifest
  tokenizer-edit      append a byte to tokenizer.json
"""
import json
import pathlib
import shutil
import struct
import sys


def read_st(path):
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_st(path, header, data):
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)


def main():
    mode, src, dst = sys.argv[1], pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3])
    arg = sys.argv[4] if len(sys.argv) > 4 else None
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    st = dst / "model.safetensors"
    if mode == "truncate":
        raw = st.read_bytes()
        st.write_bytes(raw[: len(raw) // 2])
    elif mode == "offsets":
        header, data = read_st(st)
        name = max((k for k in header if k != "__metadata__"),
                   key=lambda k: header[k]["data_offsets"][1])
        b, e = header[name]["data_offsets"]
        header[name]["data_offsets"] = [b + 64, e + 64]
        write_st(st, header, data)
    elif mode in ("drop", "dtype", "shape"):
        header, data = read_st(st)
        if arg not in header:
            sys.exit(f"no tensor {arg}")
        if mode == "drop":
            # A well-formed checkpoint without it: its bytes go too.
            b, e = header.pop(arg)["data_offsets"]
            data = data[:b] + data[e:]
            for k, v in header.items():
                if k != "__metadata__" and v["data_offsets"][0] >= e:
                    v["data_offsets"] = [o - (e - b) for o in v["data_offsets"]]
        elif mode == "dtype":
            header[arg]["dtype"] = "I32"
        else:
            header[arg]["shape"] = header[arg]["shape"][::-1]
        write_st(st, header, data)
    elif mode == "flip-library":
        lib = dst / "libkernels.so"
        raw = bytearray(lib.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        lib.write_bytes(bytes(raw))
    elif mode in ("version", "old-format"):
        m = json.loads((dst / "manifest.json").read_text())
        m["format_version"] = 99 if mode == "version" else 1
        (dst / "manifest.json").write_text(json.dumps(m))
    elif mode.startswith("plan-") or mode == "missing-kernel":
        m = json.loads((dst / "manifest.json").read_text())
        plan = m["plan"]
        if mode == "plan-offset":
            arg = next(a for e in plan for a in e["args"] if a["space"] == "arena")
            arg["offset"] = m["arena_bytes"]
        elif mode == "plan-kernel":
            plan[-1]["kernel"] = "no_such_kernel"
        elif mode == "plan-kv":
            arg = next(a for e in plan for a in e["args"] if a["space"] == "kv")
            arg["shape"][1] *= 2
        else:
            old = plan[0]["kernel"]
            m["program"]["kernels"] = ["renamed" if k == old else k
                                       for k in m["program"]["kernels"]]
            for e in plan:
                if e["kernel"] == old:
                    e["kernel"] = "renamed"
        (dst / "manifest.json").write_text(json.dumps(m))
    elif mode == "limits":
        m = json.loads((dst / "manifest.json").read_text())
        m["limits"]["max_seq_len"] *= 4
        m["limits"]["max_batch_tokens"] *= 4
        m["arena_bytes"] *= 4
        (dst / "manifest.json").write_text(json.dumps(m))
    elif mode == "foreign-library":
        other = pathlib.Path(arg)
        shutil.copy(other / "libkernels.so", dst / "libkernels.so")
        m = json.loads((dst / "manifest.json").read_text())
        m["program"]["fingerprint"] = json.loads(
            (other / "manifest.json").read_text())["program"]["fingerprint"]
        (dst / "manifest.json").write_text(json.dumps(m))
    elif mode == "tokenizer-edit":
        with open(dst / "tokenizer.json", "a") as f:
            f.write(" ")
    elif mode == "manifest-garbage":
        (dst / "manifest.json").write_text("this is not json {")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
