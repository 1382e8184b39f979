"""The delivery status page of a large course: a summary per state, rows 50 a page, a filter per state, a
bounded number of SQL statements however many rows."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import delete, event, select

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.grades.models import DELIVERED, FAILED, PENDING, GradeLink, GradeLinkUser, ScoreOutbox
from lms.users.models import LmsCourse, User
from tests.browser import axe_violations
from tests.conftest import page_text
from tests.grades.conftest import Grades, csrf

STATE_OF = {0: DELIVERED, 1: PENDING, 2: FAILED, 3: None}  # n % 4 → outbox state (None: no outbox row)


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs (the tool serves from this process)."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def seed(grades: Grades, count: int) -> None:
    """`count` volunteers who launched the course's link: delivered, pending, failed, nothing yet in turn."""
    now = utcnow()
    with grades.app.app_context():
        link = db.session.execute(select(GradeLink)).scalar_one()
        assert link.gradable
        course = db.session.get_one(LmsCourse, link.course_id)
        for n in range(count):
            sub = f"p{n:04d}"
            user = User(
                chamber_id=course.chamber_id,
                issuer=course.issuer,
                sub=sub,
                name=f"Person {n:04d}",
                family_name=f"{n:04d}",
            )
            db.session.add(user)
            db.session.flush()
            db.session.add(GradeLinkUser(link_id=link.id, user_id=user.id, platform_user_id=sub))
            state = STATE_OF[n % 4]
            if state is None:
                continue
            db.session.add(
                ScoreOutbox(
                    link_id=link.id,
                    user_id=user.id,
                    platform_user_id=sub,
                    score_given=50.0,
                    activity_progress="InProgress",
                    grading_progress="FullyGraded",
                    scored_at=now,
                    status=state,
                    attempts=5 if state == FAILED else 0,
                    last_error_code="unavailable" if state == FAILED else None,
                    delivered_at=now if state == DELIVERED else None,
                )
            )
        db.session.commit()


def unseed(grades: Grades) -> None:
    with grades.app.app_context():
        seeded = select(User.id).where(User.sub.like("p0%"))
        db.session.execute(delete(ScoreOutbox).where(ScoreOutbox.user_id.in_(seeded)))
        db.session.execute(delete(GradeLinkUser).where(GradeLinkUser.user_id.in_(seeded)))
        db.session.execute(delete(User).where(User.sub.like("p0%")))
        db.session.commit()


def _names(page: str) -> list[str]:
    table = page.split('id="grades-table-title"', 1)[1]
    return re.findall(r'<th scope="row">Person (\d{4})</th>', table)


def _get(url: str) -> requests.Response:
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.text[:500]
    return resp


def _summary(page: str) -> str:
    return page_text(page.split('id="grades-summary-title"', 1)[1].split("</section>", 1)[0])


def test_summary_first_then_rows_a_page_at_a_time(grades: Grades) -> None:
    landing = grades.lti.launch("trainer")
    seed(grades, 120)

    first = _get(landing.url + "grades/")
    summary = _summary(first.text)
    assert "120 Einträge" in summary
    for label in ("Übertragen 30", "Wartet auf Übertragung 30", "Fehlgeschlagen 30", "Noch nichts zu übertragen 30"):
        assert label in summary
    assert "Alle fehlgeschlagenen erneut senden" in first.text
    assert _names(first.text) == [f"{n:04d}" for n in range(50)]
    assert "Seite 1 von 3" in page_text(first.text)

    third = _get(landing.url + "grades/?page=3")
    assert _names(third.text) == [f"{n:04d}" for n in range(100, 120)]
    assert "Seite 3 von 3" in page_text(third.text)
    assert "120 Einträge" in _summary(third.text)  # the summary counts every row, not the page's
    assert len(first.text) < 60_000 and len(third.text) < 60_000

    # past the end: the last page
    assert _names(_get(landing.url + "grades/?page=7").text) == [f"{n:04d}" for n in range(100, 120)]


def test_filter_by_state_and_resend_keeps_the_place(grades: Grades) -> None:
    landing = grades.lti.launch("trainer")
    seed(grades, 120)

    failed = _get(landing.url + "grades/?status=failed")
    assert _names(failed.text) == [f"{n:04d}" for n in range(120) if n % 4 == 2]
    text = page_text(failed.text)
    assert "Du siehst nur die Einträge mit dem Status „Fehlgeschlagen“ (30)" in text
    assert "Alle Einträge anzeigen" in text and "Seite 1 von" not in text  # 30 rows: one page
    assert _names(_get(landing.url + "grades/?status=nothing").text) == [f"{n:04d}" for n in range(120) if n % 4 == 3]
    assert _names(_get(landing.url + "grades/?status=bogus").text) == [f"{n:04d}" for n in range(50)]

    # resend one failed row from page 3 of the full list: back on page 3, the row is pending again
    third = _get(landing.url + "grades/?page=3")
    actions = re.findall(r'<form method="post" action="([^"]+/resend\?page=3)"', third.text)
    assert len(actions) == 15  # rows 100..119 with an outbox row
    action = actions[0].replace("&amp;", "&")
    resp = requests.post(grades.lti.tool.url + action, data={"csrf_token": csrf(third.text)}, timeout=10)
    assert resp.status_code == 200 and resp.url.endswith("page=3") and "done=one" in resp.url
    assert "Die Bewertung wird erneut gesendet." in page_text(resp.text)
    assert "Seite 3 von 3" in page_text(resp.text)
    outbox_id = int(action.rsplit("/", 2)[-2])
    with grades.app.app_context():
        assert db.session.get_one(ScoreOutbox, outbox_id).status == PENDING

    # the pager keeps the filter: 90 failed rows (all with an outbox row)
    with grades.app.app_context():
        db.session.execute(
            ScoreOutbox.__table__.update()
            .where(ScoreOutbox.status != FAILED)
            .values(status=FAILED, attempts=5, last_error_code="unavailable")
        )
        db.session.commit()
    all_failed = _get(landing.url + "grades/?status=failed&page=2")
    assert "Seite 2 von 2" in page_text(all_failed.text)
    prev = re.search(r'<a rel="prev" href="([^"]+)"', all_failed.text)
    assert prev is not None and "status=failed" in prev.group(1) and "page=1" in prev.group(1)

    # resend all failed: every failed row of the course is queued again
    resp = requests.post(landing.url + "grades/resend-failed", data={"csrf_token": csrf(third.text)}, timeout=10)
    assert resp.status_code == 200
    assert "Fehlgeschlagen" not in _summary(resp.text)


def _count(grades: Grades, url: str) -> int:
    with statements(grades.app) as seen:
        _get(url)
    return len(seen)


def test_statements_do_not_grow_with_the_rows(grades: Grades) -> None:
    landing = grades.lti.launch("trainer")
    seed(grades, 30)
    small = [_count(grades, landing.url + "grades/"), _count(grades, landing.url + "grades/?status=failed")]
    unseed(grades)
    seed(grades, 120)
    large = [_count(grades, landing.url + "grades/?page=3"), _count(grades, landing.url + "grades/?status=failed")]
    assert small == large, (small, large)
    assert max(large) <= 12, large


@pytest.mark.browser
def test_paged_and_filtered_pages_have_no_axe_violations_at_320px(grades: Grades, browser: Any) -> None:
    landing = grades.lti.launch("trainer")
    seed(grades, 120)
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in ("grades/?page=2", "grades/?status=failed", "grades/?status=sending"):
        page.goto(landing.url + path)
        assert axe_violations(page) == [], path
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    context.close()
