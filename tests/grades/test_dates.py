"""The delivery page says when a score arrived in the page's language: German dates in German, English ones after
the person chose English (and on the next page too)."""

from __future__ import annotations

import datetime as dt

import requests
from sqlalchemy import update

from lms.core.extensions import db
from lms.grades.models import ScoreOutbox
from tests.conftest import page_text
from tests.grades.conftest import M1, Grades


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
    assert "05.03.2025, 14:30" in german

    requests.get(landing.url + "?lang=en", timeout=10)  # the choice, then an ordinary link
    english = page_text(requests.get(landing.url + "grades/", timeout=10).text)
    assert "Mar 5, 2025, 2:30" in english and "PM" in english
    assert "05.03.2025" not in english
