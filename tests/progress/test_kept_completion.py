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
