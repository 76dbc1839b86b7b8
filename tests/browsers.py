"""What the browser test modules share: the Chromium they drive and the flags it runs
with, the check that it (and whatever else a module needs) is on the machine, the app
served by uvicorn on a loopback port, and full-page screenshots in tests/artifacts/.

The server listens on a socket bound before uvicorn starts, so a browser's first
request waits in the socket's backlog until the server accepts it; no test polls or
sleeps for the server to come up."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from starlette.types import ASGIApp

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_HINT = "apt-get install -y chromium"
# Headless in a container: no sandbox or GPU, and nothing fetched or updated behind the
# tests' back.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).parent / "artifacts"


def require(*needed: tuple[Path, str]) -> None:
    """Skip the calling module unless every `(path, hint)` exists and Playwright imports;
    under CI=true a missing path fails instead, so a CI machine cannot pass by skipping.
    Call it at module level, before anything that needs the browser."""
    for path, hint in needed:
        if not path.exists():  # pragma: no cover - depends on the machine
            reason = f"{path} is missing: {hint}"
            if os.environ.get("CI") == "true":
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason, allow_module_level=True)
    pytest.importorskip("playwright.sync_api")


@contextmanager
def serve(app: ASGIApp) -> Iterator[str]:
    """Serve `app` with uvicorn in a daemon thread on a free 127.0.0.1 port, yielding its
    base URL (no trailing slash); the server stops and the socket closes on exit."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium (the machine's own, with `ARGS`) driven by Playwright; closed,
    with Playwright stopped, on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot of `page` as tests/artifacts/<name>.png (the folder
    ignores itself in git) and return where it went."""
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ".gitignore").write_text("*\n")
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
