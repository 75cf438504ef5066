"""Browser tests: Playwright driving Debian's headless Chromium (``/usr/bin/chromium``; the
project installs it — ``.ci/run`` — and never downloads a browser) against the live stack.

Each journey saves a screenshot of its last page to ``artifacts/browser/<name>.png``.
Without Chromium the tests skip, except under ``REQUIRE_SERVICES=1`` (CI), where they fail."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "browser"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def chromium_or_skip() -> str:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    try:
        import playwright  # noqa: F401
    except ImportError:
        pytest.fail("the playwright package is missing: make install")
    return CHROMIUM


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, base_url: str, person: str) -> None:
    """Sign in through the development login page (choose the person, press Masuk)."""
    page.goto(f"{base_url}/login")
    page.select_option("#f-person", person)
    page.get_by_role("button", name="Masuk").click()
    page.wait_for_load_state()
