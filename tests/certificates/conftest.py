"""Certificates fixtures: volunteers who reach tiers (modules finished through the progress services, tutorials
attended as rows of the live-sessions domain), launched pages and the awards as stored."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from lms.certificates.models import Award
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.courses.content import Module
from lms.courses.setup import current_course
from lms.live_sessions.models import Attendance, LiveSession
from lms.progress import services as progress
from lms.progress.scoring import grade
from lms.users.models import User
from tests.conftest import Lti
from tests.progress.helpers import Browser

# the 1EdTech schema and context live in shared/ beside the checkout; tests read them there, never copy them
OB3 = Path(__file__).resolve().parents[2].parent / "shared" / "reference" / "ob3"
FIRST_TIER = "digital-startklar"
HIGHEST_TIER = "digitale-botschafterin"
_sessions = itertools.count(1)


def finish_module(user_id: int, module: Module) -> None:
    """Every lesson done, the self-check passed, the task handed in (and approved where it needs a review)."""
    for lesson in module.lessons:
        progress.complete_lesson(user_id, module, lesson)
    quiz = module.quiz
    assert quiz is not None
    progress.record_quiz_attempt(user_id, module, quiz, grade(quiz, {q.id: q.correct_indices for q in quiz.questions}))
    task = module.task
    assert task is not None
    if task.submission == "checklist":
        hand_in = progress.HandIn(checked_items=len(task.checklist or ()))
    elif task.submission == "link":
        hand_in = progress.HandIn(link="https://example.org/video")
    else:
        hand_in = progress.HandIn(text="Meine Abgabe")
    submission = progress.submit_task(user_id, module, task, hand_in)
    if task.review:
        progress.review_submission(
            submission, module, task, reviewer_id=user_id, reviewer_role="trainer", approve=True, comment="Gut"
        )


def post_form(browser: Browser, path: str, **fields: str) -> requests.Response:
    """POST a form of the tool (with the launch's CSRF token) and do not follow the redirect."""
    data = [*fields.items(), ("csrf_token", browser.launch_csrf())]
    return browser.post(path, data, csrf=False)


@dataclass
class Certs:
    lti: Lti

    def launch(self, persona: str = "volunteer") -> Browser:
        return Browser(self.lti, persona)

    def user_id(self, sub: str = "demo-lena") -> int:
        with self.lti.app.app_context():
            return int(db.session.execute(select(User.id).where(User.sub == sub)).scalar_one())

    def finish(self, user_id: int, module_ids: list[str] | None = None) -> None:
        """Finish modules (all served ones by default) as the progress domain records it, and commit."""
        with self.lti.app.test_request_context():
            for module in current_course().modules:
                if module_ids is None or module.id in module_ids:
                    finish_module(user_id, module)
            db.session.commit()

    def attend(self, user_id: int, count: int = 1, *, attended: bool = True) -> list[int]:
        """Live tutorials the person attended (rows as the live-sessions domain writes them); their ids."""
        ids = []
        with self.lti.app.app_context():
            user = db.session.get(User, user_id)
            assert user is not None
            for _ in range(count):
                n = next(_sessions)
                live = LiveSession(
                    chamber_id=user.chamber_id,
                    title=f"Übung {n}",
                    starts_at=utcnow() - dt.timedelta(days=1),
                    timezone="Europe/Berlin",
                    duration_minutes=60,
                    meeting_id=f"cert-m-{n}",
                    callback_token=f"cert-cb-{n}",
                    audience="chamber",
                )
                db.session.add(live)
                db.session.flush()
                db.session.add(Attendance(session_id=live.id, user_id=user_id, minutes=55, attended=attended))
                ids.append(live.id)
            db.session.commit()
        return ids

    def reach_highest(self, sub: str = "demo-lena", persona: str = "volunteer") -> tuple[Browser, int]:
        """A launched volunteer with every module finished and two tutorials attended, awarded."""
        browser = self.launch(persona)
        user_id = self.user_id(sub)
        self.attend(user_id, 2)
        self.finish(user_id)
        return browser, user_id

    def awards(self, user_id: int | None = None) -> list[Award]:
        with self.lti.app.app_context():
            query = select(Award).order_by(Award.issued_at, Award.id)
            if user_id is not None:
                query = query.where(Award.user_id == user_id)
            rows = list(db.session.execute(query).scalars())
            db.session.expunge_all()
            return rows

    def award(self, user_id: int, tier: str = HIGHEST_TIER) -> Award:
        [found] = [a for a in self.awards(user_id) if a.tier_id == tier and a.superseded_by is None]
        return found


@pytest.fixture
def certs(lti: Lti) -> Certs:
    return Certs(lti)
