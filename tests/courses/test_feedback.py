"""What a new user trips over on the learner pages: feedback in sight, a returned task on the landing page and
prefilled for the revision, the language choice lasting the launch, one way of writing dates and numbers."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urljoin

import pytest
from flask import Flask, render_template_string
from sqlalchemy import select

from lms.core.extensions import db
from lms.progress import services
from lms.progress.models import TaskSubmission
from tests.conftest import Lti, page_text
from tests.progress.helpers import M1, M2, M4, Browser, course_of, module_item


@pytest.fixture
def volunteer(lti: Lti) -> Browser:
    return Browser(lti, "volunteer")


def _hand_in_and_return(lti: Lti, volunteer: Browser, text: str, comment: str) -> str:
    module, task = module_item(course_of(lti), M2, "task")
    assert volunteer.post(f"m/{M2}/{task.id}", {"text": text}).status_code == 303
    with lti.app.test_request_context():
        submission = db.session.execute(select(TaskSubmission)).scalar_one()
        services.review_submission(
            submission,
            module,
            task,
            reviewer_id=submission.user_id,
            reviewer_role="trainer",
            approve=False,
            comment=comment,
        )
        db.session.commit()
    return task.id


def test_hand_in_confirmation_is_at_the_top_and_the_redirect_scrolls_to_it(lti: Lti, volunteer: Browser) -> None:
    _module, task = module_item(course_of(lti), M2, "task")
    page = volunteer.get(f"m/{M2}/{task.id}")
    assert re.search(rf'<form method="post" action="[^"]*/{task.id}#feedback"', page.text)
    assert 'id="feedback"' not in page.text  # nothing to say yet: no empty box

    resp = volunteer.post(f"m/{M2}/{task.id}", {"text": "Ich habe den Raum getestet."})
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/{task.id}?submitted=1#feedback")
    shown = volunteer.http.get(urljoin(resp.url, resp.headers["Location"]), timeout=10).text
    assert shown.index("Danke! Deine Abgabe ist gespeichert.") < shown.index('id="item-title"')
    assert '<div id="feedback" class="feedback-area" tabindex="-1" data-focus-on-load>' in shown
    assert "/static/feedback.js" in shown


def test_form_errors_are_at_the_top(lti: Lti, volunteer: Browser) -> None:
    _module, task = module_item(course_of(lti), M2, "task")
    resp = volunteer.post(f"m/{M2}/{task.id}", {"text": " "})
    assert resp.status_code == 400
    summary = resp.text.index("Bitte prüfe deine Eingabe")
    assert resp.text.index('id="feedback"') < summary < resp.text.index('id="item-title"')
    assert 'href="#text"' in resp.text  # the summary leads to the field


def test_returned_task_is_announced_on_the_landing_page_and_prefilled(lti: Lti, volunteer: Browser) -> None:
    home = page_text(volunteer.get("").text)
    assert "zurückgekommen" not in home
    task_id = _hand_in_and_return(lti, volunteer, "Erste Fassung\nmit zwei Zeilen", "Bitte nenne ein Beispiel.")

    landing = volunteer.get("")
    text = page_text(landing.text)
    assert (
        "Deine Praxisaufgabe in Modul 2 „Live beraten mit BigBlueButton“ ist mit einer Rückmeldung zurückgekommen."
        in text
    )
    assert re.search(rf'href="/t/[^"]+/m/{M2}/{task_id}#feedback"', landing.text)
    # right below the greeting, before the orientation and the progress card
    assert landing.text.index("zurückgekommen") < landing.text.index("Was du hier findest")

    page = volunteer.get(f"m/{M2}/{task_id}")
    text = page_text(page.text)
    assert "Deine Abgabe ist mit einer Rückmeldung zurückgekommen." in text
    assert "Bitte nenne ein Beispiel." in text
    # the revision starts from the last hand-in, not from an empty box
    assert re.search(r"<textarea[^>]*>Erste Fassung\r?\nmit zwei Zeilen</textarea>", page.text)
    assert "Deine letzte Abgabe steht schon im Formular." in text
    assert "data-focus-on-load" not in page.text  # an ordinary visit: the focus stays where it is

    # handed in again, the landing page no longer mentions it
    assert volunteer.post(f"m/{M2}/{task_id}", {"text": "Zweite Fassung"}).status_code == 303
    assert "zurückgekommen" not in page_text(volunteer.get("").text)


def test_returned_link_and_checklist_tasks_are_prefilled(lti: Lti, volunteer: Browser) -> None:
    module, task = module_item(course_of(lti), M4, "task")
    assert volunteer.post(f"m/{M4}/{task.id}", {"link": "https://video.example.org/v?a=1&b=2"}).status_code == 303
    with lti.app.test_request_context():
        submission = db.session.execute(select(TaskSubmission)).scalar_one()
        services.review_submission(
            submission,
            module,
            task,
            reviewer_id=submission.user_id,
            reviewer_role="trainer",
            approve=False,
            comment="Ton?",
        )
        db.session.commit()
    page = volunteer.get(f"m/{M4}/{task.id}")
    assert 'value="https://video.example.org/v?a=1&amp;b=2"' in page.text


def test_text_limit_is_written_with_a_thousands_separator(lti: Lti, volunteer: Browser) -> None:
    _module, task = module_item(course_of(lti), M2, "task")
    assert "Höchstens 2.000 Zeichen." in page_text(volunteer.get(f"m/{M2}/{task.id}").text)
    too_long = volunteer.post(f"m/{M2}/{task.id}", {"text": "x" * 2001})
    assert "höchstens 2.000 Zeichen" in page_text(too_long.text)
    assert "2000" not in page_text(too_long.text)
    english = page_text(volunteer.get(f"m/{M2}/{task.id}?lang=en").text)
    assert "2,000 characters" in english


def test_labels_are_not_doubled_and_modules_show_no_version(lti: Lti, volunteer: Browser) -> None:
    module, quiz = module_item(course_of(lti), M1, "quiz")
    _module, task = module_item(course_of(lti), M1, "task")
    assert quiz.title.startswith("Selbstcheck:") and task.title.startswith("Praxisaufgabe:")
    for item in (quiz, task):
        text = page_text(volunteer.get(f"m/{M1}/{item.id}").text)
        assert f"{item.title.split(':')[0]} · " not in text, item.id  # the meta line does not repeat the kind
    module_page = page_text(volunteer.get(f"m/{M1}/").text)
    assert "Version" not in module_page and f" {module.version}" not in module_page
    assert "Selbstcheck · " not in module_page and "Praxisaufgabe · " not in module_page
    assert "Lektion · ca." in module_page  # lessons keep their kind


def test_dates_have_four_digit_years_in_both_languages(app: Flask) -> None:
    when = dt.datetime(2025, 3, 5, 13, 30, tzinfo=dt.UTC)
    with app.test_request_context("/?lang=de"):
        assert render_template_string("{{ when|local_datetime }}", when=when) == "05.03.2025, 14:30"
    with app.test_request_context("/?lang=en"):
        assert render_template_string("{{ when|local_datetime }}", when=when) == "Mar 5, 2025, 2:30\u202fPM"


def test_language_choice_lasts_for_the_launch(lti: Lti, volunteer: Browser) -> None:
    landing = volunteer.get("")
    switch = re.search(r'<a href="([^"]+)" hreflang="en" lang="en">English</a>', landing.text)
    assert switch
    english = volunteer.http.get(urljoin(landing.url, switch.group(1).replace("&amp;", "&")), timeout=10)
    assert 'lang="en"' in english.text
    # an ordinary link on that page, without ?lang=: still English, and so are the dates
    modules = re.search(r'<a href="([^"?]+/m/)">Modules</a>', english.text)
    assert modules, page_text(english.text)[:500]
    nxt = volunteer.http.get(urljoin(landing.url, modules.group(1)), timeout=10)
    assert "?lang" not in nxt.url
    assert '<html lang="en">' in nxt.text and "Your modules" in page_text(nxt.text)
    # the switch back keeps the page's other parameters
    _module, task = module_item(course_of(lti), M2, "task")
    page = volunteer.get(f"m/{M2}/{task.id}?submitted=1")
    assert re.search(r'href="[^"]+\?submitted=1&amp;lang=de" hreflang="de"', page.text)
    back = volunteer.get(f"m/{M2}/{task.id}?submitted=1&lang=de")
    assert '<html lang="de">' in back.text
    assert '<html lang="de">' in volunteer.get("m/").text


def test_favicon_is_served(lti: Lti) -> None:
    import requests

    icon = requests.get(lti.tool.url + "/favicon.ico", timeout=10)
    assert icon.status_code == 200 and icon.headers["Content-Type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")
    page = requests.get(lti.launch().url, timeout=10).text
    assert 'rel="icon" href="/static/favicon.svg"' in page
