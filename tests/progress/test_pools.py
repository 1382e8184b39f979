"""Question pools: each attempt draws its own set, a reload and the grading use the stored draw, a retry draws
anew and prefers the questions the last attempt did not show; scores and statistics count the drawn set."""

from __future__ import annotations

import dataclasses
import random
import re
from collections.abc import Iterator

import pytest
from flask import Flask, current_app
from sqlalchemy import select

from lms.core.extensions import db
from lms.courses.content import Course, Item, Module, Question
from lms.courses.setup import EXTENSION_KEY, current_course
from lms.progress import services
from lms.progress.models import QuestionResult, QuizAttempt, QuizDraw
from lms.progress.scoring import draw_questions, grade, read_answers
from tests.conftest import Lti
from tests.progress.helpers import M1, Browser, count

DRAW = 6


def _with_pool(course: Course, module_id: str = M1, draw: int = DRAW, groups: dict[str, str] | None = None) -> Course:
    """The course with the module's self-check drawing `draw` questions (and the given groups by question id)."""
    module = course.module(module_id)
    assert module is not None and module.quiz is not None
    quiz = module.quiz
    questions = tuple(dataclasses.replace(q, group=(groups or {}).get(q.id, "")) for q in quiz.questions)
    pooled = dataclasses.replace(quiz, draw=draw, questions=questions)
    grown = dataclasses.replace(module, items=tuple(pooled if i.id == quiz.id else i for i in module.items))
    return dataclasses.replace(course, modules=tuple(grown if m.id == module_id else m for m in course.modules))


def _quiz(course: Course, module_id: str = M1) -> tuple[Module, Item]:
    module = course.module(module_id)
    assert module is not None and module.quiz is not None
    return module, module.quiz


@pytest.fixture
def pooled(person: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Module, Item]]:
    """M1's self-check as a pool that shows DRAW of its questions."""
    course = _with_pool(current_course())
    monkeypatch.setitem(current_app.extensions["medienwerk"], EXTENSION_KEY, course)
    yield _quiz(course)


def _ids(questions: tuple[Question, ...]) -> list[str]:
    return [q.id for q in questions]


# --- the draw itself (pure) ------------------------------------------------------------------------------------


def test_a_quiz_without_draw_shows_every_question(app: Flask) -> None:
    _module, quiz = _quiz(current_course_of(app))
    plain = dataclasses.replace(quiz, draw=None)
    assert not plain.is_pool and plain.drawn_count == len(plain.questions)
    assert draw_questions(plain, rng=random.Random(1)) == plain.questions


def current_course_of(app: Flask) -> Course:
    with app.app_context():
        return current_course()


def test_draws_differ_keep_the_file_order_and_prefer_unseen_questions(app: Flask) -> None:
    _module, quiz = _quiz(_with_pool(current_course_of(app)))
    pool = _ids(quiz.questions)
    rng = random.Random(7)
    draws = [draw_questions(quiz, rng=rng) for _ in range(20)]
    assert all(len(d) == DRAW for d in draws)
    assert all(_ids(d) == [q for q in pool if q in _ids(d)] for d in draws)  # shown in the file's order
    assert len({tuple(_ids(d)) for d in draws}) > 1  # attempts do not all get the same set
    first = draw_questions(quiz, rng=random.Random(3))
    second = draw_questions(quiz, set(_ids(first)), random.Random(4))
    unseen = len(pool) - DRAW
    # the retry takes every question the last attempt did not show, then fills up with seen ones
    assert len(set(_ids(second)) - set(_ids(first))) == min(unseen, DRAW)


def test_every_group_gets_a_question(app: Flask) -> None:
    course = current_course_of(app)
    _module, quiz = _quiz(course)
    ids = _ids(quiz.questions)
    groups = {ids[0]: "a", ids[1]: "a", ids[-1]: "b"}  # two small groups among ungrouped questions
    _module, pooled = _quiz(_with_pool(course, groups=groups))
    for seed in range(30):
        drawn = set(_ids(draw_questions(pooled, {ids[0], ids[1], ids[-1]}, random.Random(seed))))
        # even when the last attempt showed them all, each topic is asked again
        assert drawn & {ids[0], ids[1]} and ids[-1] in drawn


def test_grading_counts_only_the_drawn_questions(app: Flask) -> None:
    _module, quiz = _quiz(_with_pool(current_course_of(app)))
    drawn = draw_questions(quiz, rng=random.Random(5))
    answers = {q.id: q.correct_indices for q in drawn}
    result = grade(quiz, answers, drawn)
    assert (result.question_count, result.correct_count, result.score, result.passed) == (DRAW, DRAW, 100, True)
    # a question of the pool that was not drawn is neither required nor counted
    left_out = next(q for q in quiz.questions if q not in drawn)
    form = {"q-" + q.id: [str(min(q.correct_indices))] for q in drawn}
    form["q-" + left_out.id] = ["0"]
    assert set(read_answers(quiz, lambda name: form.get(name, []), drawn)) == set(_ids(drawn))


# --- stored draws --------------------------------------------------------------------------------------------


