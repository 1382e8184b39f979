"""Previews record nothing; progress belongs to the person; the overview asks a bounded number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from lms.core.extensions import db
from lms.progress.models import ItemProgress, ProgressEvent, QuizAttempt, TaskSubmission
from tests.conftest import Lti, page_text
from tests.progress.helpers import M1, M2, M4, Browser, answers, count, course_of, module_item

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


@pytest.mark.parametrize("persona", ["trainer", "coordinator"])
def test_preview_shows_pages_as_volunteers_see_them_and_records_nothing(lti: Lti, persona: str) -> None:
    course = course_of(lti)
    viewer = Browser(lti, persona)
    module = course.module(M1)
    assert module is not None
    for path in ("m/", f"m/{M1}/", *(f"m/{M1}/{item.id}" for item in module.items)):
        resp = viewer.get(path)
        assert resp.status_code == 200, path
        assert "Vorschau:" in page_text(resp.text), path
    lesson = viewer.get(f"m/{M1}/{module.lessons[0].id}").text
    assert module.lessons[0].html.strip()[:200] in lesson  # the same rendered content
    assert "Als erledigt markieren" not in lesson

    csrf = viewer.launch_csrf()
    assert viewer.post(f"m/{M1}/{module.lessons[0].id}", {"csrf_token": csrf}, csrf=False).status_code == 403
    _module, quiz = module_item(course, M1, "quiz")
    result = viewer.post(f"m/{M1}/{quiz.id}", [*answers(quiz), ("csrf_token", csrf)], csrf=False)
    assert result.status_code == 200
    assert "Bestanden!" in page_text(result.text)
    _module, task = module_item(course, M2, "task")
    page = viewer.get(f"m/{M2}/{task.id}")
    assert '<fieldset class="plain" disabled>' in page.text
    assert viewer.post(f"m/{M2}/{task.id}", {"text": "Test", "csrf_token": csrf}, csrf=False).status_code == 403
    with lti.app.app_context():
        for model in (ItemProgress, ProgressEvent, QuizAttempt, TaskSubmission):
            assert count(model) == 0, model


def test_progress_follows_the_volunteer_into_another_course(lti: Lti) -> None:
    first = Browser(lti, "volunteer")
    module = course_of(lti).module(M1)
    assert module is not None
    assert first.post(f"m/{M1}/{module.lessons[0].id}").status_code == 303
    other_course = {"id": "zweiter-kurs", "title": "Zweiter Kurs", "label": "ZK"}
    second = Browser(lti, resp=lti.launch_with("volunteer", **{LTI + "context": other_course}))
    text = page_text(second.get(f"m/{M1}/").text)
    assert f"Weiter mit: {module.items[1].title}" in text
    assert page_text(second.get(f"m/{M1}/{module.lessons[0].id}").text).count("Diese Lektion hast du erledigt.") == 1


@pytest.fixture
def statements(lti: Lti) -> Iterator[list[str]]:
    seen: list[str] = []

    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    with lti.app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    yield seen
    event.remove(engine, "before_cursor_execute", before)


def _queries_for(lti: Lti, browser: Browser, path: str, seen: list[str]) -> int:
    client = lti.app.test_client()
    url = browser.url(path)[len(lti.tool.url) :]
    seen.clear()
    resp = client.get(url)
    assert resp.status_code == 200
    return len([s for s in seen if not s.lstrip().upper().startswith(("SAVEPOINT", "RELEASE"))])


def test_overview_asks_a_bounded_number_of_queries(lti: Lti, statements: list[str]) -> None:
    volunteer = Browser(lti, "volunteer")
    empty = _queries_for(lti, volunteer, "m/", statements)
    # progress in several modules: lessons, self-checks, hand-ins
    course = course_of(lti)
    for module_id in (M1, M2, M4):
        module, quiz = module_item(course, module_id, "quiz")
        for lesson in module.lessons[:2]:
            assert volunteer.post(f"m/{module_id}/{lesson.id}").status_code == 303
        assert volunteer.post(f"m/{module_id}/{quiz.id}", answers(quiz)).status_code == 303
    _module, task = module_item(course, M2, "task")
    assert volunteer.post(f"m/{M2}/{task.id}", {"text": "Abgabe"}).status_code == 303
    busy = _queries_for(lti, volunteer, "m/", statements)
    assert busy == empty
    assert busy <= 5, statements
    # the landing page card and a module page are bounded too
    assert _queries_for(lti, volunteer, f"m/{M2}/", statements) <= 5
    assert _queries_for(lti, volunteer, "", statements) <= 8
