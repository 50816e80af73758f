#!/usr/bin/env python3
"""Loads a page in headless chromium and prints its DOM after the page's scripts ran for a
while (--dump-dom prints it at the load event, before any server-sent event arrives, and
--virtual-time-budget never ends while an EventSource is open). Speaks the DevTools protocol
over --remote-debugging-pipe (fd 3 in, fd 4 out, NUL-terminated JSON), standard library only.

usage: chromium_dom.py URL SECONDS [SCREENSHOT.png]
"""
import base64, json, os, subprocess, sys, tempfile, time

url, seconds = sys.argv[1], float(sys.argv[2])
screenshot = sys.argv[3] if len(sys.argv) > 3 else None
to_chrome_r, to_chrome_w = os.pipe()
from_chrome_r, from_chrome_w = os.pipe()
profile = tempfile.mkdtemp(prefix="chromium-")


def child_fds():
    # Through fds out of the way first: the pipes may themselves be 3 and 4, in any order.
    read_end, write_end = os.dup2(to_chrome_r, 100), os.dup2(from_chrome_w, 101)
    os.dup2(read_end, 3)
    os.dup2(write_end, 4)


browser = subprocess.Popen(
    ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
     "--hide-scrollbars", "--window-size=1280,1000", "--remote-debugging-pipe", f"--user-data-dir={profile}"],
    pass_fds=(3, 4), preexec_fn=child_fds,
    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(to_chrome_r)
os.close(from_chrome_w)
buffer = b""
next_id = 0


def call(method, params=None, session=None):
    global buffer, next_id
    next_id += 1
    message = {"id": next_id, "method": method, "params": params or {}}
    if session:
        message["sessionId"] = session
    os.write(to_chrome_w, json.dumps(message).encode() + b"\0")
    deadline = time.time() + 30
    while time.time() < deadline:
        while b"\0" in buffer:
            raw, buffer = buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == next_id:
                if "error" in reply:
                    raise SystemExit(f"{method}: {reply['error']}")
                return reply.get("result", {})
        chunk = os.read(from_chrome_r, 1 << 16)
        if not chunk:
            raise SystemExit("chromium closed the pipe")
        buffer += chunk
    raise SystemExit(f"{method}: no answer")


try:
    target = call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    call("Page.enable", session=session)
    call("Page.navigate", {"url": url}, session=session)
    time.sleep(seconds)
    dom = call("Runtime.evaluate", {"expression": "document.documentElement.outerHTML", "returnByValue": True},
               session=session)["result"]["value"]
    if screenshot:
        image = call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)
        with open(screenshot, "wb") as file:
            file.write(base64.b64decode(image["data"]))
    print(dom)
    try:
        call("Browser.close")
    except SystemExit:
        pass
finally:
    try:
        browser.wait(timeout=5)
    except subprocess.TimeoutExpired:
        browser.kill()
    subprocess.run(["rm", "-rf", profile])
