#!/usr/bin/env python3
"""The chat page at / in headless Chromium: type a message, press Enter,
see the reply stream in (the assistant's bubble grows over several
updates) with no error.

Drives Debian's `chromium` over the DevTools protocol (websocket-client).

    chat_page.py --llmc build/bin/llmc --llm-run build/bin/llm-run \
        --model models/tiny/llama-tiny --chat-template T.jinja
"""
import argparse
import itertools
import json
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

import websocket

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from server import Server, check  # noqa: E402


class Page:
    """One tab, driven through the DevTools protocol."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=30)
        self.ids = itertools.count(1)

    def call(self, method, **params):
        i = next(self.ids)
        self.ws.send(json.dumps({"id": i, "method": method,
                                 "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == i:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr,
                      returnByValue=True)
        return r.get("result", {}).get("value")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--llmc", required=True)
    ap.add_argument("--llm-run", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--chat-template", required=True)
    args = ap.parse_args()
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        sys.exit("chromium is not installed (scripts/setup.sh installs it)")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        art = tmp / "tiny.llmc"
        subprocess.run([args.llmc, args.model, "-o", str(art),
                        "--max-seq-len=512"], check=True)
        server = Server(args.llm_run, art, args.model, "--chat-template",
                        args.chat_template)
        profile = tmp / "profile"
        chrome = subprocess.Popen(
            [browser, "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--disable-dev-shm-usage",
             f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"http://{server.host}:{server.port}/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            port_file = profile / "DevToolsActivePort"
            for _ in range(300):
                if port_file.exists() and port_file.read_text().strip():
                    break
                time.sleep(0.1)
            port = int(port_file.read_text().split()[0])
            for _ in range(100):
                tabs = json.loads(urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/json").read())
                pages = [t for t in tabs if t.get("type") == "page" and
                         str(server.port) in t.get("url", "")]
                if pages:
                    break
                time.sleep(0.1)
            page = Page(pages[0]["webSocketDebuggerUrl"])
            for _ in range(100):
                if page.eval("document.readyState") == "complete" and \
                        page.eval("document.getElementById('model')"
                                  ".textContent") == "tiny":
                    break
                time.sleep(0.1)
            check(page.eval("document.getElementById('model').textContent")
                  == "tiny", "the page did not load the model name")
            # Type and press Enter, as a user would.
            page.call("Runtime.evaluate",
                      expression="document.getElementById('input').focus()")
            page.call("Input.insertText", text="Hello, who are you?")
            for kind in ("keyDown", "keyUp"):
                page.call("Input.dispatchKeyEvent", type=kind, key="Enter",
                          code="Enter", windowsVirtualKeyCode=13,
                          nativeVirtualKeyCode=13,
                          **({"text": "\r"} if kind == "keyDown" else {}))
            seen = set()
            deadline = time.time() + 60
            while time.time() < deadline:
                state = page.eval(
                    "JSON.stringify([...document.querySelectorAll('.msg')]"
                    ".map(d => [d.className, d.textContent]))")
                msgs = json.loads(state)
                if len(msgs) >= 2:
                    seen.add(msgs[1][1])
                    done = page.eval("conversation.length") == 2
                    if done or "error" in msgs[1][0]:
                        break
                time.sleep(0.005)
            check(len(msgs) == 2 and msgs[0] == ["msg user",
                                                 "Hello, who are you?"],
                  f"the user's bubble: {msgs}")
            check(msgs[1][0] == "msg assistant",
                  f"the reply failed: {msgs[1]}")
            check(msgs[1][1], "an empty reply")
            check(len(seen) >= 3, f"the reply did not stream ({len(seen)} "
                  "distinct states seen)")
            check(page.eval("document.getElementById('input').value") == "",
                  "the input was not cleared")
            print(f"chat page: typed a message, the reply streamed in over "
                  f"{len(seen)} updates ({len(msgs[1][1])} characters)")
        finally:
            chrome.kill()
            chrome.wait()
            server.stop()


if __name__ == "__main__":
    main()
