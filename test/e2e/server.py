#!/usr/bin/env python3
"""llm-run serve, end to end, over loopback.

Compiles a tiny model, starts the server, and checks, through raw HTTP and
the official `openai` client:
  - /health, /v1/models, /metrics, the chat page at /;
  - greedy results against transformers' goldens (the model's golden/
    prompts), through the server;
  - 64 concurrent requests of mixed lengths: all complete, each equals the
    same prompt run alone; again with a KV pool too small for all of them
    at once (the metrics must show preemptions);
  - streaming: the chunks concatenate to the non-streamed result, end with
    [DONE], and carry usage when asked;
  - a stream closed by the client is cancelled and its blocks freed;
  - 256 concurrent streaming connections all complete;
  - n > 1, logprobs, echo with prompt logprobs as lm-eval sends them, stop
    strings, chat through a chat template;
  - bad requests get 400 with an OpenAI error body and the server keeps
    serving; --api-key gives 401 without the key;
  - SIGTERM: the request in flight finishes, the process exits 0.

    server.py --llmc build/bin/llmc --llm-run build/bin/llm-run \
        --model models/tiny/llama-tiny --chat-template T.jinja
"""
import argparse
import concurrent.futures as cf
import http.client
import json
import pathlib
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np


class Server:
    def __init__(self, llm_run, art, weights, *extra):
        self.proc = subprocess.Popen(
            [llm_run, str(art), "--weights", str(weights), "serve",
             "--port", "0", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.log = []
        deadline = time.time() + 60
        while time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.log.append(line)
            m = re.search(r"on http://([^:]+):(\d+)", line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                break
        else:
            self.fail("did not start")
        if not hasattr(self, "port"):
            self.fail("did not start")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stderr:
            self.log.append(line)

    def fail(self, what):
        self.proc.kill()
        sys.exit(f"server {what}:\n{''.join(self.log)}")

    def request(self, method, path, body=None, headers=None, raw=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        data = raw if raw is not None else (
            json.dumps(body) if body is not None else None)
        conn.request(method, path, body=data,
                     headers={"Content-Type": "application/json",
                              **(headers or {})})
        res = conn.getresponse()
        text = res.read().decode()
        conn.close()
        return res.status, text

    def post(self, path, body, **kw):
        status, text = self.request("POST", path, body, **kw)
        return status, json.loads(text)

    def stream(self, path, body):
        """The data: payloads of a streamed response, as parsed JSON (or
        the string "[DONE]")."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
        conn.request("POST", path, body=json.dumps({**body, "stream": True}),
                     headers={"Content-Type": "application/json"})
        res = conn.getresponse()
        assert res.status == 200, res.read()
        events = []
        for line in res.read().decode().split("\n\n"):
            if not line.strip():
                continue
            assert line.startswith("data: "), line
            data = line[len("data: "):]
            events.append(data if data == "[DONE]" else json.loads(data))
        conn.close()
        return events

    def metrics(self):
        status, text = self.request("GET", "/metrics")
        assert status == 200
        out = {}
        for line in text.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            name, value = line.rsplit(" ", 1)
            out[name.split("{")[0]] = float(value)
        return out

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=60)


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")


def completion(server, prompt, max_tokens, **kw):
    status, body = server.post("/v1/completions", {
        "prompt": prompt, "max_tokens": max_tokens, "temperature": 0,
        "ignore_eos": True, "logprobs": 0, **kw})
    check(status == 200, f"completion failed: {status} {body}")
    return body


def ids_of(body, i=0):
    """What identifies a greedy result: choice i's text and its tokens'
    logprobs (rounded)."""
    c = body["choices"][i]
    return c["text"], [round(x, 4) for x in c["logprobs"]["token_logprobs"]]


def mixed_prompts(n, vocab, seed):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        length = rng.choice([1, 3, 8, 20, 45, 70])
        out.append(([rng.randrange(vocab) for _ in range(length)],
                    rng.choice([1, 4, 16, 40])))
    return out


def concurrent_matches_alone(server, prompts, alone):
    with cf.ThreadPoolExecutor(len(prompts)) as pool:
        got = list(pool.map(lambda p: ids_of(completion(server, *p)),
                            prompts))
    for i, (g, a) in enumerate(zip(got, alone)):
        check(g[0] == a[0], f"prompt {i}: concurrent text differs from alone")
        check(len(g[1]) == len(a[1]), f"prompt {i}: token count differs")


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--llm-run", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--chat-template", required=True)
    args = ap.parse_args()
    model = pathlib.Path(args.model)
    golden = model / "golden"
    vocab = json.loads((model / "config.json").read_text())["vocab_size"]

    with tempfile.TemporaryDirectory() as tmp:
        art = pathlib.Path(tmp) / "tiny.llmc"
        subprocess.run([args.llmc, str(model), "-o", str(art),
                        "--max-seq-len=160", "--max-batch-tokens=64"],
                       check=True)
        server = Server(args.llm_run, art, model, "--chat-template",
                        args.chat_template)
        try:
            run_checks(server, args, golden, vocab, art, model)
        except BaseException:
            print("".join(server.log[-40:]))
            server.proc.kill()
            raise
        # SIGTERM with a request in flight: it finishes, exit code 0.
        results = []
        t = threading.Thread(target=lambda: results.append(
            completion(server, [1, 2, 3], 150)))
        t.start()
        # Signal once the request runs (or already ended).
        for _ in range(400):
            if results or server.metrics()["llmc_num_requests_running"] >= 1:
                break
            time.sleep(0.005)
        code = server.stop()
        t.join()
        check(code == 0, f"SIGTERM: exit code {code}")
        check(results and results[0]["choices"][0]["finish_reason"] in
              ("length", "abort"), "SIGTERM: the request in flight ended")
        print("SIGTERM: in-flight request finished, exit 0")

        # A pool too small for all at once: preemption, same results.
        small = Server(args.llm_run, art, model, "--kv-blocks", "24")
        try:
            prompts = mixed_prompts(64, vocab, seed=5)
            alone = [ids_of(completion(small, *p)) for p in prompts]
            before = small.metrics()["llmc_preemptions_total"]
            concurrent_matches_alone(small, prompts, alone)
            m = small.metrics()
            check(m["llmc_preemptions_total"] > before,
                  "the small pool never preempted")
            check(m["llmc_kv_cache_blocks_used"] == 0, "blocks leaked")
            print(f"64 concurrent requests on 24 KV blocks: all equal alone, "
                  f"{int(m['llmc_preemptions_total'] - before)} preemptions")
        finally:
            small.stop()

        # A request past --request-timeout is cancelled: 504, blocks freed.
        timed = Server(args.llm_run, art, model, "--request-timeout",
                       "0.05")
        try:
            # 128 sequences of 150 tokens: far more than 50 ms.
            status, body = timed.post("/v1/completions", {
                "prompt": [1, 2, 3], "max_tokens": 150, "temperature": 0,
                "n": 128, "ignore_eos": True})
            check(status == 504 and body["error"]["code"] == "timeout",
                  f"timeout: {status} {body}")
            for _ in range(100):
                m = timed.metrics()
                if m["llmc_kv_cache_blocks_used"] == 0 and \
                        m["llmc_request_aborted_total"] == 1:
                    break
                time.sleep(0.02)
            check(m["llmc_request_aborted_total"] == 1 and
                  m["llmc_kv_cache_blocks_used"] == 0, "timeout: not freed")
            print("--request-timeout: 504, the request cancelled, blocks "
                  "freed")
        finally:
            timed.stop()

        # An API key.
        keyed = Server(args.llm_run, art, model, "--api-key", "s3cret")
        try:
            status, body = keyed.post("/v1/completions",
                                      {"prompt": [1], "max_tokens": 1})
            check(status == 401 and body["error"]["code"] == "invalid_api_key",
                  f"no key: {status} {body}")
            status, body = keyed.post(
                "/v1/completions", {"prompt": [1], "max_tokens": 1},
                headers={"Authorization": "Bearer s3cret"})
            check(status == 200, f"with the key: {status} {body}")
            print("--api-key: 401 without it, 200 with it")
        finally:
            keyed.stop()
    print("server: all checks passed")


def run_checks(server, args, golden, vocab, art, model):
    status, text = server.request("GET", "/health")
    check(status == 200, "/health")
    status, text = server.request("GET", "/v1/models")
    models = json.loads(text)
    check(status == 200 and models["data"][0]["id"] == "tiny", "/v1/models")
    status, text = server.request("GET", "/")
    check(status == 200 and "<html" in text and "/v1/chat/completions" in text,
          "the chat page")

    # Greedy through the server equals transformers' goldens: the CLI's
    # token ids are the goldens, and the server's text is the CLI's.
    prompts = json.loads((golden / "prompts.json").read_text())
    checked = 0
    for p in prompts:
        ids = np.load(golden / f"p{p['index']}.prompt_ids.npy").tolist()
        want = np.load(golden / f"p{p['index']}.ids.npy").tolist()
        if len(ids) + len(want) > 160:
            continue
        cli = json.loads(subprocess.run(
            [args.llm_run, str(art), "--weights", str(model), "--prompt-ids",
             " ".join(map(str, ids)), "--max-tokens", str(len(want)),
             "--ignore-eos", "--format", "json"],
            capture_output=True, text=True, check=True).stdout)
        check(cli["token_ids"] == want, f"golden p{p['index']}: CLI ids")
        body = completion(server, ids, len(want))
        check(body["choices"][0]["text"] == cli["text"],
              f"golden p{p['index']}: server text differs from the CLI's")
        check(len(body["choices"][0]["logprobs"]["tokens"]) == len(want),
              f"golden p{p['index']}: {len(want)} tokens")
        checked += 1
    check(checked > 0, "no golden prompt fits")
    print(f"goldens: {checked} prompts through the server equal transformers")

    # Bad requests: 400 with an error body, and the server keeps serving.
    bad = [
        ({"raw": "{not json"}, "JSON"),
        ({"prompt": "hi", "max_tokens": "x"}, "max_tokens"),
        ({"prompt": [1, 2, vocab + 5]}, "vocabulary"),
        ({"prompt": [1] * 150, "max_tokens": 20}, "context"),
        ({"prompt": [1], "n": 0}, "'n'"),
        ({"prompt": [1], "n": 1000}, "'n'"),
        ({"prompt": [1], "temperature": -1}, "temperature"),
        ({"prompt": [1], "top_p": 0}, "top_p"),
        ({"prompt": [1], "model": "nope"}, "does not exist"),
        ({"prompt": []}, "empty"),
        ({"prompt": [1], "stop": 5}, "stop"),
        ({"prompt": [1], "logprobs": 99}, "logprobs"),
        ({}, "prompt"),
        ({"prompt": [1], "best_of": 3}, "best_of"),
    ]
    for body, needle in bad:
        if "raw" in body:
            status, text = server.request("POST", "/v1/completions",
                                          raw=body["raw"])
            res = json.loads(text)
        else:
            status, res = server.post("/v1/completions", body)
        check(status == 400, f"{body}: status {status}")
        check(needle.lower() in res["error"]["message"].lower(),
              f"{body}: message {res['error']['message']!r} lacks {needle!r}")
        check(res["error"]["type"] == "invalid_request_error", "error type")
    status, res = server.post("/v1/chat/completions", {"messages": []})
    check(status == 400, "chat without messages")
    status, text = server.request("GET", "/v1/nothing")
    check(status == 404 and "error" in json.loads(text), "404 body")
    check(completion(server, [1, 2], 2)["choices"][0]["finish_reason"] ==
          "length", "serving after bad requests")
    print(f"bad requests: {len(bad) + 2} refused with OpenAI error bodies")

    # 64 concurrent requests of mixed lengths equal each run alone.
    mixed = mixed_prompts(64, vocab, seed=1)
    alone = [ids_of(completion(server, *p)) for p in mixed]
    concurrent_matches_alone(server, mixed, alone)
    print("64 concurrent requests: each equals the prompt run alone")

    # Streaming concatenates to the non-streamed result.
    body = {"prompt": [5, 6, 7, 8], "max_tokens": 24, "temperature": 0,
            "ignore_eos": True}
    status, whole = server.post("/v1/completions", body)
    events = server.stream("/v1/completions",
                           {**body, "stream_options": {"include_usage": True}})
    check(events[-1] == "[DONE]", "stream ends with [DONE]")
    text = "".join(c["text"] for e in events[:-1] if e.get("choices")
                   for c in e["choices"])
    check(text == whole["choices"][0]["text"], "streamed text differs")
    usage = [e for e in events[:-1] if e.get("usage")]
    check(usage and usage[0]["usage"] == whole["usage"], "stream usage")
    finish = [c["finish_reason"] for e in events[:-1] for c in e["choices"]
              if c.get("finish_reason")]
    check(finish == ["length"], f"stream finish {finish}")
    print("streaming: concatenates to the non-streamed result, usage, [DONE]")

    # A stream the client drops is cancelled; its blocks come back.
    before = server.metrics()
    sock = socket.create_connection((server.host, server.port))
    # 128 sequences of 150 tokens: long enough that the engine is still
    # running when the client's close is noticed, even on a busy machine.
    payload = json.dumps({"prompt": [1, 2, 3], "max_tokens": 150, "n": 128,
                          "temperature": 0, "ignore_eos": True,
                          "stream": True})
    sock.sendall((f"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                  f"Content-Type: application/json\r\nContent-Length: "
                  f"{len(payload)}\r\n\r\n{payload}").encode())
    sock.recv(4096)
    sock.close()
    for _ in range(200):
        m = server.metrics()
        if (m["llmc_request_aborted_total"] > before[
                "llmc_request_aborted_total"] and
                m["llmc_kv_cache_blocks_used"] == 0):
            break
        time.sleep(0.05)
    check(m["llmc_request_aborted_total"] >
          before["llmc_request_aborted_total"], "the dropped stream was "
          "not cancelled")
    check(m["llmc_kv_cache_blocks_used"] == 0, "cancelled blocks not freed")
    print("a dropped stream: cancelled, blocks freed")

    # 256 concurrent streaming connections.
    def one_stream(i):
        events = server.stream("/v1/completions", {
            "prompt": [i % vocab, 3], "max_tokens": 6, "temperature": 0,
            "ignore_eos": True})
        return events[-1] == "[DONE]"
    with cf.ThreadPoolExecutor(256) as pool:
        done = list(pool.map(one_stream, range(256)))
    check(all(done), "256 concurrent streams")
    print("256 concurrent streaming connections: all complete")

    # The openai client.
    import openai
    client = openai.OpenAI(base_url=f"http://{server.host}:{server.port}/v1",
                           api_key="unused")
    r = client.completions.create(model="tiny", prompt="Hello there",
                                  max_tokens=8, temperature=0, n=2,
                                  logprobs=2)
    check(len(r.choices) == 2 and r.choices[0].text == r.choices[1].text,
          "n=2 greedy choices")
    check(len(r.choices[0].logprobs.token_logprobs) == r.usage.completion_tokens
          // 2, "logprobs per token")
    check(all(len(t) <= 2 for t in r.choices[0].logprobs.top_logprobs),
          "top_logprobs")
    s = client.completions.create(model="tiny", prompt="Hello there",
                                  max_tokens=8, temperature=0, stream=True)
    check("".join(c.choices[0].text for c in s) == r.choices[0].text,
          "openai client stream")
    # lm-eval's local-completions loglikelihood request.
    ids = [3, 14, 15, 92, 65, 35]
    r = client.completions.create(model="tiny", prompt=[ids], echo=True,
                                  logprobs=1, max_tokens=1, temperature=0,
                                  seed=1234)
    lp = r.choices[0].logprobs
    check(lp.token_logprobs[0] is None and
          len(lp.token_logprobs) == len(ids) + 1 and
          all(x is not None for x in lp.token_logprobs[1:]),
          f"echo logprobs {lp.token_logprobs}")
    check(lp.top_logprobs[0] is None and
          all(len(t) == 1 for t in lp.top_logprobs[1:]), "echo top_logprobs")
    # Seeded sampling is reproducible.
    a = client.completions.create(model="tiny", prompt="Once", max_tokens=12,
                                  temperature=1.0, seed=7)
    b = client.completions.create(model="tiny", prompt="Once", max_tokens=12,
                                  temperature=1.0, seed=7)
    check(a.choices[0].text == b.choices[0].text, "seeded sampling")
    # Chat through the template, streamed and not.
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi!"}]
    c = client.chat.completions.create(model="tiny", messages=messages,
                                       max_tokens=10, temperature=0,
                                       logprobs=True, top_logprobs=1)
    check(c.choices[0].message.role == "assistant", "chat role")
    check(len(c.choices[0].logprobs.content) == c.usage.completion_tokens,
          "chat logprobs")
    st = client.chat.completions.create(model="tiny", messages=messages,
                                        max_tokens=10, temperature=0,
                                        stream=True)
    check("".join(x.choices[0].delta.content or "" for x in st
                  if x.choices) == c.choices[0].message.content,
          "chat stream")
    # The prompt the template made, token for token.
    out = subprocess.run([args.llm_run, str(art), "chat-template",
                          "--chat-template", args.chat_template,
                          "--messages", "/dev/stdin"],
                         input=json.dumps(messages), capture_output=True,
                         text=True, check=True).stdout
    check(c.usage.prompt_tokens > 0 and "<|im_start|>assistant" in out,
          "chat prompt")
    # Stop strings end the text before the string.
    whole = client.completions.create(model="tiny", prompt=[4, 5, 6],
                                      max_tokens=30, temperature=0,
                                      extra_body={"ignore_eos": True})
    text = whole.choices[0].text
    if len(text) > 6:
        stop = text[3:6]
        cut = client.completions.create(model="tiny", prompt=[4, 5, 6],
                                        max_tokens=30, temperature=0,
                                        stop=[stop],
                                        extra_body={"ignore_eos": True})
        check(cut.choices[0].text == text[:text.index(stop)] and
              cut.choices[0].finish_reason == "stop", "stop string")
    try:
        client.completions.create(model="other", prompt="x", max_tokens=1)
        check(False, "unknown model accepted")
    except openai.BadRequestError:
        pass
    print("openai client: completions, n, logprobs, echo (lm-eval), seed, "
          "chat, streams, stop, errors")


if __name__ == "__main__":
    main()
