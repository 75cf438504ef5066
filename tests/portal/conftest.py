from __future__ import annotations

import pytest

from tests.portal.support import Stack


@pytest.fixture
def stack(tmp_path):
    s = Stack(tmp_path)
    yield s
    s.close()


@pytest.fixture
def live(tmp_path):
    from tests.portal.support import LiveStack

    s = LiveStack(tmp_path)
    yield s
    s.close()


@pytest.fixture(scope="session")
def browser():
    from tests.portal.browser import FLAGS, chromium_or_skip

    path = chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=path, headless=True, args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="id-ID")
    p = context.new_page()
    p.set_default_timeout(15000)
    yield p
    context.close()


@pytest.fixture
def phone(browser):
    from tests.portal.browser import PHONE

    context = browser.new_context(locale="id-ID", **PHONE)
    p = context.new_page()
    p.set_default_timeout(15000)
    yield p
    context.close()
