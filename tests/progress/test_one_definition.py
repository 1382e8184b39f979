"""One definition of progress: the landing page, the overview and the LMS gradebook show the same number, and a
task that needs no review is complete (not "waiting for review") once handed in."""

from __future__ import annotations

from lms.courses.content import Module
from lms.courses.setup import current_course
from lms.grades import services as grades
from lms.grades.models import ITEM_MODULE, ITEM_OVERVIEW, GradeLink
from lms.progress import queries, services
from lms.progress.scoring import grade
from tests.progress.helpers import M1, M2


def _module(module_id: str) -> Module:
    module = current_course().module(module_id)
    assert module is not None
    return module


def _finish(person: int, module: Module, *, task_text: str | None = None) -> None:
    for lesson in module.lessons:
        services.complete_lesson(person, module, lesson)
    quiz = module.quiz
    assert quiz is not None
    result = grade(quiz, {q.id: q.correct_indices for q in quiz.questions})
    services.record_quiz_attempt(person, module, quiz, result)
    task = module.task
    assert task is not None
    if task.submission == "checklist":
        services.submit_task(person, module, task, services.HandIn(checked_items=len(task.checklist or ())))
    else:
        services.submit_task(person, module, task, services.HandIn(text=task_text or "Mein Text"))


def test_a_task_without_review_is_complete_when_handed_in(person: int) -> None:
    module = _module(M1)
    assert module.task is not None and not module.task.review
    _finish(person, module)
    progress = queries.course_progress(person)[M1]
    assert progress.completed and progress.percent == 100
    assert not progress.awaiting_review
    overview = grades.current_score(person, GradeLink(item_kind=ITEM_OVERVIEW))
    assert not overview.pending_review  # the gradebook gets "FullyGraded", not "Pending"


def test_a_task_with_review_waits_and_says_so_with_the_modules_title(person: int) -> None:
    module = _module(M2)
    assert module.task is not None and module.task.review
    _finish(person, module)
    progress = queries.course_progress(person)[M2]
    assert progress.awaiting_review and not progress.completed
    link = GradeLink(item_kind=ITEM_MODULE, module_id=M2)
    score = grades.current_score(person, link)
    assert score.pending_review and score.percent == progress.percent
    comment = grades._comment(link, score)
    assert f"„{module.title}“" in comment and M2 not in comment
    assert f"zu {score.percent} % abgeschlossen" in comment and "." not in str(score.percent)


def test_landing_page_and_gradebook_show_the_same_overall_number(person: int) -> None:
    _finish(person, _module(M1))
    m2 = _module(M2)
    services.complete_lesson(person, m2, m2.lessons[0])
    progress = queries.course_progress(person)
    expected = sum(p.percent for p in progress.values()) // len(progress)
    assert queries.overall_percent(p.percent for p in progress.values()) == expected
    assert grades.current_score(person, GradeLink(item_kind=ITEM_OVERVIEW)).percent == expected
    from lms.core.extensions import db
    from lms.core.launch_session import LaunchSession
    from lms.users.models import User

    user = db.session.get(User, person)
    launch = LaunchSession(id="x", user=user, role="volunteer", deployment_id="1", platform_id=0)
    assert queries.home_summary(launch).percent == expected
