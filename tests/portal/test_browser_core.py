"""In a real browser: signing in, the language toggle and the "tidak berwenang" page."""

from __future__ import annotations

import pytest

from tests.plans.support import STAFF_A
from tests.portal.browser import login, screenshot

pytestmark = pytest.mark.browser


def test_sign_in_and_switch_language(live, page):
    page.goto(live.url + "/")
    assert "/login" in page.url
    login(page, live.url, STAFF_A[0])
    assert page.get_by_role("heading", level=1).inner_text() == "Selamat datang, Rina Wati"
    page.get_by_role("link", name="English").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Rina Wati"
    page.keyboard.press("Tab")  # the first stop is the skip link, for keyboard users
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    screenshot(page, "core-home-en")
