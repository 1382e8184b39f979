"""The learner pages in real Chromium at 320 px: axe-core finds no violations, nothing scrolls sideways."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser import axe_violations
from tests.conftest import Lti
from tests.progress.helpers import M1, M2, Browser, course_of, module_item, serve_without_pools

pytestmark = pytest.mark.browser


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    yield page
    context.close()


def test_lesson_and_quiz_at_320px_have_no_axe_violations(lti: Lti, monkeypatch: pytest.MonkeyPatch, phone: Any) -> None:
    serve_without_pools(lti, monkeypatch)  # the form's own behaviour, every question shown
    volunteer = Browser(lti, "volunteer")
    module = course_of(lti).module(M1)
    assert module is not None
    lesson = module.lessons[0]
    phone.goto(volunteer.url(f"m/{M1}/{lesson.id}"))
    phone.get_by_role("heading", level=1, name=lesson.title).wait_for()
    assert axe_violations(phone) == []
    assert _fits(phone)

    _module, quiz = module_item(course_of(lti), M1, "quiz")
    phone.goto(volunteer.url(f"m/{M1}/{quiz.id}"))
    phone.get_by_role("heading", level=1, name=quiz.title).wait_for()
    assert axe_violations(phone) == []
    assert _fits(phone)

    # answer the first question only: the error summary and marked questions
    first = quiz.questions[0]
    phone.locator(f"#q-{first.id}-{min(first.correct_indices)}").check()
    phone.get_by_role("button", name="Antworten prüfen").click()
    phone.get_by_text("Bitte prüfe deine Antworten").wait_for()
    assert axe_violations(phone) == []

    # answer everything: the result with feedback
    for question in quiz.questions:
        for index in question.correct_indices:
            phone.locator(f"#q-{question.id}-{index}").check()
    phone.get_by_role("button", name="Antworten prüfen").click()
    phone.get_by_text("Bestanden!").wait_for()
    assert axe_violations(phone) == []
    assert _fits(phone)


def test_overview_module_and_task_at_320px_have_no_axe_violations(lti: Lti, phone: Any) -> None:
    volunteer = Browser(lti, "volunteer")
    phone.goto(volunteer.url("m/"))
    phone.get_by_role("heading", level=1, name="Deine Module").wait_for()
    assert axe_violations(phone) == []
    assert _fits(phone)
    phone.goto(volunteer.url(f"m/{M2}/"))
    assert axe_violations(phone) == []
    assert _fits(phone)

    _module, task = module_item(course_of(lti), M2, "task")
    phone.goto(volunteer.url(f"m/{M2}/{task.id}"))
    phone.get_by_role("button", name="Abgeben").click()  # empty: the form error
    phone.get_by_text("Bitte schreib deinen Text in das Feld.").first.wait_for()
    assert axe_violations(phone) == []
    phone.get_by_label("Dein Text").fill("Ich habe einen Übungsraum geöffnet und das Mikrofon getestet.")
    phone.get_by_role("button", name="Abgeben").click()
    phone.get_by_text("Danke! Deine Abgabe ist gespeichert.").wait_for()
    assert axe_violations(phone) == []
    assert _fits(phone)

    trainer = Browser(lti, "trainer")
    phone.goto(trainer.url("reviews/"))
    phone.get_by_role("link", name=task.title).click()
    phone.get_by_role("button", name="Annehmen").wait_for()
    assert axe_violations(phone) == []
    assert _fits(phone)
    phone.get_by_role("button", name="Mit Rückmeldung zurückgeben").click()  # no comment: the form error
    phone.get_by_text("Bitte schreib einen Kommentar").first.wait_for()
    assert axe_violations(phone) == []
    phone.goto(trainer.url(f"m/{M1}/{course_of(lti).module(M1).lessons[0].id}"))  # type: ignore[union-attr]
    assert axe_violations(phone) == []
