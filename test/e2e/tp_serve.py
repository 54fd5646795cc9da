#!/usr/bin/env python3
"""A parallel artifact served over HTTP, then a rank killed.

Compiles --model with the --llmc-arg degrees (default --tp=2) and starts
`llm-run ART serve` without a launcher (it starts its ranks with mpirun).
Then:
  1. several concurrent completions (greedy) through rank 0's scheduler
     and server give the same tokens as the same model compiled for one
     rank, served the same way;
  2. the last rank is killed (SIGKILL): the whole job must end within
     --deadline seconds, non-zero, with the launcher's message naming that
     rank, rather than hang with rank 0 waiting in a collective;
  3. served again with --collective-timeout 3, the last rank is stopped
     (SIGSTOP, alive but stuck): rank 0's next collective or receive must
     give up after 3 s saying so, and the job must end.
"""
import argparse
import concurrent.futures as cf
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from server import Server  # noqa: E402

PROMPTS = [[1, 5, 9, 33, 7], [2, 8, 4], [1, 100, 200, 300, 12, 11, 10],
           [3], [1, 5, 9, 33, 7, 42]]


def complete(server, ids):
    status, body = server.request("POST", "/v1/completions", {
        "model": server.model, "prompt": ids, "max_tokens": 12,
        "temperature": 0, "ignore_eos": True})[:2]
    if status != 200:
        server.fail(f"answered {status}: {body}")
    return json.loads(body)["choices"][0]["text"]


def serve_all(llm_run, art, weights, *extra):
    s = Server(llm_run, art, weights, *extra)
    s.model = art.name.removesuffix(".llmc")
    with cf.ThreadPoolExecutor(len(PROMPTS)) as pool:
        texts = list(pool.map(lambda p: complete(s, p), PROMPTS))
    return s, texts


def poke(server):
    """A request that needs every rank (it may never be answered)."""
    try:
        server.request("POST", "/v1/completions", {
            "model": server.model, "prompt": [1, 2, 3], "max_tokens": 4})
    except OSError:
        pass  # the server went away mid-call


def ranks_of(pid):
    """The llm-run processes mpirun (pid) started, by their MPI rank."""
    out = {}
    for p in pathlib.Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            stat = (p / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid != pid:
                continue
            env = (p / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for e in env:
            if e.startswith(b"OMPI_COMM_WORLD_RANK="):
                out[int(e.split(b"=")[1])] = int(p.name)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--llm-run", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--deadline", type=float, default=60)
    ap.add_argument("--llmc-arg", action="append", default=[],
                    help="llmc flags of the parallel build (--tp=2 ...)")
    args = ap.parse_args()
    degrees = args.llmc_arg or ["--tp=2"]
    with tempfile.TemporaryDirectory() as tmp:
        arts = {}
        for name, flags in (("one", []), ("par", degrees)):
            arts[name] = pathlib.Path(tmp) / f"{name}.llmc"
            subprocess.run([args.llmc, args.model, "-o", str(arts[name]),
                            *flags], check=True)
        world = json.loads((arts["par"] / "manifest.json").read_text())
        world = world["parallel"]["tp"] * world["parallel"]["pp"]
        victim = world - 1
        one, want = serve_all(args.llm_run, arts["one"], args.model)
        one.proc.send_signal(signal.SIGTERM)
        one.proc.wait(60)
        two, got = serve_all(args.llm_run, arts["par"], args.model)
        if got != want:
            two.fail(f"{' '.join(degrees)} completions {got!r} differ from "
                     f"one rank's {want!r}")
        print(f"{len(PROMPTS)} concurrent completions: {' '.join(degrees)} "
              "== one rank")

        ranks = ranks_of(two.proc.pid)
        if sorted(ranks) != list(range(world)):
            two.fail(f"expected ranks 0..{world - 1} under mpirun, found "
                     f"{ranks}")
        os.kill(ranks[victim], signal.SIGKILL)
        # A request now needs the victim: it must not hang the job.
        threading.Thread(target=lambda: poke(two), daemon=True).start()
        try:
            rc = two.proc.wait(args.deadline)
        except subprocess.TimeoutExpired:
            two.fail(f"still running {args.deadline} s after rank {victim} "
                     "was killed")
        time.sleep(0.5)
        log = "".join(two.log)
        if rc == 0 or f"rank {victim}" not in log:
            sys.exit(f"after rank {victim} was killed: exit {rc}, expected "
                     f"non-zero and a message naming rank {victim}:\n{log}")
        print(f"rank {victim} killed: job ended (exit {rc}) naming it")

        three, _ = serve_all(args.llm_run, arts["par"], args.model,
                             "--collective-timeout=3")
        ranks = ranks_of(three.proc.pid)
        os.kill(ranks[victim], signal.SIGSTOP)
        threading.Thread(target=lambda: poke(three), daemon=True).start()
        try:
            rc = three.proc.wait(args.deadline)
        except subprocess.TimeoutExpired:
            os.kill(ranks[victim], signal.SIGKILL)
            three.fail(f"still running {args.deadline} s after rank {victim} "
                       "was stopped")
        finally:
            for pid in ranks.values():
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        time.sleep(0.5)
        log = "".join(three.log)
        if rc == 0 or "did not complete in 3 s" not in log:
            sys.exit(f"after rank {victim} was stopped: exit {rc}, expected "
                     f"non-zero and the timeout's message:\n{log}")
        print(f"rank {victim} stopped: the wait timed out, job ended "
              f"(exit {rc})")


if __name__ == "__main__":
    main()
