"""The status and roster pages in real Chromium at 320 px: no axe-core violations."""

from __future__ import annotations

from typing import Any

import pytest

from lms.core.extensions import db
from lms.users.models import LmsCourse
from tests.browser import axe_violations
from tests.grades.conftest import M1, Grades

pytestmark = pytest.mark.browser


def test_grades_and_roster_pages_have_no_axe_violations(grades: Grades, browser: Any) -> None:
    from lms.rosters.jobs import sync_course

    grades.lti.launch("volunteer")
    grades.services.gradable.discard("demo-lena")  # a failed row, with its explanation
    grades.change(grades.user_id(), M1, 50)
    grades.deliver()
    landing = grades.lti.launch("trainer")
    with grades.app.app_context():
        sync_course(db.session.execute(db.select(LmsCourse.id)).scalar_one())
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in ("grades/", "roster/"):
        page.goto(landing.url + path)
        assert axe_violations(page) == [], path
    context.close()
