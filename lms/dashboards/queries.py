"""Reporting queries for the coordinators' dashboards: grouped SQL, never a loop over per-person functions.

Every function takes a :class:`~lms.users.scope.Scope` (whose volunteers may be read) and returns dataclasses.
The number of statements a page runs does not grow with the number of volunteers (tests count them).

Definitions, the same as the volunteer sees them (:mod:`lms.progress.queries`):
- a *volunteer* launched the tool at least once with the learner role from a course;
- a module's completion is the share of its served items that are done; the overall progress is the mean over
  the served modules (:func:`lms.progress.queries.overall_percent`);
- a tier is reached when all its modules are complete and enough live tutorials were attended.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import ColumnElement as Column

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.courses.content import Course, Module, Qualification
from lms.live_sessions.models import SIGNUP_CONFIRMED, SIGNUP_WAITLISTED, Attendance, LiveSession, Signup
from lms.platforms.models import Chamber
from lms.progress.models import (
    COMPLETED,
    QUIZ_ATTEMPTED,
    SUBMITTED,
    TASK_APPROVED,
    TASK_RETURNED,
    TASK_SUBMITTED,
    ItemProgress,
    ModuleCompletion,
    ProgressEvent,
    QuestionResult,
    QuizAttempt,
    TaskSubmission,
)
from lms.rosters.models import ACTIVE, RosterMember
from lms.users.models import Enrollment, LmsCourse, User
from lms.users.scope import Scope

PAGE_SIZE = 50
ACTIVE_DAYS = 30

# a module's state in the matrix
NOT_STARTED, IN_PROGRESS, QUIZ_PASSED, TASK_WAITING, DONE = (
    "not_started",
    "in_progress",
    "quiz_passed",
    "task_waiting",
    "done",
)
MODULE_STATES = (NOT_STARTED, IN_PROGRESS, QUIZ_PASSED, TASK_WAITING, DONE)
SORTS = ("name", "-name", "activity", "-activity", "progress", "-progress")


# --- building blocks ------------------------------------------------------------------------------------------


def volunteer_clause() -> ColumnElement[bool]:
    """People who launched as learners from at least one course (not trainers or coordinators only)."""
    return exists().where(Enrollment.user_id == User.id, Enrollment.role == "volunteer") & (
        User.is_coordinator.is_(False)
    )


def _served_items(course: Course) -> list[str]:
    return [item.id for module in course.modules for item in module.items]


def _among(column: Any, values: Sequence[str]) -> ColumnElement[bool]:
    """``column IN (...)`` with the values written into the SQL (content ids: the same in every request). As
    constants PostgreSQL hashes the list in every plan; as parameters, the generic plan of a prepared statement
    (psycopg prepares after 5 executions) compares each row with every value: 2x slower."""
    return column.in_(bindparam(None, list(values) or [""], expanding=True, literal_execute=True))


def module_done(course: Course, users: Any) -> Any:
    """Per (person, served module) of these people: items done (all, once the module was completed) and the
    completion in percent. The lean form of :func:`module_rows` (one count per item state, the kept completions
    joined per group, not per row) for reports that need only how far people got."""
    totals = {m.id: len(m.items) for m in course.modules}
    counted = (
        select(
            ItemProgress.user_id.label("user_id"),
            ItemProgress.module_id.label("module_id"),
            func.count(ItemProgress.completed_at).label("done"),
        )
        .where(_among(ItemProgress.item_id, _served_items(course)), ItemProgress.user_id.in_(users))
        .group_by(ItemProgress.user_id, ItemProgress.module_id)
        .subquery()
    )
    total = case(*((counted.c.module_id == mid, n) for mid, n in totals.items()), else_=1)
    done = case((ModuleCompletion.id.is_not(None), total), else_=counted.c.done)
    return (
        select(counted.c.user_id, counted.c.module_id, done.label("done"), (done * 100 / total).label("percent"))
        .outerjoin(
            ModuleCompletion,
            and_(ModuleCompletion.user_id == counted.c.user_id, ModuleCompletion.module_id == counted.c.module_id),
        )
        .subquery()
    )


def module_rows(course: Course) -> Select:
    """Per (person, served module): items done, items touched, self-check passed, a hand-in waiting for review,
    and the module's completion in percent. A module completed once counts as done whatever was added to it
    later (ModuleCompletion). One grouped subquery every report builds on."""
    totals = {m.id: len(m.items) for m in course.modules}
    quiz_ids = [m.quiz.id for m in course.modules if m.quiz is not None]
    review_task_ids = [m.task.id for m in course.modules if m.task is not None and m.task.review]
    total = func.max(case(*((ItemProgress.module_id == mid, n) for mid, n in totals.items()), else_=1))
    kept = func.max(case((ModuleCompletion.id.is_not(None), 1), else_=0))
    done = case((kept == 1, total), else_=func.count(ItemProgress.completed_at))
    quiz_passed = func.max(
        case((and_(_among(ItemProgress.item_id, quiz_ids), ItemProgress.completed_at.is_not(None)), 1), else_=0)
    )
    waiting = func.max(
        case(
            (and_(_among(ItemProgress.item_id, review_task_ids), ItemProgress.task_status == SUBMITTED), 1),
            else_=0,
        )
    )
    return (
        select(
            ItemProgress.user_id.label("user_id"),
            ItemProgress.module_id.label("module_id"),
            done.label("done"),
            func.count().label("touched"),
            quiz_passed.label("quiz_passed"),
            waiting.label("task_waiting"),
            (done * 100 / total).label("percent"),
            func.max(ItemProgress.completed_at).label("last_completed"),
            func.min(ItemProgress.first_viewed_at).label("first_viewed"),
        )
        .outerjoin(
            ModuleCompletion,
            and_(
                ModuleCompletion.user_id == ItemProgress.user_id,
                ModuleCompletion.module_id == ItemProgress.module_id,
            ),
        )
        .where(_among(ItemProgress.item_id, _served_items(course)))
        .group_by(ItemProgress.user_id, ItemProgress.module_id)
    )


def _complete_modules(course: Course, module_ids: Sequence[str]) -> Select:
    """user_id, number of these modules complete."""
    rows = module_rows(course).subquery()
    totals = {m.id: len(m.items) for m in course.modules}
    complete = (
        or_(*(and_(rows.c.module_id == mid, rows.c.done >= totals[mid]) for mid in module_ids if mid in totals))
        if module_ids
        else literal(False)
    )
    return select(rows.c.user_id, func.count().label("n")).where(complete).group_by(rows.c.user_id)


def attended_counts() -> Select:
    """user_id, number of (not cancelled) tutorials attended, corrections included."""
    effective = func.coalesce(Attendance.attended_override, Attendance.attended)
    return (
        select(Attendance.user_id.label("user_id"), func.count(func.distinct(Attendance.session_id)).label("n"))
        .join(LiveSession, LiveSession.id == Attendance.session_id)
        .where(effective == true(), LiveSession.cancelled_at.is_(None))
        .group_by(Attendance.user_id)
    )


def tier_modules(course: Course, tier: Qualification) -> list[str]:
    served = {m.id for m in course.modules}
    return [m for m in tier.modules if m in served]


def tier_reached_clause(course: Course, tier: Qualification) -> ColumnElement[bool]:
    """A WHERE clause on User: this tier is reached."""
    modules = tier_modules(course, tier)
    if not modules:
        return literal(False)
    complete = _complete_modules(course, modules).subquery()
    clause: ColumnElement[bool] = User.id.in_(select(complete.c.user_id).where(complete.c.n >= len(modules)))
    if tier.live_tutorials:
        attended = attended_counts().subquery()
        clause = clause & User.id.in_(select(attended.c.user_id).where(attended.c.n >= tier.live_tutorials))
    return clause


def module_state_clause(course: Course, module_id: str, state: str) -> ColumnElement[bool]:
    """A WHERE clause on User: the person's state in this module."""
    module = course.module(module_id)
    if module is None or state not in MODULE_STATES:
        return true()
    rows = module_rows(course).where(ItemProgress.module_id == module_id).subquery()
    total = len(module.items)
    if state == NOT_STARTED:
        return ~User.id.in_(select(rows.c.user_id))
    condition = {
        DONE: rows.c.done >= total,
        TASK_WAITING: and_(rows.c.done < total, rows.c.task_waiting == 1),
        QUIZ_PASSED: and_(rows.c.done < total, rows.c.task_waiting == 0, rows.c.quiz_passed == 1),
        IN_PROGRESS: and_(rows.c.done < total, rows.c.task_waiting == 0, rows.c.quiz_passed == 0),
    }[state]
    return User.id.in_(select(rows.c.user_id).where(condition))


