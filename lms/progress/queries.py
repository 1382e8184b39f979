"""Reads for learning progress, returning dataclasses. Each page asks a bounded number of queries: the
overview reads all of a person's item states in one query and works out every module from it.

**What counts** (``module_completion``): every item of a module is one equal step: each lesson (done when
the volunteer marked it as done), the self-check (done when passed once) and the practical task (done when
handed in; when the task needs a trainer's approval, only when approved). The percentage is done steps /
all steps, rounded down, so 100 means everything is done. Items are matched by their stable ids against
the content served now: removed items no longer count, new ones count as not done.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import aliased

from lms.core.extensions import db
from lms.core.launch_session import LaunchSession
from lms.core.paging import PER_PAGE, Page, paginate
from lms.courses.content import Course, Item, Module, Qualification
from lms.courses.setup import current_course
from lms.live_sessions.queries import attended_tutorials
from lms.progress.models import (
    RETURNED,
    SUBMITTED,
    ItemProgress,
    ModuleCompletion,
    QuizAttempt,
    TaskSubmission,
)
from lms.users.models import Enrollment, LmsCourse, User
from lti.roles import Role

# --- per item and per module ----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemState:
    item_id: str
    viewed: bool = False
    completed: bool = False
    best_score: int | None = None
    attempts: int = 0
    task_status: str | None = None  # submitted | approved | returned


NOT_STARTED = ItemState("")


@dataclass(frozen=True)
class ModuleProgress:
    module_id: str
    done: int
    total: int
    lessons_done: int
    lessons_total: int
    quiz_passed: bool | None  # None: the module has no self-check
    best_score: int | None
    task_status: str | None
    started: bool
    items: dict[str, ItemState]
    task_review: bool = False  # the module's task waits for a trainer's review once handed in
    kept: bool = False  # completed once (ModuleCompletion): stays complete when the content grows

    @property
    def percent(self) -> int:
        if self.kept:
            return 100
        return self.done * 100 // self.total if self.total else 0

    @property
    def completed(self) -> bool:
        return self.kept or (self.total > 0 and self.done == self.total)

    @property
    def status(self) -> str:
        """not_started | in_progress | completed."""
        if self.completed:
            return "completed"
        return "in_progress" if self.started else "not_started"

    @property
    def awaiting_review(self) -> bool:
        """A handed-in task waits for a trainer (tasks without review are complete when handed in)."""
        return self.task_review and self.task_status == "submitted"

    def item(self, item_id: str) -> ItemState:
        return self.items.get(item_id) or ItemState(item_id)

    def next_item_id(self, module: Module) -> str | None:
        """The first item of `module` that is not done yet."""
        return next((i.id for i in module.items if not self.item(i.id).completed), None)


def item_states(user_id: int, item_ids: Iterable[str]) -> dict[str, ItemState]:
    """The person's state for each of these items that has one (one query)."""
    ids = sorted(set(item_ids))
    if not ids:
        return {}
    rows = db.session.execute(
        select(
            ItemProgress.item_id,
            ItemProgress.first_viewed_at,
            ItemProgress.completed_at,
            ItemProgress.best_score,
            ItemProgress.attempts,
            ItemProgress.task_status,
        ).where(ItemProgress.user_id == user_id, ItemProgress.item_id.in_(ids))
    ).all()
    return {
        r.item_id: ItemState(
            r.item_id,
            viewed=r.first_viewed_at is not None or r.completed_at is not None,
            completed=r.completed_at is not None,
            best_score=r.best_score,
            attempts=r.attempts or 0,
            task_status=r.task_status,
        )
        for r in rows
    }


def _module_progress(module: Module, states: dict[str, ItemState], kept: bool = False) -> ModuleProgress:
    mine = {i.id: states[i.id] for i in module.items if i.id in states}
    lessons = module.lessons
    quiz, task = module.quiz, module.task
    return ModuleProgress(
        module_id=module.id,
        done=sum(1 for i in module.items if i.id in mine and mine[i.id].completed),
        total=len(module.items),
        lessons_done=sum(1 for i in lessons if i.id in mine and mine[i.id].completed),
        lessons_total=len(lessons),
        quiz_passed=None if quiz is None else bool(quiz.id in mine and mine[quiz.id].completed),
        best_score=mine[quiz.id].best_score if quiz is not None and quiz.id in mine else None,
        task_status=mine[task.id].task_status if task is not None and task.id in mine else None,
        started=bool(mine),
        items=mine,
        task_review=bool(task is not None and task.review),
        kept=kept,
    )


