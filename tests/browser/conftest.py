"""Browser tests: Debian's Chromium, driven by Playwright, over the three services as real processes."""

import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.support.procs import ROOT
from tests.support.stack import Stack, running_stack

SIGNIN_LINK = re.compile(r"https?://\S+/signin/[\w-]+")


def screenshot_dir() -> Path:
    """docs/screenshots (the README shows them) when asked to refresh them, else the test artifacts."""
    if os.environ.get("PLANTRACK_UPDATE_SCREENSHOTS") == "1":
        return ROOT / "docs" / "screenshots"
    return ROOT / "artifacts" / "screenshots"


def shot(page: Page, name: str) -> Path:
    """A full-page PNG screenshot of `page`, kept as `name`.png."""
    path = screenshot_dir() / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium: Debian's package, not a downloaded build (skipped, saying so, without it).

    Module-scoped: Playwright's sync API runs an event loop in this thread while it is open, which
    the asyncio tests that follow in the same session cannot share."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium): the browser tests need it")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile (no cookies) that accepts downloads, in Vietnamese."""
    context = browser.new_context(accept_downloads=True, locale="vi-VN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


@pytest.fixture
def stack(make_vhost: Callable[[], str], make_database: Callable[[str], str], tmp_path: Path) -> Iterator[Stack]:
    """The three services as real processes, with a real SMTP server."""
    with running_stack(make_vhost(), make_database, tmp_path) as running:
        yield running


def emailed_link(stack: Stack, address: str, seen: int = 0, timeout: float = 20) -> str:
    """The sign-in link of the newest email to `address` (after the first `seen` of them)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        mine = [m for m in stack.smtp.mailbox.snapshot() if m["To"].addresses[0].addr_spec == address]
        for message in reversed(mine[seen:]):
            found = SIGNIN_LINK.search(message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
            if found:
                return found.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no sign-in link emailed to {address} within {timeout}s")


def sign_in(page: Page, stack: Stack, email: str, *, shots: bool = False) -> None:
    """Sign in through the real flow: the form, the emailed link, the confirm button."""
    seen = sum(1 for m in stack.smtp.mailbox.snapshot() if m["To"].addresses[0].addr_spec == email)
    page.goto(f"{stack.assignments.url}/signin")
    if shots:
        shot(page, "signin")
    page.get_by_label("Địa chỉ thư điện tử").fill(email)
    page.get_by_role("button", name="Gửi đường dẫn đăng nhập").click()
    page.get_by_role("heading", name="Kiểm tra hộp thư").wait_for()
    if shots:
        shot(page, "signin-sent")
    page.goto(emailed_link(stack, email, seen))
    page.get_by_role("heading", name="Xác nhận đăng nhập").wait_for()
    if shots:
        shot(page, "signin-confirm")
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
