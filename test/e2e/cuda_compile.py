#!/usr/bin/env python3
"""The CUDA target without a GPU: every bundled model compiles with
--target=cuda for sm_80 and sm_90a; the artifact holds the PTX (for that
architecture), the plan with threads per block, and, where ptxas is found
(the CUDA toolkit), a cubin ptxas assembled, with every kernel entry's
register count in the compile report and no spills.

    cuda_compile.py --llmc build/bin/llmc --models models/tiny
"""
import argparse
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile


def ptxas_found():
    import os
    for var in ("LLMC_PTXAS",):
        if os.environ.get(var):
            return True
    for root in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"),
                 "/usr/local/cuda"):
        if root and pathlib.Path(root, "bin", "ptxas").exists():
            return True
    return shutil.which("ptxas") is not None


def has_driver():
    import ctypes
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def check_llm_run(args, tmp, model):
    """llm-run on a cuda artifact: without a driver, a clear error before
    the weights are read; the CUDA device itself runs in bench/gpu/check.sh
    on a GPU."""
    if has_driver():
        print("note: a CUDA driver is present; llm-run on the GPU is "
              "bench/gpu/check.sh's")
        return []
    art = tmp / f"{model.name}.sm_90a.llmc"
    r = subprocess.run([args.llm_run, str(art), "--weights", str(model),
                        "--prompt-ids", "1 2 3"], capture_output=True,
                       text=True)
    want = "this machine has no CUDA driver"
    if r.returncode != 1 or want not in r.stderr:
        return [f"llm-run on a cuda artifact without a driver: exit "
                f"{r.returncode}, {r.stderr.strip()!r}"]
    print("llm-run without a CUDA driver: a clear error, exit 1")
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--llm-run", help="also check llm-run on a cuda artifact")
    args = ap.parse_args()
    models = sorted(p for p in pathlib.Path(args.models).iterdir()
                    if (p / "config.json").exists())
    cubins = ptxas_found()
    if not cubins:
        print("note: no ptxas (CUDA toolkit) found: checking the PTX only")
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in models:
            for arch in ("sm_80", "sm_90a"):
                art = pathlib.Path(tmp) / f"{model.name}.{arch}.llmc"
                report = pathlib.Path(tmp) / f"{model.name}.{arch}.json"
                r = subprocess.run(
                    [args.llmc, str(model), "-o", str(art), "--target=cuda",
                     f"--arch={arch}", f"--report={report}"],
                    capture_output=True, text=True)
                where = f"{model.name} {arch}"
                if r.returncode != 0:
                    failures.append(f"{where}: llmc failed:\n{r.stderr}")
                    continue
                m = json.loads((art / "manifest.json").read_text())
                ptx = (art / m["program"]["library"]).read_text()
                problems = []
                if m["target"] != "cuda" or m["arch"] != arch:
                    problems.append("target/arch")
                if f".target {arch}" not in ptx:
                    problems.append(f"the PTX is not for {arch}")
                entries = {f"llmc_kernel_{k}" for k in m["program"]["kernels"]}
                for e in entries:
                    if f".entry {e}(" not in ptx:
                        problems.append(f"no .entry {e} in the PTX")
                if any(not e.get("threads") for e in m["plan"]):
                    problems.append("a launch without threads")
                rep = json.loads(report.read_text())
                if cubins:
                    c = m["program"].get("cubins", [])
                    if len(c) != 1 or c[0]["arch"] != arch or \
                            not (art / c[0]["file"]).stat().st_size:
                        problems.append("no cubin")
                    kernels = rep.get("ptxas", {}).get("kernels", {})
                    if set(kernels) != entries:
                        problems.append(f"ptxas reported {sorted(kernels)}")
                    for name, k in kernels.items():
                        if not 0 < k["registers"] <= 255:
                            problems.append(f"{name}: {k['registers']} "
                                            "registers")
                        if k["spill_stores"] or k["spill_loads"]:
                            problems.append(f"{name} spills")
                if problems:
                    failures.append(f"{where}: " + "; ".join(problems))
        if args.llm_run:
            failures += check_llm_run(args, pathlib.Path(tmp), models[0])
    for f in failures:
        print(f)
    if failures:
        sys.exit(f"{len(failures)} CUDA compiles failed")
    print(f"{len(models)} models x 2 architectures compiled for CUDA"
          + (" and assembled by ptxas" if cubins else ""))


if __name__ == "__main__":
    main()
