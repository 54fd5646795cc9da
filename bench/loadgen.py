#!/usr/bin/env python3
"""A bounded load generator for an OpenAI-compatible server on loopback.

Sends streaming /v1/completions requests (token-id prompts, greedy,
ignore_eos, a fixed max_tokens each) either all at once, in static groups
(each group waits for its longest member), or with Poisson arrivals at a
given rate, and records per request: the time to the first token, the gaps
between streamed chunks, and the completion time. Refuses non-loopback
hosts and caps concurrency.

    python3 bench/loadgen.py --port 8000 --requests 32 --rate 2
"""
import argparse
import http.client
import json
import random
import statistics
import threading
import time

MAX_CONCURRENCY = 512


def workload(n, seed, prompt_lens, output_lens, vocab):
    """n (prompt ids, max_tokens) pairs drawn from the given lengths."""
    rng = random.Random(seed)
    return [([rng.randrange(3, vocab) for _ in range(rng.choice(prompt_lens))],
             rng.choice(output_lens)) for _ in range(n)]


def one(host, port, prompt, max_tokens, t0, arrival):
    """Streams one request that arrived at `arrival` (seconds since t0);
    returns its timings."""
    start = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=600)
    body = json.dumps({"prompt": prompt, "max_tokens": max_tokens,
                       "temperature": 0, "ignore_eos": True,
                       "stream": True})
    conn.request("POST", "/v1/completions", body=body,
                  headers={"Content-Type": "application/json"})
    res = conn.getresponse()
    if res.status != 200:
        raise RuntimeError(f"HTTP {res.status}: {res.read()[:200]}")
    chunks = []
    buf = b""
    while True:
        data = res.read1(65536)
        if not data:
            break
        buf += data
        while b"\n\n" in buf:
            line, buf = buf.split(b"\n\n", 1)
            if line.startswith(b"data: ") and line != b"data: [DONE]":
                chunks.append(time.monotonic())
    conn.close()
    end = time.monotonic()
    arrived = t0 + arrival
    return {"start": start - t0, "end": end - t0,
            "ttft": (chunks[0] if chunks else end) - arrived,
            "itl": [b - a for a, b in zip(chunks, chunks[1:])],
            "latency": end - arrived, "tokens": max_tokens}


def run(host, port, work, mode="all", rate=None, group=16, seed=0):
    """Runs a workload: mode 'all' (everything at t=0), 'static' (groups of
    `group`, each after the previous finished) or 'poisson' (arrivals at
    `rate` per second). Latencies count from a request's arrival (t=0 for
    'all' and 'static': a static batcher holds the later groups back).
    Returns the per-request records and the makespan."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("loadgen: loopback hosts only")
    if len(work) > MAX_CONCURRENCY:
        raise SystemExit(f"loadgen: at most {MAX_CONCURRENCY} requests")
    t0 = time.monotonic()
    results = [None] * len(work)
    errors = []

    def worker(i, delay, arrival):
        if delay > 0:
            time.sleep(delay)
        try:
            results[i] = one(host, port, *work[i], t0, arrival)
        except Exception as e:  # reported after the run
            errors.append(e)

    if mode == "static":
        for g in range(0, len(work), group):
            threads = [threading.Thread(target=worker, args=(i, 0, 0.0))
                       for i in range(g, min(g + group, len(work)))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    else:
        rng = random.Random(seed)
        at, threads = 0.0, []
        for i in range(len(work)):
            threads.append(threading.Thread(target=worker,
                                            args=(i, at, at)))
            if mode == "poisson":
                at += rng.expovariate(rate)
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise SystemExit(f"loadgen: {len(errors)} requests failed: "
                         f"{errors[0]}")
    makespan = max(r["end"] for r in results)
    return results, makespan


def pct(xs, p):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def summary(results, makespan):
    ttft = [r["ttft"] for r in results]
    itl = [x for r in results for x in r["itl"]]
    lat = [r["latency"] for r in results]
    tokens = sum(r["tokens"] for r in results)
    return {"throughput": tokens / makespan, "makespan": makespan,
            "ttft_p50": pct(ttft, 50), "ttft_p99": pct(ttft, 99),
            "itl_p50": pct(itl, 50), "itl_p99": pct(itl, 99),
            "jct_mean": statistics.mean(lat), "jct_p99": pct(lat, 99)}


def main():
    ap = argparse.ArgumentParser(
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--requests", type=int, default=32)
    ap.add_argument("--mode", choices=["all", "static", "poisson"],
                    default="poisson")
    ap.add_argument("--rate", type=float, default=2.0)
    ap.add_argument("--group", type=int, default=16)
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    work = workload(args.requests, args.seed, [16, 64, 128, 256],
                    [8, 32, 64, 128], args.vocab)
    results, makespan = run(args.host, args.port, work, args.mode,
                            args.rate, args.group, args.seed)
    print(json.dumps(summary(results, makespan), indent=1))


if __name__ == "__main__":
    main()