def overall_percent(module_percents: Iterable[int]) -> int:
    """The one definition of a volunteer's progress in the whole course: the mean of the served modules'
    completion (each module weighs the same), rounded down to a whole percent. The landing page, the overview
    and the LMS gradebook ("Alle Module") all show this number."""
    percents = list(module_percents)
    return sum(percents) // len(percents) if percents else 0


def course_progress(user_id: int, course: Course | None = None) -> dict[str, ModuleProgress]:
    """Progress in every served module, by module id, in one query."""
    course = course or current_course()
    states = item_states(user_id, (i.id for m in course.modules for i in m.items))
    kept = completed_modules(user_id)
    return {m.id: _module_progress(m, states, m.id in kept) for m in course.modules}


def completed_modules(user_id: int) -> set[str]:
    """Modules the person completed at some time (they stay complete when the content changes)."""
    return set(
        db.session.execute(select(ModuleCompletion.module_id).where(ModuleCompletion.user_id == user_id)).scalars()
    )


def module_progress(user_id: int, module: Module) -> ModuleProgress:
    """Progress in one module (two queries)."""
    return _module_progress(
        module, item_states(user_id, (i.id for i in module.items)), module.id in completed_modules(user_id)
    )


def module_awaiting_review(user_id: int, module_id: str, course: Course | None = None) -> bool:
    """Whether the module's task was handed in and waits for a trainer's decision (one query)."""
    module = (course or current_course()).module(module_id)
    task = module.task if module is not None else None
    if task is None or not task.review:
        return False
    state = item_states(user_id, (task.id,)).get(task.id)
    return state is not None and state.task_status == SUBMITTED and not state.completed


def has_progress(user_id: int) -> bool:
    """Whether the person has done anything at all: opened, answered or handed in an item (one query)."""
    return db.session.execute(select(exists().where(ItemProgress.user_id == user_id))).scalar_one()


def module_completion(user_id: int, module_id: str, course: Course | None = None) -> int:
    """How much of the module the person has done, 0-100 (see the module docstring for what counts).

    0 for a module that is not served. One query. Used by the grade service (AGS).
    """
    module = (course or current_course()).module(module_id)
    if module is None:
        return 0
    return module_progress(user_id, module).percent


# --- qualifications -------------------------------------------------------------------------------


def live_tutorials_attended(user_id: int) -> int:
    """Live tutorials the person attended (as the live-sessions domain counts them)."""
    return attended_tutorials(user_id)


@dataclass(frozen=True)
class QualificationProgress:
    qualification: Qualification
    modules: tuple[tuple[Module, bool], ...]  # served modules of the tier, completed or not
    tutorials_attended: int

    @property
    def modules_done(self) -> int:
        return sum(1 for _m, done in self.modules if done)

    @property
    def tutorials_met(self) -> bool:
        return self.tutorials_attended >= self.qualification.live_tutorials

    @property
    def achieved(self) -> bool:
        return bool(self.modules) and self.modules_done == len(self.modules) and self.tutorials_met


def qualification_progress(
    user_id: int, progress: dict[str, ModuleProgress], course: Course | None = None
) -> list[QualificationProgress]:
    """Each tier with its modules' completion (from `progress`, no query) and attended tutorials."""
    course = course or current_course()
    needs_tutorials = any(q.live_tutorials for q in course.qualifications)
    attended = live_tutorials_attended(user_id) if needs_tutorials else 0
    result = []
    for qualification in course.qualifications:
        modules = tuple(
            (module, progress[module.id].completed if module.id in progress else False)
            for module_id in qualification.modules
            if (module := course.module(module_id)) is not None
        )
        result.append(QualificationProgress(qualification, modules, attended))
    return result


# --- the volunteer's next step ---------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    module: Module
    item: Item | None  # None: everything is done


