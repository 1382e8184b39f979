"""Each role's journey through the demo LMS in real Chromium, inside the LMS's iframe: the language choice holds
from page to page, what answers an action is in sight and focused, a returned task comes back to the landing page
prefilled. axe-core finds nothing on any page; screenshots land in the git-ignored folder test-screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import axe_violations
from tests.conftest import Lti
from tests.progress.helpers import M1, M2, Browser, course_of, module_item, serve_without_pools

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-screenshots"
PERSONAS = {
    "volunteer": "Botschafterin Lena (Lernende)",
    "trainer": "Trainer Jonas (Lehrender)",
    "coordinator": "Koordinatorin Aylin (Admin)",
    "volunteer-private": "Botschafter ohne Namen (Datenschutz)",
}


@pytest.fixture
def lms(browser: Any) -> Iterator[Any]:
    """A desktop-sized page for the demo LMS (the tool runs in its iframe)."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"journey-{name}.png"), full_page=True)


def _launch(lti: Lti, page: Any, persona: str) -> Any:
    """Launch from the demo LMS's course page; the tool's frame once its first page has loaded."""
    page.goto(lti.platform.url + "/")
    page.get_by_role("link", name=PERSONAS[persona], exact=True).click()
    page.frame_locator("iframe[name=tool]").locator("h1").first.wait_for()
    frame = page.frame(name="tool")
    assert frame is not None
    return frame


def _clean(frame: Any, name: str) -> None:
    assert axe_violations(frame) == [], name


def _feedback_in_sight(frame: Any) -> bool:
    """The message is focused and inside the iframe's visible area (not 1,000 px further down)."""
    return bool(
        frame.evaluate(
            """() => {
              const box = document.getElementById("feedback");
              if (!box || document.activeElement !== box) return false;
              const top = box.getBoundingClientRect().top;
              return top >= 0 && top < window.innerHeight / 2;
            }"""
        )
    )


def _english_then_an_ordinary_link(frame: Any, link_name: str) -> None:
    with frame.expect_navigation():
        frame.get_by_role("link", name="English").click()
    assert frame.locator("html").get_attribute("lang") == "en"
    with frame.expect_navigation():
        frame.get_by_role("navigation", name="Toolbar").get_by_role("link", name=link_name, exact=True).click()
    assert "lang=" not in frame.url
    assert frame.locator("html").get_attribute("lang") == "en"  # the next page is English too


def test_volunteer_journey(lti: Lti, monkeypatch: pytest.MonkeyPatch, lms: Any) -> None:
    serve_without_pools(lti, monkeypatch)  # the form's own behaviour, every question shown
    frame = _launch(lti, lms, "volunteer")
    assert lms.locator(".demo-launches a[aria-current]").inner_text() == PERSONAS["volunteer"]
    _clean(frame, "home")

    # English, then the toolbar's "Modules": still English, and so is the module page after it
    _english_then_an_ordinary_link(frame, "Modules")
    frame.get_by_role("heading", level=1, name="Your modules").wait_for()
    _clean(frame, "overview-en")
    _shot(lms, "volunteer-overview-en")
    with frame.expect_navigation():
        frame.get_by_role("link", name="Deutsch").click()
    assert frame.locator("html").get_attribute("lang") == "de"

    # the self-check: nothing ticked, the summary is at the top and focused; then a stored result
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    frame.goto(frame.url.split("/m/")[0] + f"/m/{M1}/{quiz.id}")
    frame.get_by_role("button", name="Antworten prüfen").click()
    frame.get_by_text("Bitte prüfe deine Antworten").wait_for()
    frame.wait_for_function("document.activeElement && document.activeElement.id === 'feedback'")
    assert _feedback_in_sight(frame)
    assert frame.get_by_text("Bitte wähle mindestens eine Antwort.").first.is_visible()
    _clean(frame, "quiz-errors")
    _shot(lms, "volunteer-quiz-errors")
    for question in quiz.questions:
        for index in question.correct_indices:
            frame.locator(f"#q-{question.id}-{index}").check()
    frame.get_by_role("button", name="Antworten prüfen").click()
    frame.get_by_text("Bestanden!").wait_for()
    assert "result=" in frame.url
    frame.wait_for_function("document.activeElement && document.activeElement.id === 'feedback'")
    assert _feedback_in_sight(frame)
    _clean(frame, "quiz-result")
    _shot(lms, "volunteer-quiz-result")
    frame.goto(frame.url)  # a reload shows the stored result, nothing is sent again
    frame.get_by_text("Bestanden!").wait_for()

    # the practical task: the confirmation is in sight inside the iframe
    _module, task = module_item(course_of(lti), M2, "task")
    frame.goto(frame.url.split("/m/")[0] + f"/m/{M2}/{task.id}")
    frame.get_by_role("button", name="Abgeben").click()
    frame.get_by_text("Bitte schreib deinen Text in das Feld.").first.wait_for()
    frame.wait_for_function("document.activeElement && document.activeElement.id === 'feedback'")
    assert _feedback_in_sight(frame)
    _clean(frame, "task-error")
    frame.get_by_label("Dein Text").fill("Ich habe einen Übungsraum geöffnet.")
    frame.get_by_role("button", name="Abgeben").click()
    frame.get_by_text("Danke! Deine Abgabe ist gespeichert.").wait_for()
    frame.wait_for_function("document.activeElement && document.activeElement.id === 'feedback'")
    assert _feedback_in_sight(frame)
    _clean(frame, "task-submitted")
    _shot(lms, "volunteer-task-submitted")


