"""The delivery page and the roster say when something happened in the page's language: German dates in German,
English ones after the person chose English (and on the next page too), also inside the LMS's iframe."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update

from lms.core.extensions import db
from lms.grades.models import ScoreOutbox
from tests.conftest import page_text
from tests.grades.conftest import M1, Grades

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"
PERSONAS = {"trainer": "Trainer Jonas (Lehrender)", "coordinator": "Koordinatorin Aylin (Admin)"}


def test_delivery_times_follow_the_language(grades: Grades) -> None:
    grades.lti.launch("volunteer")
    grades.change(grades.user_id("demo-lena"), M1, 50)
    grades.deliver()
    with grades.app.app_context():
        # 14:30 in Berlin (winter time) on 5 March 2025
        db.session.execute(update(ScoreOutbox).values(delivered_at=dt.datetime(2025, 3, 5, 13, 30, tzinfo=dt.UTC)))
        db.session.commit()

    landing = grades.lti.launch("trainer")
    german = page_text(requests.get(landing.url + "grades/", timeout=10).text)
    assert "05.03.2025, 14:30" in german and re.search(r"\d+ % Übertragen", german)

    requests.get(landing.url + "?lang=en", timeout=10)  # the choice, then an ordinary link
    english = page_text(requests.get(landing.url + "grades/", timeout=10).text)
    assert "Mar 5, 2025, 2:30" in english and "PM" in english
    assert "05.03.2025" not in english


@pytest.mark.browser
@pytest.mark.parametrize("persona", ["trainer", "coordinator"])
def test_delivery_page_and_roster_in_english_inside_the_lms(grades: Grades, browser: Any, persona: str) -> None:
    """In the demo LMS's iframe: English, then the toolbar's links; the pages stay English with English dates,
    axe-core finds nothing; screenshots in test-screenshots/."""
    from tests.browser import axe_violations

    grades.lti.launch("volunteer")
    grades.change(grades.user_id("demo-lena"), M1, 50)
    grades.deliver()
    with grades.app.app_context():
        db.session.execute(update(ScoreOutbox).values(delivered_at=dt.datetime(2025, 3, 5, 13, 30, tzinfo=dt.UTC)))
        db.session.commit()

    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    page.goto(grades.lti.platform.url + "/")
    page.get_by_role("link", name=PERSONAS[persona], exact=True).click()
    page.frame_locator("iframe[name=tool]").locator("h1").first.wait_for()
    frame = page.frame(name="tool")
    assert frame is not None
    with frame.expect_navigation():
        frame.get_by_role("link", name="English").click()
    toolbar = frame.get_by_role("navigation", name="Toolbar")

    with frame.expect_navigation():
        toolbar.get_by_role("link", name="Grade transfer", exact=True).click()
    assert "lang=" not in frame.url and frame.locator("html").get_attribute("lang") == "en"
    frame.get_by_role("heading", level=1, name="Grade transfer to the learning platform").wait_for()
    row = frame.locator("tr", has_text="Lena Schreiner").inner_text()
    assert re.search(r"\t\d+%\t", row) and " %" not in row, row  # English: "25%", German: "25 %"
    assert "Mar 5, 2025, 2:30" in row and "05.03.2025" not in row
    assert axe_violations(frame) == []
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-{persona}-grades-en.png"), full_page=True)

    with frame.expect_navigation():
        toolbar.get_by_role("link", name="Participants", exact=True).click()
    frame.get_by_role("heading", level=1, name="Course participants").wait_for()
    assert frame.locator("html").get_attribute("lang") == "en"
    assert axe_violations(frame) == []
    page.screenshot(path=str(SCREENSHOTS / f"journey-{persona}-roster-en.png"), full_page=True)
    context.close()
