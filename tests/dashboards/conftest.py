"""Dashboards fixtures: a chamber with volunteers at known stages, launched coordinators and trainers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import event

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.courses.content import Module
from lms.courses.setup import current_course
from lms.progress import services
from lms.progress.scoring import grade
from lms.users.models import Enrollment, LmsCourse, User
from tests.conftest import Lti
from tests.progress.helpers import Browser


def finish_module(user_id: int, module: Module) -> None:
    for lesson in module.lessons:
        services.complete_lesson(user_id, module, lesson)
    quiz = module.quiz
    assert quiz is not None
    services.record_quiz_attempt(user_id, module, quiz, grade(quiz, {q.id: q.correct_indices for q in quiz.questions}))
    task = module.task
    assert task is not None
    if task.submission == "checklist":
        services.submit_task(user_id, module, task, services.HandIn(checked_items=len(task.checklist or ())))
    elif task.submission == "link":
        services.submit_task(user_id, module, task, services.HandIn(link="https://example.org/video"))
    else:
        services.submit_task(user_id, module, task, services.HandIn(text="Meine Abgabe"))


@dataclass
class Seeded:
    lti: Lti
    course_id: int
    chamber_id: int
    people: dict[str, int]

    def add_volunteers(
        self, count: int, *, prefix: str = "v", course_id: int | None = None, chamber_id: int | None = None
    ) -> list[int]:
        with self.lti.app.app_context():
            ids = []
            for n in range(count):
                user = User(
                    chamber_id=chamber_id or self.chamber_id,
                    issuer=self.lti.double.issuer,
                    sub=f"{prefix}-{n}",
                    name=f"{prefix.upper()} Person {n:04d}",
                    last_launch_at=utcnow() - dt.timedelta(days=n % 60),
                )
                db.session.add(user)
                db.session.flush()
                db.session.add(Enrollment(user_id=user.id, course_id=course_id or self.course_id, role="volunteer"))
                ids.append(user.id)
            db.session.commit()
            return ids


@pytest.fixture
def seeded(lti: Lti) -> Seeded:
    """Volunteers launched through the LMS (Lena: M1 done; Timo: nothing), coordinator and trainer launched."""
    lti.launch("volunteer")
    lti.launch("volunteer-private")
    lti.launch("trainer")
    with lti.app.test_request_context():
        lena = db.session.query(User).filter_by(sub="demo-lena").one()
        timo = db.session.query(User).filter_by(sub="demo-timo").one()
        course = db.session.query(LmsCourse).one()
        m1 = current_course().modules[0]
        finish_module(lena.id, m1)
        db.session.commit()
        return Seeded(lti, course.id, lena.chamber_id, {"lena": lena.id, "timo": timo.id})


class StatementCounter:
    """Counts the SQL statements the app sends while active (a page's cost)."""

    def __init__(self, engine: object) -> None:
        self.engine = engine
        self.count = 0

    def _count(self, *args: object) -> None:
        self.count += 1

    def __enter__(self) -> StatementCounter:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


@pytest.fixture
def statements(lti: Lti) -> Iterator[type[StatementCounter]]:
    with lti.app.app_context():
        engine = db.engine

    def make() -> StatementCounter:
        return StatementCounter(engine)

    yield make  # type: ignore[misc]


def coordinator(lti: Lti) -> Browser:
    return Browser(lti, "coordinator")
