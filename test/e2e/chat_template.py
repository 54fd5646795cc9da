#!/usr/bin/env python3
"""llmc's chat-template interpreter against Python's jinja2.

Renders every template in test/e2e/chat-templates/ with every conversation
below, once with jinja2 set up as transformers sets it up for
apply_chat_template (sandboxed, trim_blocks, lstrip_blocks, loopcontrols,
raise_exception, strftime_now, tojson = json.dumps), once with
`llm-run ART chat-template`, and requires the same text, or an error from
both (the same message when the template raises one).

    chat_template.py --llmc build/bin/llmc --llm-run build/bin/llm-run \
        --model models/tiny/llama-tiny
"""
import argparse
import json
import pathlib
import subprocess
import sys
import tempfile
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather at a place, \"now\".",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"]}}}]

CONVERSATIONS = [
    {"messages": [{"role": "user", "content": "Hello!"}]},
    {"messages": [{"role": "system", "content": "  Be brief.  "},
                  {"role": "user", "content": "What is 2 + 2?"},
                  {"role": "assistant", "content": "4."},
                  {"role": "user", "content": "And 3 + 3?\nThanks."}]},
    {"messages": [{"role": "user", "content": "Ünïcödé: 日本語 😀 \"quotes\""
                   " and \\ backslash\ttab"}],
     "add_generation_prompt": False},
    {"messages": [{"role": "user", "content": "Weather in Paris?"},
                  {"role": "assistant", "content": "", "tool_calls": [
                      {"type": "function", "function": {
                          "name": "get_weather",
                          "arguments": {"city": "Paris", "days": 2}}}]},
                  {"role": "tool", "content": "{\"temp\": 21.5}"},
                  {"role": "assistant", "content": "It is 21.5 C."}],
     "tools": TOOLS},
    {"messages": [{"role": "user", "content": "one"},
                  {"role": "user", "content": "two in a row"}]},
    {"messages": [{"role": "system", "content": "sys"},
                  {"role": "user", "content": "A much longer message that "
                   "goes on, with punctuation! And more words."}],
     "tools": TOOLS},
    {"messages": [{"role": "assistant", "content": "starts with assistant"}]},
    {"messages": [{"role": "user", "content": ""}]},
]


def jinja_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None,
               sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                          separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True,
        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--llm-run", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--templates", default=str(
        pathlib.Path(__file__).parent / "chat-templates"))
    args = ap.parse_args()
    env = jinja_env()
    failures = 0
    # The special tokens llm-run takes from the model's tokenizer_config.
    config = json.loads(
        (pathlib.Path(args.model) / "tokenizer_config.json").read_text())

    def special(key):
        v = config.get(key)
        return v.get("content", "") if isinstance(v, dict) else (v or "")
    bos, eos = special("bos_token"), special("eos_token")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        art = tmp / "model.llmc"
        subprocess.run([args.llmc, args.model, "-o", str(art)], check=True)
        convs = tmp / "conversations.json"
        convs.write_text(json.dumps({"conversations": CONVERSATIONS}))
        templates = sorted(pathlib.Path(args.templates).glob("*.jinja"))
        if not templates:
            sys.exit(f"no templates in {args.templates}")
        for path in templates:
            out = subprocess.run(
                [args.llm_run, str(art), "chat-template", "--chat-template",
                 str(path), "--messages", str(convs)],
                capture_output=True, text=True)
            if out.returncode != 0:
                print(f"{path.name}: llm-run failed:\n{out.stderr}")
                failures += 1
                continue
            ours = json.loads(out.stdout)
            template = env.from_string(path.read_text())
            for i, conv in enumerate(CONVERSATIONS):
                try:
                    want = {"text": template.render(
                        messages=conv["messages"],
                        add_generation_prompt=conv.get(
                            "add_generation_prompt", True),
                        bos_token=bos, eos_token=eos,
                        **({"tools": conv["tools"]} if "tools" in conv
                           else {}))}
                except jinja2.exceptions.TemplateError as e:
                    want = {"error": str(e)}
                got = ours[i]
                same = (got == want if "text" in want
                        else "error" in got and
                        (want["error"] in got["error"]))
                if not same:
                    failures += 1
                    print(f"{path.name}, conversation {i}: differs\n"
                          f"  jinja2: {json.dumps(want)}\n"
                          f"  llmc:   {json.dumps(got)}")
            print(f"{path.name}: {len(CONVERSATIONS)} conversations checked")
    if failures:
        sys.exit(f"{failures} renderings differ from jinja2")


if __name__ == "__main__":
    main()