def test_the_draw_is_stored_a_reload_shows_it_and_grading_uses_it(person: int, pooled: tuple[Module, Item]) -> None:
    module, quiz = pooled
    first = services.quiz_questions(person, quiz)
    assert len(first) == DRAW
    assert services.quiz_questions(person, quiz) == first  # a reload
    stored = db.session.execute(select(QuizDraw).where(QuizDraw.user_id == person)).scalar_one()
    assert stored.question_ids == _ids(first)

    attempt = services.record_quiz_attempt(person, module, quiz, grade(quiz, {}, first))
    query = select(QuestionResult.question_id).where(QuestionResult.attempt_id == attempt.id)
    results = db.session.execute(query.order_by(QuestionResult.position)).scalars()
    assert list(results) == _ids(first)  # the drawn set lives on with the attempt
    assert (attempt.question_count, attempt.score) == (DRAW, 0)
    assert count(QuizDraw) == 0

    retry = services.quiz_questions(person, quiz)
    unseen = len(quiz.questions) - DRAW
    assert len(set(_ids(retry)) - set(_ids(first))) == min(unseen, DRAW)  # unseen questions first


def test_a_draw_whose_questions_were_removed_is_replaced(
    person: int, pooled: tuple[Module, Item], monkeypatch: pytest.MonkeyPatch
) -> None:
    _module, quiz = pooled
    first = services.quiz_questions(person, quiz)
    gone = first[0]
    trimmed = dataclasses.replace(quiz, questions=tuple(q for q in quiz.questions if q.id != gone.id))
    again = services.quiz_questions(person, trimmed)
    assert len(again) == DRAW and gone.id not in _ids(again)
    stored = db.session.execute(select(QuizDraw.question_ids).where(QuizDraw.user_id == person)).scalar_one()
    assert stored == _ids(again)


def test_module_statistics_count_each_question_at_its_first_showing(person: int, pooled: tuple[Module, Item]) -> None:
    from lms.dashboards.queries import module_statistics
    from lms.users.models import Enrollment, LmsCourse, User
    from lms.users.scope import Scope

    user = db.session.get(User, person)
    assert user is not None
    lms_course = LmsCourse(chamber_id=user.chamber_id, issuer=user.issuer, context_id="kurs-1", title="Kurs")
    db.session.add(Enrollment(user=user, course=lms_course, role="volunteer"))
    module, quiz = pooled
    first = services.quiz_questions(person, quiz)
    services.record_quiz_attempt(person, module, quiz, grade(quiz, {}, first))  # everything wrong
    second = services.quiz_questions(person, quiz)
    services.record_quiz_attempt(person, module, quiz, grade(quiz, {q.id: q.correct_indices for q in second}, second))

    scope = Scope((user.chamber_id,), None, "coordinator")
    figures = {f.question_id: f for f in module_statistics(scope, current_course(), module).questions}
    assert set(figures) == set(_ids(first)) | set(_ids(second))
    for qid, figure in figures.items():
        assert figure.first_tries == 1
        # wrong at its first showing counts as wrong, even when a later attempt got it right
        assert figure.first_try_correct == (0 if qid in _ids(first) else 1)


# --- over HTTP -----------------------------------------------------------------------------------------------


def _shown(page: str) -> list[str]:
    """The question ids of the form on a quiz page, in order."""
    ids = re.findall(r'<fieldset class="card question[^"]*" id="q-([a-z0-9-]+)"', page)
    return list(dict.fromkeys(ids))


def test_the_quiz_page_shows_the_draw_reload_and_retry(lti: Lti, monkeypatch: pytest.MonkeyPatch) -> None:
    course = _with_pool(current_course_of(lti.app))
    monkeypatch.setitem(lti.app.extensions["medienwerk"], EXTENSION_KEY, course)
    _module, quiz = _quiz(course)
    volunteer = Browser(lti)
    url = f"m/{M1}/{quiz.id}"
    page = volunteer.get(url).text
    shown = _shown(page)
    assert len(shown) == DRAW
    assert f"{DRAW} Fragen, bei jedem Versuch neu ausgewählt" in page
    assert _shown(volunteer.get(url).text) == shown  # a reload

    by_id = {q.id: q for q in quiz.questions}
    # answering another question of the pool instead of a drawn one leaves a drawn one unanswered
    stranger = next(q.id for q in quiz.questions if q.id not in shown)
    fields = [("q-" + qid, str(min(by_id[qid].correct_indices))) for qid in shown[1:]]
    fields.append(("q-" + stranger, str(min(by_id[stranger].correct_indices))))
    refused = volunteer.post(url, fields)
    assert refused.status_code == 400 and _shown(refused.text) == shown

    fields = [("q-" + qid, str(i)) for qid in shown for i in sorted(by_id[qid].correct_indices)]
    done = volunteer.post(url, fields)
    assert done.status_code == 303
    with lti.app.app_context():
        attempt = db.session.execute(select(QuizAttempt)).scalar_one()
        assert (attempt.question_count, attempt.score, attempt.passed) == (DRAW, 100, True)
        assert [r.question_id for r in attempt.results] == shown
    result = volunteer.http.get(volunteer.url(url) + "?result=" + str(attempt.id), timeout=10).text
    assert f"{DRAW} von {DRAW} Fragen richtig" in result

    retry = _shown(volunteer.get(url).text)
    assert len(retry) == DRAW and retry != shown
    unseen = len(quiz.questions) - DRAW
    assert len(set(retry) - set(shown)) == min(unseen, DRAW)


def test_trainers_preview_the_whole_pool(lti: Lti, monkeypatch: pytest.MonkeyPatch) -> None:
    course = _with_pool(current_course_of(lti.app))
    monkeypatch.setitem(lti.app.extensions["medienwerk"], EXTENSION_KEY, course)
    _module, quiz = _quiz(course)
    trainer = Browser(lti, "trainer")
    page = trainer.get(f"m/{M1}/{quiz.id}").text
    assert _shown(page) == _ids(quiz.questions)
    assert f"{DRAW} von {len(quiz.questions)} Fragen je Versuch" in page
    with lti.app.app_context():
        assert count(QuizDraw) == 0
