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


def test_footer_leads_from_a_tool_page_to_both_pages(lti: Lti, browser: Any) -> None:
    landing = lti.launch("volunteer")
    context = browser.new_context()
    page = context.new_page()
    page.goto(landing.url)
    footer = page.get_by_role("contentinfo")
    footer.get_by_role("link", name="Datenschutz").click()
    page.get_by_role("heading", level=1, name="Datenschutzhinweise").wait_for()
    page.go_back()
    page.get_by_role("contentinfo").get_by_role("link", name="Barrierefreiheit").click()
    page.get_by_role("heading", level=1, name="Erklärung zur Barrierefreiheit").wait_for()
    context.close()