def cell_state(module: Module, done: int, touched: int, quiz_passed: bool, task_waiting: bool) -> str:
    if touched == 0:
        return NOT_STARTED
    if done >= len(module.items):
        return DONE
    if task_waiting:
        return TASK_WAITING
    if quiz_passed:
        return QUIZ_PASSED
    return IN_PROGRESS


# --- filters ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the matrix (and its export) shows; parsed from the query string by the view."""

    chamber_id: int | None = None
    course_id: int | None = None
    tier: str | None = None  # a tier id, or "none": no tier reached
    module_id: str | None = None
    module_state: str | None = None
    inactive_days: int | None = None
    search: str | None = None
    sort: str = "name"
    page: int = 1

    def args(self) -> dict[str, str]:
        """The query string of these filters (without the page), for links and exports."""
        values = {
            "chamber": self.chamber_id,
            "course": self.course_id,
            "tier": self.tier,
            "module": self.module_id,
            "state": self.module_state,
            "inactive": self.inactive_days,
            "q": self.search,
            "sort": None if self.sort == "name" else self.sort,
        }
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def volunteers_query(scope: Scope, course: Course, filters: Filters, now: dt.datetime | None = None) -> Select:
    """The volunteers the filters select, in the scope (the statement; callers add columns, paging, counting)."""
    now = now or utcnow()
    scope = scope.narrowed_to(filters.chamber_id)
    where: list[ColumnElement[bool]] = [scope.users_clause(), volunteer_clause()]
    if filters.course_id is not None:
        where.append(User.id.in_(select(Enrollment.user_id).where(Enrollment.course_id == filters.course_id)))
    if filters.inactive_days is not None:
        limit = now - dt.timedelta(days=filters.inactive_days)
        where.append(or_(User.last_launch_at.is_(None), User.last_launch_at < limit))
    if filters.search:
        pattern = "%" + filters.search.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        where.append(
            or_(
                func.lower(func.coalesce(User.name, "")).like(pattern),
                func.lower(func.coalesce(User.given_name, "") + " " + func.coalesce(User.family_name, "")).like(
                    pattern
                ),
            )
        )
    if filters.tier:
        tiers = {q.id: q for q in course.qualifications}
        if filters.tier == "none":
            for tier in course.qualifications:
                where.append(~tier_reached_clause(course, tier))
        elif filters.tier in tiers:
            where.append(tier_reached_clause(course, tiers[filters.tier]))
    if filters.module_id and filters.module_state:
        where.append(module_state_clause(course, filters.module_id, filters.module_state))
    return select(User.id).where(*where)


