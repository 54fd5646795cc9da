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
  flip-library        change one byte of the step library
  version             set the manifest's format_version to 99
  manifest-garbage    replace manifest.json with text that is not JSON
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
            del header[arg]
        elif mode == "dtype":
            header[arg]["dtype"] = "I32"
        else:
            header[arg]["shape"] = header[arg]["shape"][::-1]
        write_st(st, header, data)
    elif mode == "flip-library":
        lib = dst / "libstep.so"
        raw = bytearray(lib.read_bytes())
        raw[len(raw) // 2] ^= 0xFF
        lib.write_bytes(bytes(raw))
    elif mode == "version":
        m = json.loads((dst / "manifest.json").read_text())
        m["format_version"] = 99
        (dst / "manifest.json").write_text(json.dumps(m))
    elif mode == "manifest-garbage":
        (dst / "manifest.json").write_text("this is not json {")
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
