#!/usr/bin/env python3
"""edit_config.py SRC DST EDIT: copies the model directory SRC's
config.json to DST/config.json with the JSON object EDIT merged into it
(keys set to null are removed), for the bad-config tests. EDIT may also be
the word 'deep N': a file that nests N arrays."""
import json
import pathlib
import sys


def main():
    src, dst, edit = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), \
        sys.argv[3]
    dst.mkdir(parents=True, exist_ok=True)
    if edit.startswith("deep "):
        n = int(edit.split()[1])
        (dst / "config.json").write_text("[" * n + "]" * n)
        return
    config = json.loads((src / "config.json").read_text())
    for k, v in json.loads(edit).items():
        if v is None:
            config.pop(k, None)
        else:
            config[k] = v
    (dst / "config.json").write_text(json.dumps(config))


if __name__ == "__main__":
    main()
