"""A real browser for the tests: headless Chromium (Debian's package) driven over the DevTools protocol on a pipe.

``Chromium.open()`` starts one with a new empty profile and every background service off (the test machine's
network is closed: anything reaching out floods refusals), ``load(path)`` opens a page file and waits for its load
event, collecting what its console says (``console.error`` and friends, uncaught exceptions, the browser's own
error entries: a blocked resource, a Content-Security-Policy violation), ``screenshot()`` returns a PNG of the page
and ``pdf()`` prints it (with the page's own ``@page`` size). The protocol runs over
``--remote-debugging-pipe``: Chromium reads commands on its fd 3 and writes replies and events on its fd 4, each
a JSON message ended by a NUL byte; no port, no websocket library.

A safety deadline stops a browser that hangs (a test fails, it never waits for ever); nothing asserts a time.
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
from pathlib import Path
from typing import Any

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--remote-debugging-pipe")
"""How Chromium is started: headless, without a sandbox (containers), with nothing of its own reaching out."""

DEADLINE = 90.0
"""Seconds a reply may take before the browser is taken to hang (a safety net, not a measure)."""


def chromium_path() -> str | None:
    """The Chromium to use: ``$CREDIT_LEDGER_TEST_CHROMIUM``, else ``chromium`` (Debian) or ``chromium-browser``
    on the PATH; ``None`` when there is none."""
    named = os.environ.get("CREDIT_LEDGER_TEST_CHROMIUM")
    if named:
        return named
    return shutil.which("chromium") or shutil.which("chromium-browser")


class BrowserError(RuntimeError):
    """Chromium failed to start, hung, closed its pipe or answered a command with an error."""


class Chromium:
    """One headless Chromium on a pipe, with one page (a tab) attached."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="cl-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: its fd 3 reads our commands, its fd 4 writes to us (dup2 makes them
            # inheritable; every other descriptor Python opened closes on exec). Not pass_fds=(3, 4): that needs the
            # parent's own fds 3 and 4 open when the child starts, and a file closed by the collector may be one.
            reads, writes = (fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_child_r, from_child_w))
            os.dup2(reads, 3)  # out of the way first, so neither lands on the other
            os.dup2(writes, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=wire)  # only 3 and 4 are inheritable: the rest close on exec
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session: str | None = None

    @classmethod
    def open(cls, executable: str) -> Chromium:
        """A started browser with a new blank page attached, its console, log and page events enabled."""
        browser = cls(executable)
        try:
            target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            browser.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                browser.send(f"{domain}.enable")
        except BaseException:
            browser.close()
            raise
        return browser

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the browser (this one, by its process) and remove its profile."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    # -- the protocol ----------------------------------------------------------------------------------------------

    def _read_message(self) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_child], [], [], DEADLINE)
            if not ready:
                raise BrowserError(f"Chromium sent nothing for {DEADLINE:g} s")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise BrowserError(f"Chromium closed its pipe (exit status {self.process.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command (to the attached page once there is one) and return its result; events that arrive
        meanwhile are kept in ``events``."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session is not None:
            message["sessionId"] = self.session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read_message()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        """The first event named ``method`` not yet seen (kept ones first), waiting for it."""
        for event in self.events:
            if event["method"] == method and not event.get("_seen"):
                event["_seen"] = True
                return event
        while True:
            event = self._read_message()
            if "method" in event:
                self.events.append(event)
                if event["method"] == method:
                    event["_seen"] = True
                    return event

    # -- what a test asks ------------------------------------------------------------------------------------------

    def load(self, path: Path, *, width: int = 1000, height: int = 1400) -> None:
        """Open the page file at ``path`` in a window of ``width`` x ``height`` and wait for its load event."""
        self.send("Emulation.setDeviceMetricsOverride",
                  {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": Path(path).resolve().as_uri()})
        self.wait_for("Page.loadEventFired")
        self.send("Runtime.evaluate", {"expression": "1"})  # let the console events of the load arrive

    def console_errors(self) -> list[str]:
        """What the page's console said at error level: ``console.error``/``assert`` calls, uncaught exceptions and
        the browser's error entries (a blocked resource, a policy violation, a network failure)."""
        errors = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(params["entry"].get("text", "error"))
        return errors

    def text(self) -> str:
        """The page's visible text (``document.body.innerText``)."""
        result = self.send("Runtime.evaluate", {"expression": "document.body.innerText", "returnByValue": True})
        return str(result["result"]["value"])

    def screenshot(self) -> bytes:
        """A PNG of the whole page, beyond the window."""
        return base64.b64decode(self.send("Page.captureScreenshot",
                                          {"format": "png", "captureBeyondViewport": True})["data"])

    def pdf(self) -> bytes:
        """The page printed to PDF, in the size its ``@page`` rule asks for."""
        return base64.b64decode(self.send("Page.printToPDF",
                                          {"preferCSSPageSize": True, "printBackground": True})["data"])

    def fonts_of(self, selector: str) -> list[dict[str, Any]]:
        """The fonts the browser drew the first element matching ``selector`` with (``familyName``,
        ``isCustomFont``: a web font, ``glyphCount``)."""
        self.send("DOM.enable")
        self.send("CSS.enable")
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts: list[dict[str, Any]] = self.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return fonts
