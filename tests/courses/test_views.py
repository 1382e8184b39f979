"""The learner pages over real HTTP: a volunteer reads, answers and hands in; bad input answers 4xx."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path
from urllib.parse import urljoin

import pytest
from flask import Flask
from sqlalchemy import select

from lms.core.extensions import db
from lms.courses.content import load_course
from lms.courses.setup import current_course, init_app, set_course
from lms.progress import queries
from lms.progress.models import (
    COMPLETED,
    VIEWED,
    ItemProgress,
    ProgressEvent,
    QuizAttempt,
    TaskSubmission,
)
from tests.conftest import Lti, assert_refused, page_text
from tests.progress.helpers import M1, M2, M4, Browser, answers, count, course_of, module_item, serve_without_pools

FIXTURES = Path(__file__).parent / "fixtures" / "good"


@pytest.fixture
def no_pools(lti: Lti, monkeypatch: pytest.MonkeyPatch) -> None:
    """The quiz form tests count on every question being shown (the draw: tests/progress/test_pools.py)."""
    serve_without_pools(lti, monkeypatch)


@pytest.fixture
def volunteer(lti: Lti) -> Browser:
    return Browser(lti, "volunteer")


def test_overview_lists_every_module_with_progress_and_tiers(lti: Lti, volunteer: Browser) -> None:
    resp = volunteer.get("m/")
    assert resp.status_code == 200
    text = page_text(resp.text)
    course = course_of(lti)
    assert len(course.modules) == 7
    for module in course.modules:
        assert module.title in text
    assert text.count("0 % erledigt") == 7
    assert "Digital startklar" in text and "Digitale*r Botschafter*in" in text
    assert "0 von 3 Modulen abgeschlossen" in text
    assert "Live-Tutorial" in text
    first = course.modules[0].items[0]
    assert f"Weiter mit: {first.title}" in text
    assert 'href="/t/' in resp.text  # links carry the launch token


def test_tier_counts_attended_live_tutorials(lti: Lti, volunteer: Browser, monkeypatch: pytest.MonkeyPatch) -> None:
    text = page_text(volunteer.get("m/").text)
    assert "Live-Tutorials: 0 von 1 besucht" in text and "Live-Tutorials: 0 von 2 besucht" in text
    monkeypatch.setattr(queries, "attended_tutorials", lambda user_id: 2)
    text = page_text(volunteer.get("m/").text)
    assert "Live-Tutorials: 0 von" not in text
    assert "2 Live-Tutorials besucht" in text


def test_module_page_lists_items_and_starts_with_the_first(lti: Lti, volunteer: Browser) -> None:
    module = course_of(lti).module(M1)
    assert module is not None
    resp = volunteer.get(f"m/{M1}/")
    assert resp.status_code == 200
    text = page_text(resp.text)
    assert module.title in text and module.summary.strip()[:40] in text
    for item in module.items:
        assert item.title in text
    assert f"Los geht’s: {module.items[0].title}" in text
    assert "DigComp 2.2" in text
    # without the slash, the module page redirects to it
    assert volunteer.get(f"m/{M1}", allow_redirects=False).status_code in (301, 308)


def test_lesson_has_time_pager_and_relative_links_that_work(lti: Lti, volunteer: Browser) -> None:
    module = course_of(lti).module(M1)
    assert module is not None
    first, second = module.items[0], module.items[1]
    resp = volunteer.get(f"m/{M1}/{first.id}")
    assert resp.status_code == 200
    text = page_text(resp.text)
    assert first.title in text
    assert f"ca. {first.minutes} Minuten" in text
    assert f"Lektion 1 von {len(module.lessons)}" in text
    assert f"Weiter: {second.title}" in text
    assert "Zur Modulübersicht" in text
    assert "Als erledigt markieren" in text
    # every relative link in any lesson resolves to a page of the tool
    checked = 0
    for mod in course_of(lti).modules:
        for item in mod.lessons:
            for href in re.findall(r'href="([^"#]+)(?:#[^"]*)?"', item.html):
                if href.startswith(("http", "mailto")):
                    continue
                target = urljoin(volunteer.url(f"m/{mod.id}/{item.id}"), href)
                assert volunteer.http.get(target, timeout=10).status_code == 200, (item.id, href)
                checked += 1
    assert checked > 0


def test_viewing_records_the_first_view_only_and_marking_done_goes_on(lti: Lti, volunteer: Browser) -> None:
    module = course_of(lti).module(M1)
    assert module is not None
    first, second = module.items[0], module.items[1]
    volunteer.get(f"m/{M1}/{first.id}")
    volunteer.get(f"m/{M1}/{first.id}")
    resp = volunteer.post(f"m/{M1}/{first.id}")
    assert resp.status_code == 303
    assert resp.headers["Location"].endswith(f"/m/{M1}/{second.id}")
    again = volunteer.post(f"m/{M1}/{first.id}", {"csrf_token": volunteer.launch_csrf()}, csrf=False)  # harmless
    assert again.status_code == 303
    with lti.app.app_context():
        row = db.session.execute(select(ItemProgress)).scalar_one()
        assert row.item_id == first.id and row.completed_at is not None and row.first_viewed_at is not None
        kinds = [e.kind for e in db.session.execute(select(ProgressEvent).order_by(ProgressEvent.id)).scalars()]
        assert kinds == [VIEWED, COMPLETED]
    page = page_text(volunteer.get(f"m/{M1}/{first.id}").text)
    assert "Diese Lektion hast du erledigt." in page
    overview = page_text(volunteer.get("m/").text)
    percent = 100 // len(module.items)
    assert f"{percent} % erledigt" in overview
    assert f"Weiter mit: {second.title}" in overview


def test_last_lesson_of_module_leads_back_to_module_page(lti: Lti, volunteer: Browser) -> None:
    module = course_of(lti).module(M1)
    assert module is not None
    last = module.items[-1]
    text = page_text(volunteer.get(f"m/{M1}/{last.id}").text)
    assert "Zur Modulübersicht" in text


@pytest.mark.usefixtures("no_pools")
def test_quiz_feedback_score_pass_and_retry(lti: Lti, volunteer: Browser) -> None:
    module, quiz = module_item(course_of(lti), M1, "quiz")
    page = volunteer.get(f"m/{M1}/{quiz.id}")
    assert page.status_code == 200
    assert page.text.count("<fieldset") == len(quiz.questions)
    assert page.text.count("<legend") == len(quiz.questions)
    assert f"bestanden ab {quiz.pass_mark} %" in page_text(page.text)

    n = len(quiz.questions)
    wrong = volunteer.post(f"m/{M1}/{quiz.id}", answers(quiz, right=1))
    # redirect after POST to the stored attempt, scrolled to the message: a reload does not send the answers again
    assert wrong.status_code == 303
    assert re.search(rf"/m/{M1}/{quiz.id}\?result=\d+#feedback$", wrong.headers["Location"])
    shown = volunteer.http.get(urljoin(wrong.url, wrong.headers["Location"]), timeout=10)
    assert shown.status_code == 200
    text = page_text(shown.text)
    assert f"1 von {n} Fragen richtig: {100 // n} %" in text
    assert "Noch nicht bestanden" in text
    assert "Noch einmal versuchen" in text
    # what is stored: per question right or not, never the chosen answers
    assert text.count("Nicht richtig") == n - 1 and "Deine Antwort:" not in text
    assert "nicht deine Antworten" in text
    assert 'id="feedback"' in shown.text and "data-focus-on-load" in shown.text
    assert (
        page_text(volunteer.http.get(urljoin(wrong.url, wrong.headers["Location"]), timeout=10).text) == text
    )  # a reload
    assert "Dein Ergebnis: Selbstcheck" not in text

    passed = volunteer.post(f"m/{M1}/{quiz.id}", answers(quiz))
    assert passed.status_code == 303
    text = page_text(volunteer.http.get(urljoin(passed.url, passed.headers["Location"]), timeout=10).text)
    assert f"{n} von {n} Fragen richtig: 100 %" in text
    assert "Bestanden!" in text

    with lti.app.app_context():
        attempts = db.session.execute(select(QuizAttempt).order_by(QuizAttempt.id)).scalars().all()
        assert [(a.score, a.passed, a.module_version) for a in attempts] == [
            (100 // n, False, module.version),
            (100, True, module.version),
        ]
        row = db.session.execute(select(ItemProgress).where(ItemProgress.item_id == quiz.id)).scalar_one()
        assert (row.attempts, row.best_score, row.completed_at is not None) == (2, 100, True)
    retry = page_text(volunteer.get(f"m/{M1}/{quiz.id}").text)
    assert "Bestanden. Bestes Ergebnis: 100 %" in retry


@pytest.mark.usefixtures("no_pools")
def test_quiz_without_all_answers_is_a_readable_400_and_writes_nothing(lti: Lti, volunteer: Browser) -> None:
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    fields = answers(quiz)
    skipped = quiz.questions[2].id
    resp = volunteer.post(f"m/{M1}/{quiz.id}", [f for f in fields if f[0] != "q-" + skipped])
    assert resp.status_code == 400
    text = page_text(resp.text)
    assert "Bitte prüfe deine Antworten" in text
    wanted = "mindestens eine Antwort" if quiz.questions[2].kind == "multiple" else "eine Antwort"
    assert f"Frage 3: Bitte wähle {wanted}." in text
    assert f'href="#q-{skipped}"' in resp.text
    assert 'aria-describedby="q-' + skipped + '-error"' in resp.text
    # what was chosen is still chosen
    assert resp.text.count(" checked") == sum(1 for f in fields if f[0] != "q-" + skipped)
    with lti.app.app_context():
        assert count(QuizAttempt) == 0


@pytest.mark.usefixtures("no_pools")
def test_unanswered_questions_say_one_or_at_least_one_answer(lti: Lti, volunteer: Browser) -> None:
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    single = next(q for q in quiz.questions if q.kind != "multiple")
    multiple = next(q for q in quiz.questions if q.kind == "multiple")
    fields = [f for f in answers(quiz) if f[0] not in ("q-" + single.id, "q-" + multiple.id)]
    resp = volunteer.post(f"m/{M1}/{quiz.id}", fields)
    assert resp.status_code == 400
    text = page_text(resp.text)
    n_single = quiz.questions.index(single) + 1
    n_multiple = quiz.questions.index(multiple) + 1
    assert f"Frage {n_single}: Bitte wähle eine Antwort." in text
    assert f"Frage {n_multiple}: Bitte wähle mindestens eine Antwort." in text
    # the summary comes first in the content, focusable, and the form answers to #feedback
    assert resp.text.index('id="feedback"') < resp.text.index('id="item-title"')
    assert 'tabindex="-1" data-focus-on-load' in resp.text
    assert re.search(rf'<form method="post" class="quiz" action="[^"]*/{quiz.id}#feedback"', resp.text)


def test_stored_result_belongs_to_its_volunteer(lti: Lti, volunteer: Browser) -> None:
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    location = volunteer.post(f"m/{M1}/{quiz.id}", answers(quiz)).headers["Location"]
    attempt = re.search(r"result=(\d+)", location)
    assert attempt
    mine = page_text(volunteer.get(f"m/{M1}/{quiz.id}?result={attempt.group(1)}").text)
    assert "Dein Ergebnis" in mine
    # the older German name of the parameter still opens it (pages kept open or bookmarked)
    assert page_text(volunteer.get(f"m/{M1}/{quiz.id}?ergebnis={attempt.group(1)}").text) == mine
    other = Browser(lti, "volunteer-private")
    assert other.get(f"m/{M1}/{quiz.id}?result={attempt.group(1)}").status_code == 404
    for bad in ("abc", "-1", "99999", "1" * 30):
        assert volunteer.get(f"m/{M1}/{quiz.id}?result={bad}").status_code == 404, bad
    # another self-check's page does not show this attempt either
    _module2, quiz2 = module_item(course_of(lti), M2, "quiz")
    assert volunteer.get(f"m/{M2}/{quiz2.id}?result={attempt.group(1)}").status_code == 404


@pytest.mark.usefixtures("no_pools")
@pytest.mark.parametrize("bad", ["99", "abc", "-1", "", "1x"])
def test_quiz_with_values_no_form_sends_is_400(lti: Lti, volunteer: Browser, bad: str) -> None:
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    fields = [f for f in answers(quiz) if f[0] != "q-" + quiz.questions[0].id]
    fields.append(("q-" + quiz.questions[0].id, bad))
    resp = volunteer.post(f"m/{M1}/{quiz.id}", fields)
    assert resp.status_code == 400
    assert "Frage 1:" in page_text(resp.text)
    with lti.app.app_context():
        assert count(QuizAttempt) == 0


@pytest.mark.usefixtures("no_pools")
def test_single_choice_with_two_answers_is_400(lti: Lti, volunteer: Browser) -> None:
    _module, quiz = module_item(course_of(lti), M1, "quiz")
    single = next(q for q in quiz.questions if q.kind in ("single", "true_false"))
    fields = [f for f in answers(quiz) if f[0] != "q-" + single.id]
    fields += [("q-" + single.id, "0"), ("q-" + single.id, "1")]
    assert volunteer.post(f"m/{M1}/{quiz.id}", fields).status_code == 400


def test_checklist_task_needs_every_item_and_counts_without_review(lti: Lti, volunteer: Browser) -> None:
    _module, task = module_item(course_of(lti), M1, "task")
    assert task.submission == "checklist" and not task.review
    page = volunteer.get(f"m/{M1}/{task.id}")
    assert page.text.count('type="checkbox"') == len(task.checklist)
    some = volunteer.post(f"m/{M1}/{task.id}", {"check-0": "1"})
    assert some.status_code == 400
    assert "Bitte hake alle Punkte der Checkliste ab" in page_text(some.text)
    with lti.app.app_context():
        assert count(TaskSubmission) == 0
    fields = {f"check-{i}": "1" for i in range(len(task.checklist))}
    done = volunteer.post(f"m/{M1}/{task.id}", fields)
    assert done.status_code == 303
    text = page_text(volunteer.get(f"m/{M1}/{task.id}?submitted=1").text)
    assert "Danke! Deine Abgabe ist gespeichert." in text
    assert "erledigt" in text
    with lti.app.app_context():
        row = db.session.execute(select(ItemProgress).where(ItemProgress.item_id == task.id)).scalar_one()
        assert row.completed_at is not None
        submission = db.session.execute(select(TaskSubmission)).scalar_one()
        assert submission.checked_items == len(task.checklist)


@pytest.mark.parametrize(
    ("link", "message"),
    [
        ("", "Bitte gib einen Link ein."),
        ("   ", "Bitte gib einen Link ein."),
        ("javascript:alert(1)", "Das ist kein gültiger Link."),
        ("ftp://example.org/video", "Das ist kein gültiger Link."),
        ("https://", "Das ist kein gültiger Link."),
        ("https://exa mple.org/", "Das ist kein gültiger Link."),
        ("https://user:pw@example.org/", "Das ist kein gültiger Link."),
        ("https://example.org/" + "a" * 2100, "Der Link ist zu lang"),
    ],
)
def test_bad_link_hand_in_is_a_readable_400(lti: Lti, volunteer: Browser, link: str, message: str) -> None:
    _module, task = module_item(course_of(lti), M4, "task")
    assert task.submission == "link"
    resp = volunteer.post(f"m/{M4}/{task.id}", {"link": link})
    assert resp.status_code == 400
    text = page_text(resp.text)
    assert message in text
    assert 'aria-invalid="true"' in resp.text
    assert "Bitte prüfe deine Eingabe" in text
    with lti.app.app_context():
        assert count(TaskSubmission) == 0
        assert count(ProgressEvent, ProgressEvent.kind != VIEWED) == 0


def test_link_hand_in_waits_for_review(lti: Lti, volunteer: Browser) -> None:
    _module, task = module_item(course_of(lti), M4, "task")
    resp = volunteer.post(f"m/{M4}/{task.id}", {"link": "https://video.example.org/watch?v=abc&t=1"})
    assert resp.status_code == 303
    page = volunteer.get(f"m/{M4}/{task.id}")
    text = page_text(page.text)
    assert "wartet auf Prüfung" in text
    assert 'href="https://video.example.org/watch?v=abc&amp;t=1"' in page.text
    assert "<form" not in page.text.split("Dein Stand")[1]  # no second hand-in while it waits
    again = volunteer.post(
        f"m/{M4}/{task.id}", {"link": "https://video.example.org/2", "csrf_token": volunteer.launch_csrf()}, csrf=False
    )
    assert again.status_code == 409
    with lti.app.app_context():
        assert count(TaskSubmission) == 1


@pytest.mark.parametrize(("text", "status"), [("", 400), ("   \n ", 400), ("x" * 2001, 400), ("Gut gemacht", 303)])
def test_text_hand_in_length(lti: Lti, volunteer: Browser, text: str, status: int) -> None:
    _module, task = module_item(course_of(lti), M2, "task")
    resp = volunteer.post(f"m/{M2}/{task.id}", {"text": text})
    assert resp.status_code == status
    if status == 400:
        assert "Bitte prüfe deine Eingabe" in page_text(resp.text)


def test_post_without_csrf_token_is_refused(lti: Lti, volunteer: Browser) -> None:
    _module, task = module_item(course_of(lti), M2, "task")
    resp = volunteer.post(f"m/{M2}/{task.id}", {"text": "Hallo"}, csrf=False)
    assert resp.status_code == 400
    with lti.app.app_context():
        assert count(TaskSubmission) == 0


@pytest.mark.parametrize(
    "path",
    [
        "m/nope/",
        "m/nope/x",
        f"m/{M1}/nope",
        f"m/{M1}/m2-selbstcheck",
        f"m/{M1}/assets/nope.svg",
        f"m/{M1}/assets/../module.yaml",
    ],
)
def test_unknown_module_item_or_asset_is_404(volunteer: Browser, path: str) -> None:
    resp = volunteer.get(path)
    assert resp.status_code == 404
    assert "Diese Seite gibt es nicht." in page_text(resp.text)


def test_assets_are_served_with_type_and_cache_headers(lti: Lti, volunteer: Browser) -> None:
    set_course(lti.app, load_course(FIXTURES))
    page = volunteer.get("m/m1-gut/m1-konten-schuetzen")
    assert page.status_code == 200
    assert 'src="assets/schloss.svg"' in page.text
    image = volunteer.http.get(urljoin(page.url, "assets/schloss.svg"), timeout=10)
    assert image.status_code == 200
    assert image.headers["Content-Type"].startswith("image/svg+xml")
    cache = image.headers["Cache-Control"]
    assert "private" in cache and "max-age=3600" in cache and "no-store" not in cache
    assert "sandbox" in image.headers["Content-Security-Policy"]
    assert image.headers.get("ETag")
    pdf = volunteer.get("m/m1-gut/assets/liste.pdf")
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert volunteer.get("m/m1-gut/assets/%2e%2e/module.yaml").status_code == 404
    assert volunteer.get("m/m1-gut/assets/").status_code == 404


def test_pages_need_a_launch(lti: Lti) -> None:
    import requests

    assert_refused(requests.get(lti.tool.url + "/t/forged/m/", timeout=10), 401)


def test_nav_and_home_card_for_volunteer(lti: Lti) -> None:
    resp = lti.launch("volunteer")
    text = page_text(resp.text)
    assert "Dein Lernstand" in text
    assert "0 von 7 Modulen abgeschlossen" in text
    course = course_of(lti)
    assert course.modules[0].items[0].title in text
    assert re.search(r'<a href="/t/[^"]+/m/">Module</a>', resp.text)
    assert "Abgaben prüfen" not in text


def test_a_broken_module_is_reported_with_file_and_line_and_not_served(
    app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "kurs"
    shutil.copytree(FIXTURES, root)
    lesson = root / "m2-weiter" / "01-live-beraten.md"
    lesson.write_text(lesson.read_text(encoding="utf-8").replace("title:", "titel:", 1), encoding="utf-8")
    app.config["COURSES_DIR"] = str(root)
    with caplog.at_level(logging.WARNING, logger="lms.courses.setup"):
        init_app(app)
    with app.app_context():
        course = current_course()
        assert [m.id for m in course.modules] == ["m1-gut"]
    messages = [r.getMessage() for r in caplog.records]
    assert any(re.search(r"m2-weiter/01-live-beraten\.md:\d+: ", m) for m in messages), messages
    assert any("not serving: m2-weiter" in m for m in messages), messages
