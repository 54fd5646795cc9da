#!/usr/bin/env python3
"""Serving benchmarks of llm-run serve, in one command (loopback only):

1. Continuous vs static batching: the same mixed workload (prompts of
   16-64 tokens, 8-256 new tokens) sent all at once to a server that runs
   at most --group sequences at a time (continuous: sequences join as others
   leave), and in static groups of --group requests, each waiting for its
   longest member. Generated tokens/s and mean / p99 completion time.
2. A request-rate sweep: Poisson arrivals at rising rates; TTFT and
   inter-token latency p50 / p99 and throughput at each.
3. FCFS vs MLFQ (--policy mlfq): a workload of a few long jobs and many
   short ones arriving over time; mean and p99 job completion time.

Each configuration runs in a fresh server process; rounds interleave the
configurations in a seeded random order and ratios are taken within a
round. The model is bench/cpu_decode.py's 125M Llama (random weights).

    python3 bench/serve.py --build build [--rounds 3]
"""
import argparse
import json
import os
import pathlib
import random
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from benchlib import print_table  # noqa: E402
import cpu_decode  # noqa: E402
import loadgen  # noqa: E402


class Server:
    def __init__(self, build, art, model, *extra):
        self.proc = subprocess.Popen(
            [str(build / "bin/llm-run"), str(art), "--weights", str(model),
             "serve", "--port", "0", *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in self.proc.stderr:
            m = re.search(r"on http://([^:]+):(\d+)", line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                # Keep reading its log so that it never blocks on it.
                threading.Thread(target=lambda: self.proc.stderr.read(),
                                 daemon=True).start()
                return
        raise SystemExit("the server did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=120)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--work", default=os.path.join(tempfile.gettempdir(),
                                                   "llmc-bench-serve"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=48)
    ap.add_argument("--group", type=int, default=8,
                    help="static batch size = the server's --max-seqs")
    ap.add_argument("--rates", default="1,2,4,8",
                    help="Poisson arrival rates (requests/s) to sweep")
    ap.add_argument("--markdown", help="also write the table here")
    args = ap.parse_args()
    build = pathlib.Path(args.build)
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    model = cpu_decode.make_model(work)
    art = work / "serve.llmc"
    subprocess.run([str(build / "bin/llmc"), str(model), "-o", str(art),
                    "--cpu", "native", "--max-seq-len", "512"], check=True,
                   capture_output=True)
    vocab = cpu_decode.CONFIG["vocab_size"]
    mixed = loadgen.workload(args.requests, 1, [16, 32, 64],
                             [8, 16, 32, 64, 128, 256], vocab)
    # MLFQ: 4 long jobs first, then short ones arriving.
    rng = random.Random(2)
    jobs = ([([rng.randrange(3, vocab) for _ in range(32)], 192)
             for _ in range(4)] +
            [([rng.randrange(3, vocab) for _ in range(32)], 16)
             for _ in range(28)])
    rates = [float(r) for r in args.rates.split(",")]

    def serve(max_seqs, *extra):
        return Server(build, art, model, "--max-seqs", str(max_seqs), *extra)

    configs = ["continuous", "static", "fcfs", "mlfq"] + \
        [f"rate {r:g}" for r in rates]
    out = {c: [] for c in configs}
    order_rng = random.Random(7)
    for rnd in range(args.rounds):
        order = configs[:]
        order_rng.shuffle(order)
        for c in order:
            if c in ("fcfs", "mlfq"):
                s = serve(4, "--policy", c)
                res, span = loadgen.run(s.host, s.port, jobs, "poisson",
                                        rate=8.0, seed=rnd)
            else:
                s = serve(args.group)
                if c == "continuous":
                    res, span = loadgen.run(s.host, s.port, mixed, "all")
                elif c == "static":
                    res, span = loadgen.run(s.host, s.port, mixed, "static",
                                            group=args.group)
                else:
                    rate = float(c.split()[1])
                    res, span = loadgen.run(s.host, s.port, mixed, "poisson",
                                            rate=rate, seed=rnd)
            s.stop()
            summ = loadgen.summary(res, span)
            if c in ("fcfs", "mlfq"):
                short = [r["latency"] for r in res if r["tokens"] == 16]
                summ["short_jct_mean"] = statistics.mean(short)
            out[c].append(summ)
            print(f"round {rnd + 1}: {c:<11} {summ['throughput']:7.1f} "
                  f"tok/s, JCT mean {summ['jct_mean']:6.2f} s p99 "
                  f"{summ['jct_p99']:6.2f} s, TTFT p50 "
                  f"{summ['ttft_p50'] * 1e3:7.1f} ms p99 "
                  f"{summ['ttft_p99'] * 1e3:7.1f} ms, ITL p50 "
                  f"{summ['itl_p50'] * 1e3:6.1f} ms p99 "
                  f"{summ['itl_p99'] * 1e3:6.1f} ms", flush=True)

    def med(c, k):
        return statistics.median(x[k] for x in out[c])

    def ratio(a, b, k):
        return statistics.median(x[k] / y[k] for x, y in zip(out[a], out[b]))

    rows = [("model", "Llama 125M (768/12L/12H/4KV/2048/32000), fp32"),
            ("rounds", f"{args.rounds}, each configuration a fresh server"),
            ("workload", f"{args.requests} requests, prompts 16-64, "
                         f"outputs 8-256 tokens, at most {args.group} "
                         "sequences at a time"),
            ("continuous batching", f"{med('continuous', 'throughput'):.1f} "
             f"tok/s, JCT mean {med('continuous', 'jct_mean'):.2f} s, p99 "
             f"{med('continuous', 'jct_p99'):.2f} s"),
            ("static batching", f"{med('static', 'throughput'):.1f} tok/s, "
             f"JCT mean {med('static', 'jct_mean'):.2f} s, p99 "
             f"{med('static', 'jct_p99'):.2f} s"),
            ("continuous / static", f"{ratio('continuous', 'static', 'throughput'):.2f}x "
             "throughput, "
             f"{ratio('static', 'continuous', 'jct_mean'):.2f}x shorter mean "
             "JCT")]
    for r in rates:
        c = f"rate {r:g}"
        rows.append((f"{r:g} req/s", f"{med(c, 'throughput'):.1f} tok/s, "
                     f"TTFT p50 {med(c, 'ttft_p50') * 1e3:.0f} ms p99 "
                     f"{med(c, 'ttft_p99') * 1e3:.0f} ms, ITL p50 "
                     f"{med(c, 'itl_p50') * 1e3:.1f} ms p99 "
                     f"{med(c, 'itl_p99') * 1e3:.1f} ms"))
    for c in ("fcfs", "mlfq"):
        rows.append((f"{c} (4 long + 28 short jobs, 4 seqs)",
                     f"JCT mean {med(c, 'jct_mean'):.2f} s, p99 "
                     f"{med(c, 'jct_p99'):.2f} s, short jobs' mean "
                     f"{med(c, 'short_jct_mean'):.2f} s"))
    rows.append(("mlfq / fcfs mean JCT",
                 f"{ratio('mlfq', 'fcfs', 'jct_mean'):.2f}x (p99 "
                 f"{ratio('mlfq', 'fcfs', 'jct_p99'):.2f}x, short jobs "
                 f"{ratio('mlfq', 'fcfs', 'short_jct_mean'):.2f}x)"))
    print_table(rows, args.markdown)


if __name__ == "__main__":
    main()
