"""The coordinators' pages in a real Chromium: axe-core finds nothing, on a phone-sized and a desktop screen;
screenshots land in the git-ignored folder test-screenshots/ for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import axe_violations
from tests.dashboards.conftest import Seeded

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"
PAGES = {
    "overview": "dashboard/",
    "volunteers": "dashboard/volunteers",
    "volunteers-filtered": "dashboard/volunteers?module=m1-sicher-im-netz&state=done&sort=-activity",
    "modules": "dashboard/modules/",
    "module": "dashboard/modules/m1-sicher-im-netz",
    "live": "dashboard/live",
    "not-started": "dashboard/not-started",
    "audit": "audit/",
    "reminders": "dashboard/reminders?user={lena}&user={timo}",
    "detail": "dashboard/volunteers/{lena}",
}


@pytest.mark.parametrize("width", [360, 1280])
def test_dashboard_pages_have_no_axe_violations(seeded: Seeded, browser: Any, width: int) -> None:
    landing = seeded.lti.launch("coordinator")
    base = landing.url
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    SCREENSHOTS.mkdir(exist_ok=True)
    for name, path in PAGES.items():
        page.goto(base + path.format(**seeded.people))
        page.locator("h1").first.wait_for()
        assert axe_violations(page) == [], (name, width)
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}-{width}.png"), full_page=True)
    page.goto(base + "dashboard/?lang=en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert axe_violations(page) == []
    context.close()