# --- the matrix -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    module_id: str
    state: str
    percent: int


@dataclass(frozen=True)
class MatrixRow:
    user_id: int
    name: str | None
    chamber: str
    last_activity: dt.datetime | None
    percent: int
    cells: tuple[Cell, ...]
    tiers: tuple[str, ...]  # titles of the tiers reached
    attended: int


@dataclass(frozen=True)
class Matrix:
    modules: tuple[Module, ...]
    rows: list[MatrixRow]
    total: int
    page: int
    pages: int


def _progress_sort(course: Course, ids: Any) -> Any:
    rows = module_done(course, select(ids.c.id))
    per_user = (
        select(rows.c.user_id, (func.sum(rows.c.percent) / max(1, len(course.modules))).label("overall"))
        .group_by(rows.c.user_id)
        .subquery()
    )
    return per_user


def matrix(scope: Scope, course: Course, filters: Filters) -> Matrix:
    """One page of volunteers × modules. Statements: count, page, cells, attendance (4)."""
    ids = volunteers_query(scope, course, filters).subquery()
    total = int(db.session.execute(select(func.count()).select_from(ids)).scalar_one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    name_key = func.lower(func.coalesce(User.family_name, User.name, User.given_name, ""))
    query = select(User, Chamber.name).join(Chamber, Chamber.id == User.chamber_id)
    orders: dict[str, list[Any]] = {
        "name": [name_key.asc(), User.id.asc()],
        "-name": [name_key.desc(), User.id.desc()],
        "activity": [User.last_launch_at.desc().nulls_last(), User.id.asc()],
        "-activity": [User.last_launch_at.asc().nulls_first(), User.id.asc()],
    }
    if filters.sort in ("progress", "-progress"):  # the grouped progress only when sorting by it
        overall = _progress_sort(course, ids)
        query = query.outerjoin(overall, overall.c.user_id == User.id)
        progress = func.coalesce(overall.c.overall, 0)
        orders["progress"] = [progress.desc(), name_key.asc(), User.id.asc()]
        orders["-progress"] = [progress.asc(), name_key.asc(), User.id.asc()]
    order = orders.get(filters.sort, orders["name"])
    people = db.session.execute(
        query.where(User.id.in_(select(ids.c.id))).order_by(*order).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    ).all()
    user_ids = [u.id for u, _c in people]
    cells, attended = _cells_and_attendance(course, user_ids)
    rows = [
        _matrix_row(course, user, chamber, cells.get(user.id, {}), attended.get(user.id, 0)) for user, chamber in people
    ]
    return Matrix(tuple(course.modules), rows, total, page, pages)


def _cells_and_attendance(course: Course, user_ids: Sequence[int]) -> tuple[dict[int, dict[str, Any]], dict[int, int]]:
    if not user_ids:
        return {}, {}
    rows = module_rows(course).where(ItemProgress.user_id.in_(user_ids))
    cells: dict[int, dict[str, Any]] = defaultdict(dict)
    for r in db.session.execute(rows).all():
        cells[r.user_id][r.module_id] = r
    counts = attended_counts().where(Attendance.user_id.in_(user_ids))
    attended = {r.user_id: int(r.n) for r in db.session.execute(counts).all()}
    return cells, attended


def _matrix_row(course: Course, user: User, chamber: str, mine: dict[str, Any], attended: int) -> MatrixRow:
    cells = []
    for module in course.modules:
        r = mine.get(module.id)
        if r is None:
            cells.append(Cell(module.id, NOT_STARTED, 0))
            continue
        percent = min(100, int(r.done) * 100 // max(1, len(module.items)))
        state = cell_state(module, int(r.done), int(r.touched), bool(r.quiz_passed), bool(r.task_waiting))
        cells.append(Cell(module.id, state, percent))
    complete = {c.module_id for c in cells if c.state == DONE}
    tiers = tuple(
        q.title
        for q in course.qualifications
        if (mods := tier_modules(course, q)) and set(mods) <= complete and attended >= q.live_tutorials
    )
    overall = sum(c.percent for c in cells) // len(cells) if cells else 0
    return MatrixRow(user.id, user.display_name, chamber, user.last_launch_at, overall, tuple(cells), tiers, attended)


def export_rows(scope: Scope, course: Course, filters: Filters, batch: int = 500) -> Iterator[MatrixRow]:
    """Every row the filters select, in the matrix's order, fetched in batches (flat memory for any size)."""
    ids = volunteers_query(scope, course, filters).subquery()
    name_key = func.lower(func.coalesce(User.family_name, User.name, User.given_name, ""))
    result = db.session.execute(
        select(User, Chamber.name)
        .join(Chamber, Chamber.id == User.chamber_id)
        .where(User.id.in_(select(ids.c.id)))
        .order_by(name_key, User.id)
        .execution_options(yield_per=batch)
    )
    for chunk in result.partitions(batch):
        people = [(u, c) for u, c in chunk]
        cells, attended = _cells_and_attendance(course, [u.id for u, _c in people])
        for user, chamber in people:
            yield _matrix_row(course, user, chamber, cells.get(user.id, {}), attended.get(user.id, 0))
        for user, _chamber in people:  # not expunge_all(): that kills the identity map the result still fills
            db.session.expunge(user)


# --- the overview ------------------------------------------------------------------------------------------------


@dataclass
class ChamberFigures:
    chamber_id: int | None
    name: str
    volunteers: int = 0
    active: int = 0
    started: int = 0  # did at least one item
    tiers: dict[str, int] = field(default_factory=dict)
    modules_completed: int = 0
    reviews_waiting: int = 0
    upcoming_tutorials: int = 0
    free_places: int | None = 0  # None: at least one tutorial without a limit


@dataclass(frozen=True)
class Overview:
    chambers: list[ChamberFigures]  # one per chamber in the scope (the central team sees several)
    total: ChamberFigures


def _per_volunteer(scope: Scope, course: Course) -> Any:
    """One row per volunteer of the scope who touched a served item: modules complete, in all and per tier.
    The scope is pushed into the grouped item states, so a chamber reads only its own people's rows."""
    in_scope = select(User.id).where(scope.users_clause(), volunteer_clause())
    rows = module_done(course, in_scope)
    totals = {m.id: len(m.items) for m in course.modules}
    complete = (
        or_(*(and_(rows.c.module_id == mid, rows.c.done >= n) for mid, n in totals.items()))
        if totals
        else literal(False)
    )
    columns = [rows.c.user_id, func.sum(case((complete, 1), else_=0)).label("complete")]
    for i, tier in enumerate(course.qualifications):
        mods = tier_modules(course, tier) or [""]
        columns.append(func.sum(case((and_(complete, rows.c.module_id.in_(mods)), 1), else_=0)).label(f"tier_{i}"))
    return select(*columns).group_by(rows.c.user_id).subquery()


def overview(scope: Scope, course: Course, now: dt.datetime | None = None) -> Overview:
    """Figures per chamber in the scope, and their sum. Statements: chambers, people, tiers and completed modules
    (1), reviews (1), tutorials (1)."""
    now = now or utcnow()
    volunteers = and_(scope.users_clause(), volunteer_clause())
    active = case((User.last_launch_at >= now - dt.timedelta(days=ACTIVE_DAYS), 1), else_=0)
    chamber_where = [] if scope.chamber_ids is None else [Chamber.id.in_(scope.chamber_ids)]
    figures: dict[int, ChamberFigures] = {}
    per = _per_volunteer(scope, course)
    attended = attended_counts().subquery()
    tier_columns = []
    for i, tier in enumerate(course.qualifications):
        mods = tier_modules(course, tier)
        reached = (
            and_(per.c[f"tier_{i}"] >= len(mods), func.coalesce(attended.c.n, 0) >= tier.live_tutorials)
            if mods
            else literal(False)
        )
        tier_columns.append(func.coalesce(func.sum(case((reached, 1), else_=0)), 0))
    for chamber_id, name, count, active_count, started_count, complete, *tiers in db.session.execute(
        select(
            Chamber.id,
            Chamber.name,
            func.count(User.id),
            func.coalesce(func.sum(active), 0),
            func.count(per.c.user_id),
            func.coalesce(func.sum(per.c.complete), 0),
            *tier_columns,
        )
        .select_from(Chamber)
        .outerjoin(User, and_(User.chamber_id == Chamber.id, volunteers))
        .outerjoin(per, per.c.user_id == User.id)
        .outerjoin(attended, attended.c.user_id == User.id)
        .where(*chamber_where)
        .group_by(Chamber.id, Chamber.name)
        .order_by(Chamber.name)
    ).all():
        figures[chamber_id] = ChamberFigures(
            chamber_id,
            name,
            int(count),
            int(active_count),
            int(started_count),
            {tier.id: int(n) for tier, n in zip(course.qualifications, tiers, strict=True) if n},
            int(complete),
        )
    for chamber_id, n in db.session.execute(
        select(User.chamber_id, func.count())
        .select_from(TaskSubmission)
        .join(User, User.id == TaskSubmission.user_id)
        .where(scope.users_clause(), TaskSubmission.status == SUBMITTED, TaskSubmission.review_required.is_(True))
        .group_by(User.chamber_id)
    ).all():
        if chamber_id in figures:
            figures[chamber_id].reviews_waiting = int(n)
    confirmed = (
        select(func.count())
        .where(Signup.session_id == LiveSession.id, Signup.status == SIGNUP_CONFIRMED)
        .correlate(LiveSession)
        .scalar_subquery()
    )
    tutorial_where = [LiveSession.starts_at > now, LiveSession.cancelled_at.is_(None)]
    if scope.chamber_ids is not None:
        tutorial_where.append(LiveSession.chamber_id.in_(scope.chamber_ids))
    if scope.course_ids is not None:
        tutorial_where.append(or_(LiveSession.course_id.in_(scope.course_ids), LiveSession.audience == "chamber"))
    for chamber_id, capacity, taken in db.session.execute(
        select(LiveSession.chamber_id, LiveSession.capacity, confirmed).where(*tutorial_where)
    ).all():
        f = figures.get(chamber_id)
        if f is None:
            continue
        f.upcoming_tutorials += 1
        if capacity is None or f.free_places is None:
            f.free_places = None
        else:
            f.free_places += max(0, capacity - int(taken))
    chambers = list(figures.values())
    total = ChamberFigures(None, "")
    for f in chambers:
        total.volunteers += f.volunteers
        total.active += f.active
        total.started += f.started
        total.modules_completed += f.modules_completed
        total.reviews_waiting += f.reviews_waiting
        total.upcoming_tutorials += f.upcoming_tutorials
        total.free_places = (
            None if (f.free_places is None or total.free_places is None) else (total.free_places + f.free_places)
        )
        for tier_id, n in f.tiers.items():
            total.tiers[tier_id] = total.tiers.get(tier_id, 0) + n
    return Overview(chambers, total)


# --- one volunteer ---------------------------------------------------------------------------------------------


def volunteer_in_scope(scope: Scope, user_id: int) -> User | None:
    """The volunteer, if the scope may see them (else None: the view answers 404)."""
    return db.session.execute(
        select(User).where(User.id == user_id, scope.users_clause(), volunteer_clause())
    ).scalar_one_or_none()


# --- module statistics ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionFigure:
    question_id: str
    title: str
    first_tries: int
    first_try_correct: int

    @property
    def share(self) -> int:
        return self.first_try_correct * 100 // self.first_tries if self.first_tries else 0


@dataclass(frozen=True)
class ModuleStatistics:
    module: Module
    started: int
    funnel: list[tuple[str, int]]  # item title, people who completed it
    questions: list[QuestionFigure]  # hardest first
    median_days: float | None  # first view to completion, for those who completed the module
    completed: int


def module_statistics(scope: Scope, course: Course, module: Module) -> ModuleStatistics:
    """Funnel per item, questions by first-try correctness, median time to complete. Four statements."""
    volunteers = select(User.id).where(scope.users_clause(), volunteer_clause())
    served = [i.id for i in module.items]
    done = and_(_among(ItemProgress.item_id, served), ItemProgress.completed_at.is_not(None))
    flags = [
        func.max(case((and_(ItemProgress.item_id == item_id, ItemProgress.completed_at.is_not(None)), 1), else_=0))
        for item_id in served
    ]
    per_user = (  # one row per person who opened something of the module
        select(
            ItemProgress.user_id.label("user_id"),
            func.min(case((_among(ItemProgress.item_id, served), ItemProgress.first_viewed_at))).label("first"),
            func.max(case((done, ItemProgress.completed_at))).label("last"),
            func.sum(case((done, 1), else_=0)).label("done"),
            *(flag.label(f"i{n}") for n, flag in enumerate(flags)),
        )
        .where(ItemProgress.module_id == module.id, ItemProgress.user_id.in_(volunteers))
        .group_by(ItemProgress.user_id)
        .subquery()
    )
    started, *per_item = db.session.execute(
        select(func.count(), *(func.coalesce(func.sum(per_user.c[f"i{n}"]), 0) for n in range(len(served))))
    ).one()
    started = int(started)
    done_per_item = {item_id: int(n) for item_id, n in zip(served, per_item, strict=True)}
    funnel = [(item.title, int(done_per_item.get(item.id, 0))) for item in module.items]
    questions: list[QuestionFigure] = []
    if module.quiz is not None:
        # a person's first try at a question: the first of their attempts that showed it (with a question pool
        # that need not be their first attempt; results are stored in the order of the attempts)
        first = (
            select(func.min(QuestionResult.id).label("id"))
            .join(QuizAttempt, QuizAttempt.id == QuestionResult.attempt_id)
            .where(QuizAttempt.item_id == module.quiz.id, QuizAttempt.user_id.in_(volunteers))
            .group_by(QuizAttempt.user_id, QuestionResult.question_id)
            .subquery()
        )
        correct = func.sum(case((QuestionResult.correct.is_(True), 1), else_=0))
        figures = {
            qid: (int(n), int(c or 0))
            for qid, n, c in db.session.execute(
                select(QuestionResult.question_id, func.count(), correct)
                .where(QuestionResult.id.in_(select(first.c.id)))
                .group_by(QuestionResult.question_id)
            ).all()
        }
        titles = {q.id: q.title or q.id for q in module.quiz.questions}
        questions = sorted(
            (QuestionFigure(qid, titles.get(qid, qid), n, c) for qid, (n, c) in figures.items() if qid in titles),
            key=lambda f: (f.share, f.question_id),
        )
    total = len(module.items)
    durations = [
        (last - first_seen).total_seconds() / 86400
        for first_seen, last in db.session.execute(
            select(per_user.c.first, per_user.c.last).where(per_user.c.done >= total)
        ).all()
        if first_seen is not None and last is not None
    ]
    median = round(statistics.median(durations), 1) if durations else None
    return ModuleStatistics(module, started, funnel, questions, median, len(durations))


# --- live tutorials ---------------------------------------------------------------------------------------------


@dataclass
class MonthFigures:
    month: str  # YYYY-MM
    sessions: int = 0
    signed_up: int = 0
    attended: int = 0
    no_shows: int = 0
    waitlisted: int = 0

    @property
    def attendance_rate(self) -> int:
        return self.attended * 100 // self.signed_up if self.signed_up else 0


def live_statistics(scope: Scope, now: dt.datetime | None = None, months: int = 12) -> list[MonthFigures]:
    """Per month (of the tutorials' start): sign-ups, attendance, no-shows, waitlist. Two statements."""
    now = now or utcnow()
    since = now - dt.timedelta(days=31 * months)
    where = [LiveSession.starts_at >= since, LiveSession.cancelled_at.is_(None)]
    if scope.chamber_ids is not None:
        where.append(LiveSession.chamber_id.in_(scope.chamber_ids))
    if scope.course_ids is not None:
        where.append(or_(LiveSession.course_id.in_(scope.course_ids), LiveSession.audience == "chamber"))
    sessions = {
        sid: starts
        for sid, starts in db.session.execute(select(LiveSession.id, LiveSession.starts_at).where(*where)).all()
    }
    result: dict[str, MonthFigures] = {}
    for starts in sessions.values():
        month = f"{starts:%Y-%m}"
        result.setdefault(month, MonthFigures(month)).sessions += 1
    if not sessions:
        return []
    effective = func.coalesce(Attendance.attended_override, Attendance.attended)
    attended = (
        select(Attendance.id)
        .where(Attendance.session_id == Signup.session_id, Attendance.user_id == Signup.user_id, effective == true())
        .exists()
    )
    for session_id, status, was_there in db.session.execute(
        select(Signup.session_id, Signup.status, attended).where(
            Signup.session_id.in_(list(sessions)), Signup.status.in_((SIGNUP_CONFIRMED, SIGNUP_WAITLISTED))
        )
    ).all():
        f = result[f"{sessions[session_id]:%Y-%m}"]
        if status == SIGNUP_WAITLISTED:
            f.waitlisted += 1
            continue
        f.signed_up += 1
        if was_there:
            f.attended += 1
        elif sessions[session_id] < now:
            f.no_shows += 1
    return [result[m] for m in sorted(result)]


# --- not started ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotStartedRow:
    name: str | None
    course: str
    since: dt.datetime


@dataclass(frozen=True)
class NotStartedPage:
    rows: list[NotStartedRow]
    total: int
    page: int
    pages: int
    synced_courses: int


def not_started(scope: Scope, page: int = 1) -> NotStartedPage:
    """Learners the LMS rosters list (latest sync) who never launched the tool. Three statements."""
    course_where: list[ColumnElement[bool]] = []
    if scope.chamber_ids is not None:
        course_where.append(LmsCourse.chamber_id.in_(scope.chamber_ids))
    if scope.course_ids is not None:
        course_where.append(LmsCourse.id.in_(scope.course_ids))
    where = [
        *course_where,
        RosterMember.status == ACTIVE,
        RosterMember.role == "volunteer",
        RosterMember.user_id.is_(None),
    ]
    base = select(RosterMember, LmsCourse).join(LmsCourse, LmsCourse.id == RosterMember.course_id).where(*where)
    total = int(db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = [
        NotStartedRow(m.display_name, c.title or c.label or c.context_id, m.first_seen_at)
        for m, c in db.session.execute(
            base.order_by(LmsCourse.title, RosterMember.family_name, RosterMember.name, RosterMember.id)
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).all()
    ]
    synced = int(
        db.session.execute(
            select(func.count(func.distinct(RosterMember.course_id)))
            .join(LmsCourse, LmsCourse.id == RosterMember.course_id)
            .where(*course_where)
        ).scalar_one()
    )
    return NotStartedPage(rows, total, page, pages, synced)


# --- charts ------------------------------------------------------------------------------------------------------


def completions_per_week(
    scope: Scope, course: Course, weeks: int = 12, now: dt.datetime | None = None
) -> list[tuple[str, int]]:
    """Items completed per calendar week (ISO week, oldest first), the last ``weeks`` weeks. One statement."""
    now = now or utcnow()
    start = (now - dt.timedelta(weeks=weeks - 1)).date()
    start = start - dt.timedelta(days=start.weekday())
    since = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    day = func.date(ItemProgress.completed_at)
    counts: dict[dt.date, int] = defaultdict(int)
    for value, n in db.session.execute(
        select(day, func.count())
        .join(User, User.id == ItemProgress.user_id)
        .where(scope.users_clause(), volunteer_clause(), ItemProgress.completed_at >= since)
        .group_by(day)
    ).all():
        date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
        counts[date - dt.timedelta(days=date.weekday())] += int(n)
    result = []
    for i in range(weeks):
        monday = start + dt.timedelta(weeks=i)
        _year, week, _ = monday.isocalendar()
        result.append((f"KW {week:02d}", counts.get(monday, 0)))
    return result


def courses_in_scope(scope: Scope) -> list[tuple[int, str]]:
    """The LMS courses a filter may choose (id, title)."""
    where: list[Column[bool]] = []
    if scope.chamber_ids is not None:
        where.append(LmsCourse.chamber_id.in_(scope.chamber_ids))
    if scope.course_ids is not None:
        where.append(LmsCourse.id.in_(scope.course_ids))
    return [
        (cid, title or label or context)
        for cid, title, label, context in db.session.execute(
            select(LmsCourse.id, LmsCourse.title, LmsCourse.label, LmsCourse.context_id)
            .where(*where)
            .order_by(LmsCourse.title, LmsCourse.id)
        ).all()
    ]


def chambers_in_scope(scope: Scope) -> list[tuple[int, str]]:
    where = [] if scope.chamber_ids is None else [Chamber.id.in_(scope.chamber_ids)]
    return [
        (cid, name)
        for cid, name in db.session.execute(select(Chamber.id, Chamber.name).where(*where).order_by(Chamber.name)).all()
    ]


# --- one volunteer's timeline -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str  # completed | quiz | task_submitted | task_approved | task_returned | signup | attended | missed
    module_id: str | None = None
    item_id: str | None = None
    score: int | None = None
    passed: bool | None = None
    title: str | None = None  # a tutorial's title


def timeline(user_id: int, limit: int = 200) -> list[TimelineEntry]:
    """What the person did, newest first: completions, self-check attempts, hand-ins and reviews, tutorial
    sign-ups and attendance. Two statements."""
    kinds = {
        COMPLETED: "completed",
        QUIZ_ATTEMPTED: "quiz",
        TASK_SUBMITTED: "task_submitted",
        TASK_APPROVED: "task_approved",
        TASK_RETURNED: "task_returned",
    }
    entries = [
        TimelineEntry(e.created_at, kinds[e.kind], e.module_id, e.item_id, e.score, e.passed)
        for e in db.session.execute(
            select(ProgressEvent)
            .where(ProgressEvent.user_id == user_id, ProgressEvent.kind.in_(list(kinds)))
            .order_by(ProgressEvent.created_at.desc(), ProgressEvent.id.desc())
            .limit(limit)
        ).scalars()
    ]
    effective = func.coalesce(Attendance.attended_override, Attendance.attended)
    for live, signed_up_at, has_attendance, was_there in db.session.execute(
        select(LiveSession, Signup.created_at, Attendance.id.is_not(None), effective)
        .outerjoin(Signup, and_(Signup.session_id == LiveSession.id, Signup.user_id == user_id))
        .outerjoin(Attendance, and_(Attendance.session_id == LiveSession.id, Attendance.user_id == user_id))
        .where(or_(Signup.id.is_not(None), Attendance.id.is_not(None)))
    ).all():
        if signed_up_at is not None:
            entries.append(TimelineEntry(signed_up_at, "signup", title=live.title))
        if has_attendance and live.cancelled_at is None:
            entries.append(TimelineEntry(live.starts_at, "attended" if was_there else "missed", title=live.title))
    return sorted(entries, key=lambda e: e.at, reverse=True)[:limit]
