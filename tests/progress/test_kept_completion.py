"""A module completed once stays completed (and tiers stay reached) when authors add or cut lessons later."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from lms.core.extensions import db
from lms.courses.content import Course, Module
from lms.courses.setup import EXTENSION_KEY, current_course
from lms.progress import queries, services
from lms.progress.models import ModuleCompletion
from lms.progress.scoring import grade
from lms.users.models import User
from tests.progress.helpers import M1


def _finish(person: int, module: Module) -> None:
    for lesson in module.lessons:
        services.complete_lesson(person, module, lesson)
    quiz = module.quiz
    assert quiz is not None
    services.record_quiz_attempt(person, module, quiz, grade(quiz, {q.id: q.correct_indices for q in quiz.questions}))
    task = module.task
    assert task is not None
    services.submit_task(person, module, task, services.HandIn(checked_items=len(task.checklist or ())))


def _with_new_lesson(course: Course, module_id: str) -> Course:
    module = course.module(module_id)
    assert module is not None
    extra = dataclasses.replace(module.lessons[0], id=f"{module_id}-neue-lektion", title="Neu")
    grown = dataclasses.replace(module, items=(*module.items, extra), version="3.0")
    return dataclasses.replace(course, modules=tuple(grown if m.id == module_id else m for m in course.modules))


def test_completion_is_kept_when_a_lesson_is_added(person: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from flask import current_app

    course = current_course()
    module = course.module(M1)
    assert module is not None
    _finish(person, module)
    row = db.session.execute(select(ModuleCompletion)).scalar_one()
    assert (row.user_id, row.module_id, row.module_version) == (person, M1, module.version)

    grown = _with_new_lesson(course, M1)
    monkeypatch.setitem(current_app.extensions["medienwerk"], EXTENSION_KEY, grown)
    progress = queries.course_progress(person)[M1]
    assert progress.completed and progress.percent == 100 and progress.kept
    # someone new must do every item of the grown module
    newcomer = User(chamber_id=db.session.get(User, person).chamber_id, issuer="https://lms.example.org", sub="neu")
    db.session.add(newcomer)
    db.session.flush()
    grown_m1 = grown.module(M1)
    assert grown_m1 is not None
    _finish(newcomer.id, module)  # everything the module had before
    fresh = queries.course_progress(newcomer.id)[M1]
    assert not fresh.completed and fresh.done == fresh.total - 1
    services.complete_lesson(newcomer.id, grown_m1, grown_m1.items[-1])
    assert queries.course_progress(newcomer.id)[M1].completed


M3 = "m3-online-infoveranstaltungen-moderieren"
M5 = "m5-social-media-fuer-die-berufsorientierung"
# the lessons M3 and M5 gained in the course revision (issue 14)
NEW_LESSONS = {M3: "m3-kinderschutz-und-krisen", M5: "m5-ki-deepfakes-und-desinformation"}


def _finish_all_kinds(person: int, module: Module) -> None:
    """Every item done, whatever the task's hand-in; a task that needs a review approved (by a stand-in)."""
    for lesson in module.lessons:
        services.complete_lesson(person, module, lesson)
    quiz = module.quiz
    assert quiz is not None
    asked = services.quiz_questions(person, quiz)
    services.record_quiz_attempt(person, module, quiz, grade(quiz, {q.id: q.correct_indices for q in asked}, asked))
    task = module.task
    assert task is not None
    hand_in = {
        "checklist": services.HandIn(checked_items=len(task.checklist)),
        "link": services.HandIn(link="https://cloud.hwk-test.de/video"),
        "text": services.HandIn(text="Meine Abgabe."),
    }[task.submission or ""]
    submission = services.submit_task(person, module, task, hand_in)
    if task.review:
        services.review_submission(
            submission, module, task, reviewer_id=person, reviewer_role="trainer", approve=True, comment=None
        )


def _without(course: Course, module_id: str, item_id: str) -> Course:
    """The course as it was before the lesson `item_id` was added to the module."""
    module = course.module(module_id)
    assert module is not None and module.item(item_id) is not None
    older = dataclasses.replace(module, items=tuple(i for i in module.items if i.id != item_id), version="1.0")
    return dataclasses.replace(course, modules=tuple(older if m.id == module_id else m for m in course.modules))


def _serve(monkeypatch: pytest.MonkeyPatch, course: Course) -> None:
    from flask import current_app

    monkeypatch.setitem(current_app.extensions["medienwerk"], EXTENSION_KEY, course)


def test_modules_and_tiers_completed_before_the_revision_stay_so(person: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """M3 and M5 gained a lesson: whoever finished them (and every module of a tier) before keeps both."""
    today = current_course()
    before = today
    for module_id, lesson_id in NEW_LESSONS.items():
        before = _without(before, module_id, lesson_id)
    _serve(monkeypatch, before)
    for module in before.modules:
        _finish_all_kinds(person, module)
    tiers = queries.qualification_progress(person, queries.course_progress(person), before)
    assert all(t.modules_done == len(t.modules) for t in tiers)

    _serve(monkeypatch, today)
    progress = queries.course_progress(person)
    for module_id, lesson_id in NEW_LESSONS.items():
        assert not progress[module_id].item(lesson_id).completed  # the new lesson is still open …
        assert progress[module_id].completed and progress[module_id].percent == 100  # … the module stays done
        assert queries.module_completion(person, module_id) == 100  # what the LMS gradebook gets
    assert queries.overall_percent(p.percent for p in progress.values()) == 100
    tiers = queries.qualification_progress(person, progress, today)
    assert [t.qualification.id for t in tiers] == [q.id for q in today.qualifications]
    assert all(t.modules_done == len(t.modules) for t in tiers)
    # opening or finishing the new lesson later changes nothing of that
    module = today.module(M3)
    assert module is not None
    lesson = module.item(NEW_LESSONS[M3])
    assert lesson is not None
    services.complete_lesson(person, module, lesson)
    assert queries.course_progress(person)[M3].completed
    kept = db.session.execute(select(ModuleCompletion.module_id, ModuleCompletion.module_version)).all()
    assert (M3, "1.0") in kept and (M5, "1.0") in kept  # remembered with the version of the day


def test_a_module_stays_completed_when_a_lesson_is_cut(person: int, monkeypatch: pytest.MonkeyPatch) -> None:
    course = current_course()
    module = course.module(M5)
    assert module is not None
    _finish_all_kinds(person, module)
    cut = dataclasses.replace(module, items=module.items[1:], version="3.0")
    _serve(monkeypatch, dataclasses.replace(course, modules=tuple(cut if m.id == M5 else m for m in course.modules)))
    progress = queries.course_progress(person)[M5]
    assert progress.completed and progress.percent == 100 and progress.total == len(module.items) - 1
