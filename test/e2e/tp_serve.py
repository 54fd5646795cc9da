#!/usr/bin/env python3
"""A tensor-parallel artifact served over HTTP, then a rank killed.

Compiles --model at --tp 2 and starts `llm-run ART serve` without a
launcher (it starts its two ranks with mpirun). Then:
  1. several concurrent completions (greedy) through rank 0's scheduler
     and server give the same tokens as the same artifact compiled at
     --tp 1, served the same way;
  2. rank 1 is killed (SIGKILL): the whole job must end within --deadline
     seconds, non-zero, with the launcher's message naming rank 1, rather
     than hang with rank 0 waiting in a collective;
  3. served again with --collective-timeout 3, rank 1 is stopped (SIGSTOP,
     alive but stuck): rank 0's next collective must give up after 3 s
     saying so, and the job must end.
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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        arts = {}
        for tp in (1, 2):
            arts[tp] = pathlib.Path(tmp) / f"tp{tp}.llmc"
            subprocess.run([args.llmc, args.model, "-o", str(arts[tp]),
                            f"--tp={tp}"], check=True)
        one, want = serve_all(args.llm_run, arts[1], args.model)
        one.proc.send_signal(signal.SIGTERM)
        one.proc.wait(60)
        two, got = serve_all(args.llm_run, arts[2], args.model)
        if got != want:
            two.fail(f"tp 2 completions {got!r} differ from tp 1's {want!r}")
        print(f"{len(PROMPTS)} concurrent completions: tp 2 == tp 1")

        ranks = ranks_of(two.proc.pid)
        if sorted(ranks) != [0, 1]:
            two.fail(f"expected ranks 0 and 1 under mpirun, found {ranks}")
        os.kill(ranks[1], signal.SIGKILL)
        # A request now needs rank 1: it must not hang the job.
        threading.Thread(target=lambda: poke(two), daemon=True).start()
        try:
            rc = two.proc.wait(args.deadline)
        except subprocess.TimeoutExpired:
            two.fail(f"still running {args.deadline} s after rank 1 was "
                     "killed")
        time.sleep(0.5)
        log = "".join(two.log)
        if rc == 0 or "rank 1" not in log:
            sys.exit(f"after rank 1 was killed: exit {rc}, expected non-zero "
                     f"and a message naming rank 1:\n{log}")
        print(f"rank 1 killed: job ended (exit {rc}) naming rank 1")

        three, _ = serve_all(args.llm_run, arts[2], args.model,
                             "--collective-timeout=3")
        ranks = ranks_of(three.proc.pid)
        os.kill(ranks[1], signal.SIGSTOP)
        threading.Thread(target=lambda: poke(three), daemon=True).start()
        try:
            rc = three.proc.wait(args.deadline)
        except subprocess.TimeoutExpired:
            os.kill(ranks[1], signal.SIGKILL)
            three.fail(f"still running {args.deadline} s after rank 1 was "
                       "stopped")
        finally:
            try:
                os.kill(ranks[1], signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.5)
        log = "".join(three.log)
        if rc == 0 or "did not complete in 3 s" not in log:
            sys.exit(f"after rank 1 was stopped: exit {rc}, expected non-zero "
                     f"and the timeout's message:\n{log}")
        print(f"rank 1 stopped: the collective timed out, job ended (exit {rc})")


if __name__ == "__main__":
    main()
