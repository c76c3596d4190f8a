"""
Headless Chromium (Debian's package) driven by Playwright for Python.

Playwright's own browser download does not work on these machines, so the
tests launch /usr/bin/chromium by path; when it is missing they fail with the
command that installs it (CI installs it through `make chromium`).

Playwright's sync API keeps an asyncio loop running in the test thread, where
Django refuses synchronous ORM calls; `orm()` runs them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
from django.core.management import call_command
from django.db import connections

BASE_DIR = Path(__file__).resolve().parents[2]
ARTIFACTS = BASE_DIR / "test-artifacts" / "widget"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 860}

T = TypeVar("T")


def orm(function: Callable[..., T], *args, **kwargs) -> T:
    def call() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


@contextmanager
def module_rows(django_db_blocker, load: Callable[..., T], *args) -> Iterator[T]:
    """
    Rows a module's tests share with a server process: `load(*args)` once,
    the database flushed after the module (as a transactional test would).
    """
    with django_db_blocker.unblock():
        loaded = orm(load, *args)
    try:
        yield loaded
    finally:
        with django_db_blocker.unblock():
            orm(call_command, "flush", interactive=False, verbosity=0)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """
    Per module, not per session: while Playwright runs, its event loop keeps
    Django from running ORM calls in this thread, which later test modules need.
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Debian's chromium is not installed ({CHROMIUM} is missing). "
            "Install it with `make chromium` (apt-get install -y chromium).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(20_000)
    yield context
    context.close()


@pytest.fixture
def page(context):
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.dialogs = []

    def dismiss(dialog) -> None:
        page.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return page
