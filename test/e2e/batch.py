#!/usr/bin/env python3
"""llm-run batch, end to end: OpenAI batch lines and bare request bodies,
completions and chat, bad lines among good ones; results in input order,
greedy results equal the CLI's; an interrupted run (output cut in the
middle of a line) resumes without redoing the finished lines.

    batch.py --llmc build/bin/llmc --llm-run build/bin/llm-run \
        --model models/tiny/llama-tiny --chat-template T.jinja
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile


def check(cond, what):
    if not cond:
        sys.exit(f"FAILED: {what}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--llm-run", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--chat-template", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        art = tmp / "tiny.llmc"
        subprocess.run([args.llmc, args.model, "-o", str(art),
                        "--max-seq-len=128"], check=True)
        lines, expect = [], []
        for i in range(24):
            prompt = [1 + i, 2 + i % 5, 3]
            body = {"prompt": prompt, "max_tokens": 3 + i % 7,
                    "temperature": 0, "ignore_eos": True}
            if i % 4 == 0:
                lines.append(json.dumps({"custom_id": f"req-{i}",
                                         "method": "POST",
                                         "url": "/v1/completions",
                                         "body": body}))
                expect.append(("completion", prompt, body["max_tokens"], 200))
            elif i % 4 == 1:
                chat = {"messages": [{"role": "user", "content": f"q{i}"}],
                        "max_tokens": 4, "temperature": 0}
                lines.append(json.dumps({"custom_id": f"req-{i}",
                                         "url": "/v1/chat/completions",
                                         "body": chat}))
                expect.append(("chat", None, None, 200))
            elif i % 4 == 2:
                lines.append(json.dumps(body))
                expect.append(("completion", prompt, body["max_tokens"], 200))
            else:
                lines.append(json.dumps({**body, "n": 2}))
                expect.append(("n2", prompt, body["max_tokens"], 200))
        lines.insert(5, "{this is not json")
        expect.insert(5, ("bad", None, None, 400))
        lines.insert(9, json.dumps({"prompt": [1], "temperature": -2}))
        expect.insert(9, ("bad", None, None, 400))
        lines.insert(12, "")  # blank lines are skipped
        inp = tmp / "in.jsonl"
        inp.write_text("\n".join(lines) + "\n")
        expect_lines = len([ln for ln in lines if ln.strip()])

        def run(out, *extra):
            return subprocess.run(
                [args.llm_run, str(art), "--weights", args.model, "batch",
                 str(inp), "-o", str(out), "--chat-template",
                 args.chat_template, *extra],
                capture_output=True, text=True)

        full = tmp / "full.jsonl"
        r = run(full)
        check(r.returncode == 0, f"batch failed:\n{r.stderr}")
        results = [json.loads(x) for x in full.read_text().splitlines()]
        check(len(results) == expect_lines,
              f"{len(results)} results for {expect_lines} requests")
        for k, (res, (kind, prompt, max_tokens, status)) in enumerate(
                zip(results, expect)):
            line_no = k + 1
            check(res["id"] == f"batch-req-{line_no}", f"order at {k}")
            check(res["response"]["status_code"] == status,
                  f"line {line_no}: status {res['response']['status_code']}")
            body = res["response"]["body"]
            if kind == "bad":
                check("error" in body, f"line {line_no}: error body")
                continue
            if kind == "chat":
                check(body["object"] == "chat.completion", "chat object")
                continue
            cli = json.loads(subprocess.run(
                [args.llm_run, str(art), "--weights", args.model,
                 "--prompt-ids", " ".join(map(str, prompt)),
                 "--max-tokens", str(max_tokens), "--ignore-eos",
                 "--format", "json"],
                capture_output=True, text=True, check=True).stdout)
            for choice in body["choices"]:
                check(choice["text"] == cli["text"],
                      f"line {line_no}: batch text differs from the CLI's")
            check(len(body["choices"]) == (2 if kind == "n2" else 1),
                  f"line {line_no}: choices")
        print(f"batch: {len(results)} results in input order, greedy equal "
              "to the CLI, bad lines answered 400")

        # Interrupted after 7 results and half of the 8th: resume.
        part = tmp / "part.jsonl"
        kept = full.read_text().splitlines(keepends=True)
        part.write_text("".join(kept[:7]) + kept[7][:len(kept[7]) // 2])
        r = run(part)
        check(r.returncode == 0, f"resume failed:\n{r.stderr}")
        check("already holds 7 results" in r.stderr, f"resume: {r.stderr}")
        resumed = part.read_text().splitlines(keepends=True)
        check(resumed[:7] == kept[:7], "the finished lines were rewritten")

        def strip(line):
            x = json.loads(line)
            x["response"]["body"].pop("created", None)
            return x
        check([strip(x) for x in resumed] == [strip(x) for x in kept],
              "the resumed output differs from the full run")
        # Done already: nothing to redo.
        r = run(part)
        check(r.returncode == 0 and part.read_text() == "".join(resumed),
              "a finished output changed on rerun")
        print("batch: an interrupted run resumes where it stopped")


if __name__ == "__main__":
    main()
