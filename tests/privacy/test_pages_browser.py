"""The public privacy and accessibility pages in real Chromium: no axe-core violations at 320 px, in German and in
English, and the footer reaches them from a tool page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import axe_violations
from tests.conftest import Lti

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/privacy", "/accessibility", "/privacy?lang=en", "/accessibility?lang=en"])
def test_public_pages_have_no_axe_violations(lti: Lti, browser: Any, path: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    response = page.goto(lti.tool.url + path)
    assert response is not None and response.status == 200
    assert axe_violations(page) == []
    # nothing wider than the screen at 320 px
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    context.close()


def test_footer_opens_both_pages_from_the_tool_in_the_lms_frame(lti: Lti, browser: Any) -> None:
    """Inside the LMS's iframe the footer opens the pages in a new window (the frame keeps the tool)."""
    context = browser.new_context()
    page = context.new_page()
    page.goto(lti.platform.url + "/")
    page.get_by_role("link", name="Botschafterin Lena (Lernende)").click()
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_text("Hallo Lena Schreiner!").first.wait_for(timeout=15000)
    for link, heading in (
        ("Datenschutz", "Datenschutzhinweise"),
        ("Barrierefreiheit", "Erklärung zur Barrierefreiheit"),
    ):
        with context.expect_page() as opened:
            frame.get_by_role("contentinfo").get_by_role("link", name=link).click()
        window = opened.value
        window.get_by_role("heading", level=1, name=heading).wait_for()
        assert axe_violations(window) == []
        window.close()
    frame.get_by_text("Hallo Lena Schreiner!").first.wait_for()  # the tool is still there
    context.close()
