"""Browser tests: Playwright's Python API driving Debian's Chromium (launched by its path;
Playwright's own browser download is not used) against real server processes.

Every page is watched for the whole test: a request to any host but the service's, an
uncaught script error, an error logged by a script, or a dialog (`alert(1)`) fails it.
Without a Chromium the tests are skipped, unless TIMELINE_REQUIRE_BROWSER is set (CI
sets it, so that a missing browser fails the run instead of passing it quietly).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2 as httpx
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, sync_playwright

from bench.common import CHROMIUM_ARGS, chromium_path
from service.cli import seed_path
from tests.conftest import WRITE, ServerFactory
from tests.databases import Databases
from tests.server import ServerProcess

pytestmark = pytest.mark.server
ARGS = CHROMIUM_ARGS


# Package scope, not session: while Playwright's sync API is open it keeps an event loop
# running in this thread, and the other tests' asyncio.run() would refuse to start.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    path = chromium_path()
    if path is None:
        message = "no Chromium to drive: `apt-get install chromium`, or set TIMELINE_CHROMIUM"
        if os.environ.get("TIMELINE_REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=path, args=ARGS)
        yield browser
        browser.close()


def seed_events() -> list[dict[str, Any]]:
    return [json.loads(line) for line in seed_path().read_text().splitlines()]


def append(server: ServerProcess, *events: dict[str, Any]) -> list[dict[str, Any]]:
    response = httpx.post(
        server.url + "/events/batch", json={"events": list(events)}, headers=WRITE, timeout=30
    )
    assert response.status_code == 201, response.text
    stored: list[dict[str, Any]] = response.json()["events"]
    return stored


def seeded(server: ServerProcess) -> ServerProcess:
    append(server, *seed_events())
    return server


@pytest.fixture
def server(database_url: str, start_server: ServerFactory) -> ServerProcess:
    """A server of this test's own, with the seed article stored."""
    return seeded(start_server(database_url))


@pytest.fixture(scope="module")
def reading_server(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One seeded server for a module's tests that only read."""
    process = ServerProcess(databases.fresh_url(), tmp_path_factory.mktemp("server") / "server.log")
    try:
        yield seeded(process)
    finally:
        process.stop()


@dataclass
class Viewer:
    """A page of the viewer and what it did that it should not have."""

    page: Page
    server: ServerProcess
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    posts: list[str] = field(default_factory=list)
    # Requests the page's Content-Security-Policy stopped before they left the browser.
    blocked: list[str] = field(default_factory=list)
    csp_reports: list[str] = field(default_factory=list)
    # The few a test expects (a third-party bundle's), which then must be blocked.
    may_block: set[str] = field(default_factory=set)

    def watch(self) -> None:
        self.page.on("request", self._request)
        self.page.on("requestfailed", self._failed)
        self.page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        self.page.on("console", self._console)
        self.page.on("dialog", self._dialog)

    def _request(self, request: Request) -> None:
        # A blob: URL of the page's own origin is made in the page (ReDoc's worker).
        if not request.url.removeprefix("blob:").startswith(self.server.url + "/"):
            self.outside.append(request.url)
        if request.method == "POST":
            self.posts.append(request.url)

    def _failed(self, request: Request) -> None:
        if request.failure in ("csp", "net::ERR_BLOCKED_BY_CSP"):
            self.blocked.append(request.url)

    def _console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.csp_reports.append(message.text)
        # Chromium logs every answer of 4xx or 5xx as an error; those the tests ask for are fine.
        elif message.type == "error" and "Failed to load resource" not in message.text:
            self.errors.append(f"console: {message.text}")

    def check(self) -> None:
        sent = [url for url in self.outside if url not in self.blocked]
        assert not sent, f"requests to other hosts: {sent}"
        assert set(self.blocked) <= self.may_block, f"blocked by the policy: {self.blocked}"
        if not self.may_block:
            assert not self.csp_reports, f"policy violations: {self.csp_reports}"
        assert not self.errors, f"script errors: {self.errors}"
        assert not self.dialogs, f"dialogs opened: {self.dialogs}"

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def open(self, query: str = "", *, ready: bool = True) -> Page:
        self.page.goto(self.server.url + "/" + query)
        if ready:
            self.wait_ready()
        return self.page

    def wait_ready(self) -> None:
        """The state shown, and the date control's days known (its slider has its stops)."""
        self.page.wait_for_selector("body[data-ready='true']")
        self.page.wait_for_selector("#date-control[data-loaded='true']")

    def wait_position(self, position: int) -> None:
        self.page.wait_for_selector(f"body[data-position='{position}']")

    def wait_query(self, **expected: str) -> None:
        """Wait until the address bar's query holds exactly these keys (in any order)."""

        def holds(url: str) -> bool:
            return dict(parse_qsl(urlsplit(url).query)) == expected

        self.page.wait_for_url(holds)

    def use_key(self, key: str) -> None:
        self.page.locator(".key-box summary").click()
        self.page.fill("#key-input", key)
        self.page.get_by_role("button", name="Use this key").click()
        self.page.locator(".key-box summary").click()


def viewer_for(browser: Browser, server: ServerProcess, width: int = 1280) -> Iterator[Viewer]:
    context = browser.new_context(viewport={"width": width, "height": 900})
    viewer = Viewer(context.new_page(), server)
    viewer.watch()
    try:
        yield viewer
    finally:
        context.close()
    viewer.check()


@pytest.fixture
def viewer(chromium: Browser, server: ServerProcess) -> Iterator[Viewer]:
    yield from viewer_for(chromium, server)


@pytest.fixture
def reader(chromium: Browser, reading_server: ServerProcess) -> Iterator[Viewer]:
    yield from viewer_for(chromium, reading_server)
