"""The course as shipped: every self-check draws from a larger pool, and the workload stays near 12 hours."""

from __future__ import annotations

from pathlib import Path

from lms.courses.content import load_course
from lms.courses.review import check_warnings

COURSES = Path(__file__).resolve().parents[2] / "courses"


def test_every_self_check_of_the_course_draws_from_a_larger_pool() -> None:
    course = load_course(COURSES)
    assert course.problems == ()
    assert check_warnings(COURSES) == []
    for module in course.modules:
        quiz = module.quiz
        assert quiz is not None and quiz.draw is not None, module.id
        assert 6 <= quiz.draw <= 8 and len(quiz.questions) >= quiz.draw + 2, module.id


def test_the_course_takes_about_twelve_hours() -> None:
    """The workload stays near 12 hours, and each module's minutes are its items' minutes."""
    course = load_course(COURSES)
    total = sum(module.minutes for module in course.modules)
    assert 660 <= total <= 780, total
    for module in course.modules:
        assert module.minutes == sum(item.minutes or 0 for item in module.items), module.id
