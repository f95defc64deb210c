"""Debian's Chromium, driven by Playwright, logged in to an Airflow stack through its form.

No browser is downloaded: Playwright launches the ``chromium`` on the PATH (``make test``
installs Debian's package when it is missing).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Page

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
]


@contextmanager
def logged_in(url: str, user: str, password: str) -> Iterator[Page]:
    """A page of a fresh browser, logged in to the Airflow UI at ``url`` as ``user``."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise RuntimeError("Debian's chromium is missing: apt-get install -y chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/")
            page.wait_for_url("**/auth/login**")
            page.locator("input[name=username]").fill(user)
            page.locator("input[name=password]").fill(password)
            page.keyboard.press("Enter")
            page.wait_for_url(lambda now: "/auth/login" not in now)
            yield page
        finally:
            browser.close()
