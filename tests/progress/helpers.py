"""Helpers for driving the learner pages over loopback HTTP."""

from __future__ import annotations

import html
import re
from typing import Any

import requests
from sqlalchemy import func, select

from lms.core.extensions import db
from lms.courses.content import Course, Item, Module
from lms.courses.setup import current_course
from lms.users.models import User
from tests.conftest import Lti

M1 = "m1-sicher-im-netz"  # checklist task, no review
M2 = "m2-live-beraten-mit-bigbluebutton"  # text task, review
M4 = "m4-mein-handwerk-in-60-sekunden"  # link task, review


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:1000]
    return html.unescape(match.group(1))


class Browser:
    """One launched person: `base` is the landing URL ``…/t/<token>/``."""

    def __init__(self, lti: Lti, persona: str = "volunteer", resp: requests.Response | None = None) -> None:
        resp = resp if resp is not None else lti.launch(persona)
        assert re.search(r"/t/[^/]+/$", resp.url), resp.url
        self.lti = lti
        self.base = resp.url
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.base + path.lstrip("/")

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.url(path), timeout=10, **kwargs)

    def post(self, path: str, data: Any = None, *, csrf: bool = True, **kwargs: Any) -> requests.Response:
        """POST a form to `path`; the csrf token comes from the page at the same URL."""
        fields: list[tuple[str, str]] = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf:
            fields.append(("csrf_token", csrf_of(self.get(path).text)))
        return self.http.post(self.url(path), data=fields, timeout=10, allow_redirects=False, **kwargs)

    def _session(self) -> Any:
        from lms.core.security import load_launch_session

        token = self.base.rstrip("/").rsplit("/", 1)[-1]
        session = load_launch_session(token)
        assert session is not None
        return session

    def user_id(self) -> int:
        with self.lti.app.test_request_context():
            return int(self._session().user_id)

    def launch_csrf(self) -> str:
        """The launch's CSRF token, for a POST to a page that shows no form (any more)."""
        from lms.core.security import csrf_token

        with self.lti.app.test_request_context():
            return csrf_token(self._session())


def course_of(lti: Lti) -> Course:
    with lti.app.app_context():
        return current_course()


def module_item(course: Course, module_id: str, kind: str) -> tuple[Module, Item]:
    module = course.module(module_id)
    assert module is not None
    item = next(i for i in module.items if i.kind == kind)
    return module, item


def answers(quiz: Item, right: int | None = None) -> list[tuple[str, str]]:
    """Form fields answering the first `right` questions correctly (all by default), the rest wrongly."""
    fields = []
    for number, question in enumerate(quiz.questions):
        correct = sorted(question.correct_indices)
        if right is None or number < right:
            chosen = correct
        else:
            chosen = [next(i for i in range(len(question.answers)) if i not in question.correct_indices)]
        fields += [("q-" + question.id, str(i)) for i in chosen]
    return fields


def count(model: Any, *where: Any) -> int:
    return int(db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def user_by_sub(sub: str) -> User:
    return db.session.execute(select(User).where(User.sub == sub)).scalar_one()


def serve_without_pools(lti: Lti, monkeypatch: Any) -> None:
    """Serve the course with every self-check showing all of its questions: for tests of the quiz form itself
    (which question is the third, which one is multiple choice), not of the draw (tests/progress/test_pools.py)."""
    import dataclasses

    from lms.courses.setup import EXTENSION_KEY

    course = course_of(lti)
    modules = tuple(
        dataclasses.replace(
            module, items=tuple(dataclasses.replace(i, draw=None) if i.kind == "quiz" else i for i in module.items)
        )
        for module in course.modules
    )
    monkeypatch.setitem(lti.app.extensions["medienwerk"], EXTENSION_KEY, dataclasses.replace(course, modules=modules))
