"""The certificates pages in a real Chromium: axe-core finds nothing, on a phone-sized and a desktop screen;
screenshots land in the git-ignored folder test-screenshots/ for people to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser import axe_violations
from tests.certificates.conftest import Certs

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"


def _check(page: Any, url: str, name: str, width: int) -> None:
    page.goto(url)
    page.locator("h1").first.wait_for()
    assert axe_violations(page) == [], (name, width)
    page.screenshot(path=str(SCREENSHOTS / f"certificates-{name}-{width}.png"), full_page=True)


@pytest.mark.parametrize("width", [360, 1280])
def test_certificate_pages_have_no_axe_violations(certs: Certs, browser: Any, width: int) -> None:
    lena_pages, lena = certs.reach_highest()
    award = certs.award(lena)
    timo_pages, _timo = certs.reach_highest("demo-timo", "volunteer-private")  # asked for a name
    coordinator = certs.launch("coordinator")
    SCREENSHOTS.mkdir(exist_ok=True)
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    pages = {
        "volunteer": lena_pages.url("certificates/"),
        "volunteer-name-form": timo_pages.url("certificates/"),
        "module-overview": lena_pages.url("m/"),
        "verify-valid": f"{certs.lti.tool.url}/verify/{award.id}",
        "verify-unknown": f"{certs.lti.tool.url}/verify/gibt-es-nicht",
        "awards": coordinator.url("dashboard/awards/"),
        "award": coordinator.url(f"dashboard/awards/{award.id}"),
    }
    for name, url in pages.items():
        _check(page, url, name, width)
    # a revoked certificate's pages
    page.goto(coordinator.url(f"dashboard/awards/{award.id}"))
    page.fill("#revoke-reason", "Test")
    page.click("text=Zertifikat jetzt widerrufen")
    page.locator("[role=status]").wait_for()
    assert axe_violations(page) == [], ("award-revoked", width)
    _check(page, f"{certs.lti.tool.url}/verify/{award.id}", "verify-revoked", width)
    _check(page, f"{certs.lti.tool.url}/verify/{award.id}?lang=en", "verify-revoked-en", width)
    assert page.locator("html").get_attribute("lang") == "en"
    context.close()