def test_returned_task_comes_back_to_the_volunteer(lti: Lti, lms: Any) -> None:
    volunteer = Browser(lti, "volunteer")
    _module, task = module_item(course_of(lti), M2, "task")
    assert volunteer.post(f"m/{M2}/{task.id}", {"text": "Erste Fassung"}).status_code == 303

    # the trainer returns it with a comment, in the demo LMS's iframe
    frame = _launch(lti, lms, "trainer")
    assert lms.locator(".demo-launches a[aria-current]").inner_text() == PERSONAS["trainer"]
    frame.goto(frame.url + "reviews/")
    frame.get_by_role("link", name=task.title).first.click()
    frame.get_by_label("Rückmeldung an die*den Botschafter*in").fill("Bitte beschreib noch den Echotest.")
    frame.get_by_role("button", name="Mit Rückmeldung zurückgeben").click()
    frame.get_by_text("zurückgegeben").first.wait_for()

    frame = _launch(lti, lms, "volunteer")
    frame.get_by_text("ist mit einer Rückmeldung zurückgekommen").wait_for()
    _clean(frame, "home-returned")
    _shot(lms, "volunteer-home-returned")
    with frame.expect_navigation():
        frame.get_by_role("link", name="Rückmeldung lesen und überarbeiten").click()
    assert frame.url.endswith("#feedback")
    assert frame.get_by_label("Dein Text").input_value() == "Erste Fassung"
    assert frame.get_by_text("Bitte beschreib noch den Echotest.").is_visible()
    _clean(frame, "task-returned")
    _shot(lms, "volunteer-task-returned")


def test_trainer_journey(lti: Lti, lms: Any) -> None:
    frame = _launch(lti, lms, "trainer")
    _clean(frame, "trainer-home")
    _english_then_an_ordinary_link(frame, "Modules")
    _clean(frame, "trainer-overview-en")
    with frame.expect_navigation():
        frame.get_by_role("link", name="Deutsch").click()
    # the preview of a self-check answers with the full feedback, records nothing
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    frame.goto(frame.url.split("/m/")[0] + f"/m/{M1}/{quiz.id}")
    assert frame.locator(".question__legend").first.evaluate(
        "el => getComputedStyle(el).float === 'left'"
    )  # the title inside the card, not on its border
    for question in quiz.questions:
        frame.locator(f"#q-{question.id}-{min(question.correct_indices)}").check()
    frame.get_by_role("button", name="Antworten prüfen").click()
    frame.get_by_text("Dein Ergebnis").first.wait_for()
    assert "result=" not in frame.url and frame.get_by_text("Vorschau:").first.is_visible()
    _clean(frame, "trainer-quiz-preview")
    _shot(lms, "trainer-quiz-preview")


def test_trainer_picker_aligns_boxes_with_their_labels(lti: Lti, lms: Any) -> None:
    lms.goto(lti.platform.url + "/")
    lms.get_by_role("link", name="Inhalt hinzufügen (als Trainer Jonas)").click()
    frame_locator = lms.frame_locator("iframe[name=tool]")
    frame_locator.locator("h1").first.wait_for()
    frame = lms.frame(name="tool")
    assert frame is not None
    _clean(frame, "picker")
    _shot(lms, "trainer-picker")
    offsets = frame.evaluate(
        """() => [...document.querySelectorAll('.dl-entry')].map(li => {
             const box = li.querySelector('input').getBoundingClientRect();
             const label = li.querySelector('label');
             const line = parseFloat(getComputedStyle(label).lineHeight);
             const top = label.getBoundingClientRect().top;
             return (box.top + box.height / 2) - (top + line / 2);
           })"""
    )
    assert offsets and max(abs(o) for o in offsets) <= 3, offsets  # each box centred on its label's first line
    titles = frame.locator(".dl-entry label").all_inner_texts()
    assert not any("Selbstcheck: Selbstcheck" in t or "Praxisaufgabe: Praxisaufgabe" in t for t in titles)


def test_coordinator_journey(lti: Lti, lms: Any) -> None:
    frame = _launch(lti, lms, "coordinator")
    assert frame.get_by_text("Koordination", exact=True).is_visible()  # the landing page names the role right
    _clean(frame, "coordinator-home")
    _shot(lms, "coordinator-home")
    _english_then_an_ordinary_link(frame, "Start")
    assert frame.get_by_text("Coordinator", exact=True).is_visible()
    _clean(frame, "coordinator-home-en")


def test_volunteer_without_name_journey(lti: Lti, lms: Any) -> None:
    frame = _launch(lti, lms, "volunteer-private")
    frame.get_by_role("heading", level=1, name="Hallo!").wait_for()
    _clean(frame, "private-home")
    _english_then_an_ordinary_link(frame, "Modules")
    frame.get_by_role("heading", level=1, name="Your modules").wait_for()
    _clean(frame, "private-overview-en")
    _shot(lms, "private-overview-en")


@pytest.mark.parametrize("persona", ["volunteer", "volunteer-private"])
def test_learner_pages_at_320px(lti: Lti, browser: Any, persona: str) -> None:
    context = browser.new_context(viewport={"width": 320, "height": 640})
    page = context.new_page()
    person = Browser(lti, persona)
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    page.goto(person.url(f"m/{M1}/{quiz.id}"))
    page.get_by_role("button", name="Antworten prüfen").click()
    page.get_by_text("Bitte prüfe deine Antworten").wait_for()
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(SCREENSHOTS / f"journey-{persona}-quiz-errors-320.png"), full_page=True)
    page.goto(person.url(""))
    assert axe_violations(page) == []
    context.close()