def next_step(progress: dict[str, ModuleProgress], course: Course | None = None) -> NextStep | None:
    """The first unfinished item: in a started module first, else in the next module in order."""
    course = course or current_course()
    unfinished = [m for m in course.modules if m.id in progress and not progress[m.id].completed]
    started = [m for m in unfinished if progress[m.id].started]
    for module in started or unfinished:
        item_id = progress[module.id].next_item_id(module)
        if item_id is not None:
            return NextStep(module, module.item(item_id))
    return NextStep(course.modules[-1], None) if course.modules else None


@dataclass(frozen=True)
class HomeSummary:
    """What the landing page cards show."""

    role: str
    modules_done: int = 0
    modules_total: int = 0
    percent: int = 0
    next_step: NextStep | None = None
    open_reviews: int = 0
    # practical tasks a trainer gave back with feedback: (module number in the course, module, task)
    returned_tasks: tuple[tuple[int, Module, Item], ...] = ()


def home_summary(launch: LaunchSession) -> HomeSummary:
    """Data for the landing page card of the launch's role (a template global)."""
    role = Role[launch.role.upper()]
    user = launch.user
    if role >= Role.TRAINER:
        return HomeSummary(role.key, open_reviews=open_review_count(user, role))
    course = current_course()
    progress = course_progress(user.id, course)
    done = sum(1 for p in progress.values() if p.completed)
    percent = overall_percent(p.percent for p in progress.values())
    returned = tuple(
        (number, module, module.task)
        for number, module in enumerate(course.modules, start=1)
        if module.task is not None and progress[module.id].task_status == RETURNED
    )
    return HomeSummary(role.key, done, len(progress), percent, next_step(progress, course), returned_tasks=returned)


# --- a volunteer's history for one item -------------------------------------------------------------


@dataclass(frozen=True)
class AttemptSummary:
    created_at: dt.datetime
    score: int
    passed: bool
    module_version: str


def quiz_attempts(user_id: int, item_id: str, limit: int = 5) -> list[AttemptSummary]:
    """The person's latest self-check attempts, newest first."""
    rows = db.session.execute(
        select(QuizAttempt.created_at, QuizAttempt.score, QuizAttempt.passed, QuizAttempt.module_version)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.item_id == item_id)
        .order_by(QuizAttempt.created_at.desc(), QuizAttempt.id.desc())
        .limit(limit)
    ).all()
    return [AttemptSummary(*row) for row in rows]


@dataclass(frozen=True)
class StoredAttempt:
    """One self-check attempt as stored: score, pass and, per question, only whether it was right."""

    id: int
    created_at: dt.datetime
    score: int
    correct_count: int
    question_count: int
    pass_mark: int
    passed: bool
    content_hash: str
    questions: tuple[tuple[str, bool], ...]  # (question id, correct) in the order they were asked


def quiz_attempt(user_id: int, item_id: str, attempt_id: int) -> StoredAttempt | None:
    """One of the person's own attempts at this self-check, or None (two queries)."""
    attempt = db.session.execute(
        select(QuizAttempt).where(
            QuizAttempt.id == attempt_id, QuizAttempt.user_id == user_id, QuizAttempt.item_id == item_id
        )
    ).scalar_one_or_none()
    if attempt is None:
        return None
    return StoredAttempt(
        attempt.id,
        attempt.created_at,
        attempt.score,
        attempt.correct_count,
        attempt.question_count,
        attempt.pass_mark,
        attempt.passed,
        attempt.content_hash,
        tuple((r.question_id, r.correct) for r in attempt.results),
    )


@dataclass(frozen=True)
class SubmissionView:
    id: int
    submitted_at: dt.datetime
    submission_type: str
    link: str | None
    text: str | None
    checked_items: int | None
    review_required: bool
    status: str
    reviewed_at: dt.datetime | None
    comment: str | None
    reviewer_role: str | None


def _submission_view(s: TaskSubmission) -> SubmissionView:
    return SubmissionView(
        s.id,
        s.submitted_at,
        s.submission_type,
        s.link,
        s.text,
        s.checked_items,
        s.review_required,
        s.status,
        s.reviewed_at,
        s.comment,
        s.reviewer_role,
    )


def task_history(user_id: int, item_id: str) -> list[SubmissionView]:
    """All of the person's hand-ins for a task, newest first."""
    rows = db.session.execute(
        select(TaskSubmission)
        .where(TaskSubmission.user_id == user_id, TaskSubmission.item_id == item_id)
        .order_by(TaskSubmission.submitted_at.desc(), TaskSubmission.id.desc())
    ).scalars()
    return [_submission_view(s) for s in rows]


