"""Real Chromium (Debian's) through Playwright: the demo LMS launches the tool in an iframe; axe-core finds
no accessibility violations on the tool's pages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser import axe_violations
from tests.conftest import Lti

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("volunteer", "Hallo Lena Schreiner!"), ("trainer", "Trainer*in"), ("coordinator", "Koordination")],
)
def test_demo_lms_launches_tool_in_iframe(lti: Lti, browser: Any, persona: str, expected: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    page.goto(lti.platform.url + "/")
    page.get_by_role("link", name=next(p.label for k, p in _personas().items() if k == persona)).click()
    frame = page.frame_locator("iframe[name=tool]")
    frame.get_by_text(expected).first.wait_for(timeout=15000)
    context.close()


def _personas() -> dict[str, Any]:
    from lms.demo.personas import PERSONAS

    return PERSONAS


def test_tool_pages_have_no_axe_violations(lti: Lti, browser: Any) -> None:
    landing = lti.launch("volunteer")
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(landing.url)
    page.get_by_text("Hallo Lena Schreiner!").wait_for()
    assert axe_violations(page) == []
    page.goto(lti.tool.url + "/t/expired/")
    assert axe_violations(page) == []
    page.goto(landing.url + "?lang=en")
    assert axe_violations(page) == []
    context.close()
