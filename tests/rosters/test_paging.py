"""The roster page of a large course: both lists paged (50 a page), a bounded number of SQL statements."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from sqlalchemy import event, select

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.progress.models import ItemProgress
from lms.rosters.models import ACTIVE, RosterMember
from lms.users.models import Enrollment, LmsCourse, User
from tests.browser import axe_violations
from tests.conftest import page_text
from tests.rosters.conftest import Rosters


@contextmanager
def statements(rosters: Rosters) -> Iterator[list[str]]:
    """The SQL statements the app sends while the block runs (the tool serves from this process)."""
    seen: list[str] = []

    def record(conn: object, cursor: object, statement: str, *args: object) -> None:
        seen.append(statement)

    with rosters.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def seed(rosters: Rosters, count: int) -> None:
    """`count` active volunteers on the roster; every third launched the tool, every sixth also has progress."""
    with rosters.app.app_context():
        course = db.session.execute(select(LmsCourse)).scalar_one()
        for n in range(count):
            sub = f"p{n:04d}"
            db.session.add(
                RosterMember(
                    course_id=course.id,
                    platform_user_id=sub,
                    roles=["Learner"],
                    role="volunteer",
                    status=ACTIVE,
                    name=f"Person {n:04d}",
                    given_name="Person",
                    family_name=f"{n:04d}",
                    email=f"p{n:04d}@example.org",
                )
            )
            if n % 3 == 0:
                user = User(chamber_id=course.chamber_id, issuer=course.issuer, sub=sub, name=f"Person {n:04d}")
                db.session.add(user)
                db.session.flush()
                db.session.add(Enrollment(user_id=user.id, course_id=course.id, role="volunteer"))
                if n % 6 == 0:
                    db.session.add(
                        ItemProgress(
                            user_id=user.id, module_id="m1", item_id="m1-l1", kind="lesson", first_viewed_at=utcnow()
                        )
                    )
        db.session.commit()


def _names(page: str, section: str) -> list[str]:
    """The person names listed in one section of the page (by the section's heading id)."""
    part = page.split(f'id="{section}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r"Person (\d{4})", part)


def _get(url: str) -> requests.Response:
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 200, resp.text[:500]
    return resp


def test_members_and_not_started_are_paged(rosters: Rosters) -> None:
    landing = rosters.lti.launch("trainer")
    seed(rosters, 120)

    first = _get(landing.url + "roster/")
    members = _names(first.text, "members-title")
    assert members == [f"{n:04d}" for n in range(50)]
    text = page_text(first.text)
    assert "Seite 1 von 3" in text
    assert "Seite 1 von 2" in text  # 100 not started: 20 of the 120 have progress
    not_started = _names(first.text, "not-started-title")
    assert not_started == [f"{n:04d}" for n in range(60) if n % 6][:50]
    assert "Nächste Seite" in text and "Vorherige Seite" not in text

    third = _get(landing.url + "roster/?page=3&not_started_page=2")
    assert _names(third.text, "members-title") == [f"{n:04d}" for n in range(100, 120)]
    assert _names(third.text, "not-started-title") == [f"{n:04d}" for n in range(120) if n % 6][50:]
    text = page_text(third.text)
    assert "Seite 3 von 3" in text and "Seite 2 von 2" in text
    # each pager keeps the other list's page
    assert 'href="/t/' in third.text
    links = re.findall(r'<a rel="(prev|next)"[^>]*href="([^"]+)"', third.text)
    assert ("prev", links[0][1]) in links
    hrefs = [href.replace("&amp;", "&") for _rel, href in links]
    assert any("page=2" in h and "not_started_page=2" in h for h in hrefs)
    assert any("page=3" in h and "not_started_page=1" in h for h in hrefs)

    past_the_end = _get(landing.url + "roster/?page=99&not_started_page=x")
    assert "Seite 3 von 3" in page_text(past_the_end.text)
    assert "Seite 1 von 2" in page_text(past_the_end.text)


def _count(rosters: Rosters, url: str) -> int:
    with statements(rosters) as seen:
        _get(url)
    return len(seen)


def test_statements_do_not_grow_with_the_roster(rosters: Rosters) -> None:
    landing = rosters.lti.launch("trainer")
    seed(rosters, 30)
    small = _count(rosters, landing.url + "roster/")
    with rosters.app.app_context():
        course_id = db.session.execute(select(LmsCourse.id)).scalar_one()
        db.session.execute(db.delete(ItemProgress))
        db.session.execute(
            db.delete(Enrollment).where(Enrollment.user_id.in_(select(User.id).where(User.sub.like("p%"))))
        )
        db.session.execute(db.delete(User).where(User.sub.like("p%")))
        db.session.execute(db.delete(RosterMember).where(RosterMember.course_id == course_id))
        db.session.commit()
    seed(rosters, 120)
    large = _count(rosters, landing.url + "roster/?page=3")
    assert small == large, (small, large)
    assert large <= 12, large


@pytest.mark.browser
def test_paged_roster_has_no_axe_violations_at_320px(rosters: Rosters, browser: Any) -> None:
    landing = rosters.lti.launch("trainer")
    seed(rosters, 120)
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    page.goto(landing.url + "roster/?page=2")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    context.close()