# --- the trainers' review queue ---------------------------------------------------------------------


def _reviewable(reviewer: User, role: Role) -> ColumnElement[bool]:
    """SQL condition: a task submission whose volunteer this reviewer may review.

    Trainers: volunteers enrolled in a course of their own chamber in which the trainer is enrolled as
    trainer or coordinator. Coordinators: every volunteer of their chamber. Nobody crosses chambers.
    """
    volunteer = aliased(User)
    same_chamber = exists().where(volunteer.id == TaskSubmission.user_id, volunteer.chamber_id == reviewer.chamber_id)
    if role >= Role.COORDINATOR:
        return same_chamber
    theirs = aliased(Enrollment)
    mine = aliased(Enrollment)
    shared_course = (
        select(theirs.id)
        .join(mine, mine.course_id == theirs.course_id)
        .join(LmsCourse, LmsCourse.id == theirs.course_id)
        .where(
            theirs.user_id == TaskSubmission.user_id,
            theirs.role == Role.VOLUNTEER.key,
            mine.user_id == reviewer.id,
            mine.role.in_((Role.TRAINER.key, Role.COORDINATOR.key)),
            LmsCourse.chamber_id == reviewer.chamber_id,
        )
        .exists()
    )
    return same_chamber & shared_course


@dataclass(frozen=True)
class ReviewEntry:
    submission: SubmissionView
    user_id: int
    volunteer_name: str | None
    module: Module | None
    item: Item | None
    earlier_returns: int


def _waiting(reviewer: User, role: Role) -> list[ColumnElement[bool]]:
    """SQL conditions: hand-ins waiting for a decision that this reviewer may make."""
    return [
        TaskSubmission.status == SUBMITTED,
        TaskSubmission.review_required.is_(True),
        _reviewable(reviewer, role),
    ]


def review_queue(
    reviewer: User, role: Role, page: int = 1, course: Course | None = None, per_page: int = PER_PAGE
) -> Page[ReviewEntry]:
    """One page of the hand-ins waiting for a decision that this reviewer may make, oldest first (two
    statements: the count and the page, each row with its volunteer's name and earlier returns)."""
    course = course or current_course()
    earlier = aliased(TaskSubmission)
    returned_before = (
        select(func.count(earlier.id))
        .where(
            earlier.user_id == TaskSubmission.user_id,
            earlier.item_id == TaskSubmission.item_id,
            earlier.status == RETURNED,
        )
        .scalar_subquery()
    )
    waiting = (
        select(TaskSubmission, User.name, User.given_name, User.family_name, returned_before)
        .join(User, User.id == TaskSubmission.user_id)
        .where(*_waiting(reviewer, role))
        .order_by(TaskSubmission.submitted_at, TaskSubmission.id)
    )

    def entry(row: Any) -> ReviewEntry:
        submission, name, given, family, returns = row
        found = course.item(submission.item_id)
        display = name or " ".join(p for p in (given, family) if p) or None
        return ReviewEntry(
            _submission_view(submission),
            submission.user_id,
            display,
            found[0] if found else None,
            found[1] if found else None,
            int(returns or 0),
        )

    return paginate(waiting, page, per_page).map(entry)


def open_review_count(reviewer: User, role: Role) -> int:
    """How many hand-ins wait for this reviewer's decision (one query)."""
    return int(db.session.execute(select(func.count(TaskSubmission.id)).where(*_waiting(reviewer, role))).scalar_one())


def reviewable_submission(
    reviewer: User, role: Role, submission_id: int, *, for_update: bool = False
) -> TaskSubmission | None:
    """The hand-in with this id if this reviewer may see it (any status), else None."""
    query = select(TaskSubmission).where(
        TaskSubmission.id == submission_id,
        TaskSubmission.review_required.is_(True),
        _reviewable(reviewer, role),
    )
    if for_update:
        query = query.with_for_update(of=TaskSubmission)
    return db.session.execute(query).scalar_one_or_none()


def submission_history(user_id: int, item_id: str) -> list[SubmissionView]:
    """All hand-ins of a volunteer for one task (for the reviewer), newest first."""
    return task_history(user_id, item_id)
