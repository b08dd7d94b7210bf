"""Headless Chromium through the DevTools protocol over a pipe: one browser process for every
page, no server, no network, no extra Python package.

Chromium started with ``--remote-debugging-pipe`` reads protocol commands (JSON, each ended
by a NUL byte) from its file descriptor 3 and writes replies and events to descriptor 4.
:class:`Browser` opens a page, :meth:`Browser.inspect` loads a file and returns what the
book's test checks (maths, raw LaTeX, links, images), :meth:`Browser.screenshot` saves a PNG.
Debian's ``chromium`` package is enough (``apt-get install chromium``); the flags are the
ones that keep it quiet on a machine without network or GPU.
"""
from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-dev-shm-usage", "--mute-audio",
         "--hide-scrollbars", "--remote-debugging-pipe"]

#: run in each page: what the test needs to know about it
INSPECT_JS = r"""
(() => {
  const skip = 'code, pre, math, script, style, .code';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode: n => n.parentElement.closest(skip) ? NodeFilter.FILTER_REJECT
                                                   : NodeFilter.FILTER_ACCEPT});
  const raw = [];
  while (walker.nextNode()) {
    const t = walker.currentNode.nodeValue;
    if (/\\[a-zA-Z]{2,}|\$|\^\{|_\{/.test(t)) raw.push(t.trim().slice(0, 100));
  }
  const maths = [...document.querySelectorAll('math')];
  return {
    title: document.title,
    maths: maths.length,
    mathsLaidOut: maths.filter(m => getComputedStyle(m).display.includes('math')
                                    && m.getBoundingClientRect().height > 0).length,
    badTex: document.querySelectorAll('.bad-tex').length,
    raw: raw,
    links: [...document.querySelectorAll('a[href]')].map(a => a.href),
    resources: [...document.querySelectorAll('script[src], link[href]')]
                 .map(e => e.src || e.href),
    images: [...document.querySelectorAll('img')]
              .map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0})),
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    styled: getComputedStyle(document.body).backgroundColor,
  };
})()
"""


def find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _high_fd(fd: int) -> int:
    """A copy of ``fd`` numbered above 10, so that placing it at 3 or 4 clobbers nothing."""
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)     # not inherited as such
    os.close(fd)
    return new


class Browser:
    """One headless Chromium; use as a context manager."""

    def __init__(self, executable: str | None = None, width: int = 1200, height: int = 1600,
                 timeout: float = 30.0):
        self.executable = executable or find_chromium()
        if self.executable is None:
            raise RuntimeError("no Chromium found (apt-get install chromium)")
        self.width, self.height, self.timeout = width, height, timeout
        self._id, self._buf, self._events = 0, b"", []

    # --- the process and the pipe ------------------------------------------------------------
    def __enter__(self) -> "Browser":
        self._profile = tempfile.mkdtemp(prefix="lockstep-chromium-")
        cmd_r, cmd_w = (_high_fd(fd) for fd in os.pipe())     # we write, Chromium reads (3)
        out_r, out_w = (_high_fd(fd) for fd in os.pipe())     # Chromium writes (4), we read

        def child():
            os.dup2(cmd_r, 3)
            os.dup2(out_w, 4)

        self._proc = subprocess.Popen(
            [self.executable, *FLAGS, f"--user-data-dir={self._profile}",
             f"--window-size={self.width},{self.height}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # os.dup2 makes 3 and 4 inheritable in the child; every other descriptor Python
            # opened is close-on-exec. (pass_fds=(3, 4, ...) made the parent's 3 and 4
            # inheritable first, and failed with EBADF once the report had written its plots.)
            preexec_fn=child, close_fds=False)
        os.close(cmd_r)
        os.close(out_w)
        self._w, self._r = cmd_w, out_r
        targets = self.send("Target.getTargets")["targetInfos"]
        page = next(t["targetId"] for t in targets if t["type"] == "page")
        self._session = self.send("Target.attachToTarget", targetId=page,
                                  flatten=True)["sessionId"]
        self.send("Page.enable", session=True)
        self.send("Emulation.setDeviceMetricsOverride", session=True, width=self.width,
                  height=self.height, deviceScaleFactor=1, mobile=False)
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - it may already be gone
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._w, self._r):
            os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or self._proc.poll() is not None:
                raise TimeoutError("Chromium did not answer in time")
            ready, _, _ = select.select([self._r], [], [], min(left, 0.5))
            if ready:
                chunk = os.read(self._r, 1 << 20)
                if not chunk:
                    raise RuntimeError("Chromium closed the DevTools pipe")
                self._buf += chunk
        msg, self._buf = self._buf.split(b"\0", 1)
        return json.loads(msg)

    def send(self, method: str, session: bool = False, timeout: float | None = None, **params):
        """Send one command and return its result (events that arrive meanwhile are kept)."""
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self._session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + self.timeout
        while True:
            for k, e in enumerate(self._events):
                if e.get("method") == method:
                    return self._events.pop(k)
            self._events.append(self._read_message(deadline))

    # --- pages ---------------------------------------------------------------------------------
    def load(self, path: str) -> None:
        self._events.clear()
        url = Path(os.path.abspath(path)).as_uri()
        result = self.send("Page.navigate", session=True, url=url)
        if result.get("errorText"):
            raise RuntimeError(f"{path}: {result['errorText']}")
        self._wait_event("Page.loadEventFired")

    def evaluate(self, expression: str):
        r = self.send("Runtime.evaluate", session=True, expression=expression,
                      returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"page script failed: {r['exceptionDetails']}")
        return r["result"].get("value")

    def inspect(self, path: str) -> dict:
        self.load(path)
        return self.evaluate(INSPECT_JS)

    def screenshot(self, path: str, out: str, max_height: int = 2400) -> None:
        """A PNG of the page's top ``max_height`` CSS pixels, ``width`` wide."""
        self.load(path)
        height = self.send("Page.getLayoutMetrics", session=True)["cssContentSize"]["height"]
        clip = {"x": 0, "y": 0, "width": self.width, "height": min(max_height, int(height)),
                "scale": 1}
        data = self.send("Page.captureScreenshot", session=True, format="png", clip=clip,
                         captureBeyondViewport=True)["data"]
        with open(out, "wb") as f:
            f.write(base64.b64decode(data))
