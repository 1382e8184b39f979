"""Progress writes and the completion rule, called directly (no HTTP)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import inspect, select

from lms.core.extensions import db
from lms.core.signals import progress_changed
from lms.courses.content import Course, Item, Module
from lms.courses.setup import current_course
from lms.progress import queries, services
from lms.progress.models import (
    APPROVED,
    COMPLETED,
    QUIZ_ATTEMPTED,
    RETURNED,
    SUBMITTED,
    TASK_APPROVED,
    TASK_RETURNED,
    TASK_SUBMITTED,
    VIEWED,
    ItemProgress,
    ProgressEvent,
    QuestionResult,
    QuizAttempt,
    TaskSubmission,
)
from lms.progress.scoring import grade
from tests.progress.helpers import M1, M2, count


@pytest.fixture
def signals() -> Iterator[list[tuple[int, str]]]:
    sent: list[tuple[int, str]] = []

    def receiver(sender: Any, *, user_id: int, module_id: str, **_: Any) -> None:
        # receivers run inside the sender's transaction and already see the change
        sent.append((user_id, module_id))

    progress_changed.connect(receiver)
    yield sent
    progress_changed.disconnect(receiver)


def _module(module_id: str) -> Module:
    module = current_course().module(module_id)
    assert module is not None
    return module


def _all_correct(quiz: Item) -> dict[str, frozenset[int]]:
    return {q.id: q.correct_indices for q in quiz.questions}


def test_view_is_recorded_once_and_sends_no_signal(person: int, signals: list[tuple[int, str]]) -> None:
    module = _module(M1)
    lesson = module.lessons[0]
    assert services.record_view(person, module, lesson) is True
    assert services.record_view(person, module, lesson) is False
    db.session.commit()
    assert count(ProgressEvent, ProgressEvent.kind == VIEWED) == 1
    assert signals == []
    assert queries.module_completion(person, M1) == 0
    assert queries.has_progress(person)


def test_completing_a_lesson_counts_and_signals(person: int, signals: list[tuple[int, str]]) -> None:
    module = _module(M1)
    assert services.complete_lesson(person, module, module.lessons[0]) is True
    assert services.complete_lesson(person, module, module.lessons[0]) is False
    db.session.commit()
    assert signals == [(person, M1)]
    assert queries.module_completion(person, M1) == 100 // len(module.items)
    with pytest.raises(services.ProgressError):
        services.complete_lesson(person, module, module.quiz)  # type: ignore[arg-type]


def test_quiz_attempt_records_version_score_and_correctness_only(person: int, signals: list[tuple[int, str]]) -> None:
    module = _module(M1)
    quiz = module.quiz
    assert quiz is not None
    chosen = _all_correct(quiz)
    wrong = quiz.questions[0]
    chosen[wrong.id] = frozenset(set(range(len(wrong.answers))) - wrong.correct_indices)
    attempt = services.record_quiz_attempt(person, module, quiz, grade(quiz, chosen))
    db.session.commit()
    assert signals == [(person, M1)]
    stored = db.session.execute(select(QuizAttempt)).scalar_one()
    assert stored.id == attempt.id
    assert stored.module_version == module.version
    assert stored.content_hash == quiz.content_hash
    n = len(quiz.questions)
    assert (stored.correct_count, stored.question_count, stored.score) == (n - 1, n, (n - 1) * 100 // n)
    assert stored.passed is ((n - 1) * 100 // n >= quiz.pass_mark)
    assert [(r.question_id, r.correct) for r in stored.results] == [(q.id, q.id != wrong.id) for q in quiz.questions]
    event = db.session.execute(select(ProgressEvent).where(ProgressEvent.kind == QUIZ_ATTEMPTED)).scalar_one()
    assert (event.attempt_id, event.score, event.passed, event.module_version) == (
        attempt.id,
        stored.score,
        stored.passed,
        module.version,
    )


def test_no_answer_text_is_stored(person: int) -> None:
    module = _module(M1)
    quiz = module.quiz
    assert quiz is not None
    for _ in range(2):
        services.record_quiz_attempt(person, module, quiz, grade(quiz, _all_correct(quiz)))
    db.session.commit()
    # the schema has no place for chosen answers ...
    columns = {c.key for model in (QuizAttempt, QuestionResult) for c in inspect(model).columns}
    assert not any("answer" in c or "choice" in c or "selection" in c for c in columns)
    # ... and no stored value contains an answer's text
    texts = {a.text_html for q in quiz.questions for a in q.answers}
    for model in (QuizAttempt, QuestionResult, ProgressEvent, ItemProgress):
        for row in db.session.execute(select(model)).scalars():
            for column in inspect(model).columns:
                value = getattr(row, column.key)
                if isinstance(value, str):
                    assert value not in texts
                    assert not any(t in value for t in texts if len(t) > 8)


def test_passing_completes_the_quiz_and_keeps_the_best_score(person: int) -> None:
    module = _module(M1)
    quiz = module.quiz
    assert quiz is not None
    services.record_quiz_attempt(person, module, quiz, grade(quiz, _all_correct(quiz)))
    services.record_quiz_attempt(person, module, quiz, grade(quiz, {}))  # a worse try later
    db.session.commit()
    row = db.session.execute(select(ItemProgress).where(ItemProgress.item_id == quiz.id)).scalar_one()
    assert (row.attempts, row.best_score, row.completed_at is not None) == (2, 100, True)
    assert count(ProgressEvent, ProgressEvent.kind == COMPLETED) == 1
    assert queries.module_progress(person, module).quiz_passed is True


def test_task_with_review_counts_only_when_approved(person: int, signals: list[tuple[int, str]]) -> None:
    module = _module(M2)
    task = module.task
    assert task is not None and task.review
    submission = services.submit_task(person, module, task, services.HandIn(text="Mein Text"))
    db.session.commit()
    assert submission.status == SUBMITTED and submission.module_version == module.version
    assert queries.module_completion(person, M2) == 0
    assert queries.module_awaiting_review(person, M2)
    with pytest.raises(services.ProgressError):
        services.submit_task(person, module, task, services.HandIn(text="Noch einmal"))
    db.session.rollback()

    with pytest.raises(services.InputError):
        services.review_submission(
            submission, module, task, reviewer_id=person, reviewer_role="trainer", approve=False, comment="  "
        )
    services.review_submission(
        submission,
        module,
        task,
        reviewer_id=person,
        reviewer_role="trainer",
        approve=False,
        comment="Bitte ergänze ein Beispiel.",
    )
    db.session.commit()
    assert submission.status == RETURNED and submission.comment == "Bitte ergänze ein Beispiel."
    assert not queries.module_awaiting_review(person, M2)
    second = services.submit_task(person, module, task, services.HandIn(text="Mit Beispiel"))
    services.review_submission(
        second, module, task, reviewer_id=person, reviewer_role="trainer", approve=True, comment=None
    )
    db.session.commit()
    assert second.status == APPROVED and second.reviewed_at is not None
    assert queries.module_completion(person, M2) == 100 // len(module.items)
    with pytest.raises(services.ProgressError):
        services.review_submission(
            second, module, task, reviewer_id=person, reviewer_role="trainer", approve=False, comment="zu spät"
        )
    db.session.rollback()
    kinds = list(
        db.session.execute(
            select(ProgressEvent.kind).where(ProgressEvent.kind != VIEWED).order_by(ProgressEvent.id)
        ).scalars()
    )
    assert kinds == [TASK_SUBMITTED, TASK_RETURNED, TASK_SUBMITTED, TASK_APPROVED, COMPLETED]
    assert count(TaskSubmission) == 2  # the history stays
    assert signals == [(person, M2)] * 4
    history = queries.task_history(person, task.id)
    assert [s.status for s in history] == [APPROVED, RETURNED]


def test_module_completion_counts_every_item_as_one_step(person: int) -> None:
    module = _module(M1)
    quiz, task = module.quiz, module.task
    assert quiz is not None and task is not None and not task.review
    for lesson in module.lessons:
        services.complete_lesson(person, module, lesson)
    db.session.commit()
    steps = len(module.items)
    assert queries.module_completion(person, M1) == len(module.lessons) * 100 // steps
    services.record_quiz_attempt(person, module, quiz, grade(quiz, _all_correct(quiz)))
    assert queries.module_completion(person, M1) == (steps - 1) * 100 // steps
    services.submit_task(person, module, task, services.HandIn(checked_items=len(task.checklist)))
    db.session.commit()
    assert queries.module_completion(person, M1) == 100
    progress = queries.course_progress(person)
    assert progress[M1].completed and progress[M1].status == "completed"
    assert progress[M2].status == "not_started"
    assert queries.module_completion(person, "no-such-module") == 0


def test_completion_follows_the_content_served_now(person: int, app: Any) -> None:
    module = _module(M1)
    for lesson in module.lessons:
        services.complete_lesson(person, module, lesson)
    db.session.commit()
    course: Course = current_course()
    # an author removes a lesson and adds a new one: the removed one no longer counts, the new one is open
    new_lesson = dataclasses.replace(module.lessons[0], id="m1-neue-lektion")
    items = (new_lesson, *module.items[1:])
    changed = dataclasses.replace(course, modules=(dataclasses.replace(module, items=items), *course.modules[1:]))
    lessons_done = len(module.lessons) - 1
    assert queries.module_completion(person, M1, changed) == lessons_done * 100 // len(items)


def test_hand_in_checks() -> None:
    assert services.check_link(" https://example.org/a?b=1 ") == "https://example.org/a?b=1"
    for bad in ("", "example.org", "javascript:alert(1)", "https://localhost/", "http://[::1", "https://a b.de"):
        with pytest.raises(services.InputError):
            services.check_link(bad)
    assert services.check_text("a\r\nb\x00c ") == "a\nbc"
    with pytest.raises(services.InputError):
        services.check_text("x" * 2001)


def test_progress_belongs_to_the_person_across_modules_and_queries(person: int) -> None:
    module = _module(M1)
    services.complete_lesson(person, module, module.lessons[0])
    db.session.commit()
    summary = queries.course_progress(person)
    assert summary[M1].lessons_done == 1 and summary[M1].started
    step = queries.next_step(summary)
    assert step is not None and step.module.id == M1 and step.item == module.items[1]
