"""Writes for learning progress. They flush, never commit (the view commits once), and send
``progress_changed`` whenever what ``module_completion`` or the module's status returns may have changed.

What counts as done per item (see ``lms.progress.queries.module_completion``):
a lesson when the volunteer marks it as done; the self-check when an attempt reaches the pass mark; the
practical task when it is handed in, or, if a trainer must approve it, when it is approved.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from lms.core.db import get_or_create, utcnow
from lms.core.errors import DomainError, Invalid
from lms.core.extensions import db
from lms.core.signals import progress_changed
from lms.courses.content import Item, Module, Question
from lms.courses.setup import current_course
from lms.progress.models import (
    APPROVED,
    COMMENT_MAX,
    COMPLETED,
    LINK_MAX,
    QUIZ_ATTEMPTED,
    RETURNED,
    SUBMITTED,
    TASK_APPROVED,
    TASK_RETURNED,
    TASK_SUBMITTED,
    TEXT_MAX,
    VIEWED,
    ItemProgress,
    ModuleCompletion,
    ProgressEvent,
    QuestionResult,
    QuizAttempt,
    QuizDraw,
    TaskSubmission,
)
from lms.progress.queries import module_progress
from lms.progress.scoring import QuizResult, draw_questions, questions_by_id


class ProgressError(DomainError):
    """A progress write that the current state does not allow; `code` names the reason."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class InputError(Invalid):
    """A form value that cannot be accepted; `field` and `code` tell the page what to say."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


@dataclass(frozen=True)
class HandIn:
    """A checked hand-in, ready to store."""

    link: str | None = None
    text: str | None = None
    checked_items: int | None = None


# --- input checks (pure) ----------------------------------------------------------------------------

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str | None) -> str:
    """Text as typed, with Windows line ends unified and control characters (NUL …) removed."""
    text = (value or "").replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", _CONTROL_RE.sub("", text)).strip()


def check_link(value: str | None) -> str:
    """An http(s) link to a web page; raises InputError(field='link')."""
    link = (value or "").strip()
    if not link:
        raise InputError("link", "empty")
    if len(link) > LINK_MAX:
        raise InputError("link", "too_long")
    if any(c.isspace() or unicodedata.category(c).startswith("C") for c in link):
        raise InputError("link", "invalid")
    try:
        parts = urlsplit(link)
        host = parts.hostname
    except ValueError as exc:
        raise InputError("link", "invalid") from exc
    if parts.scheme.lower() not in ("http", "https") or not host or "." not in host.strip("."):
        raise InputError("link", "invalid")
    if parts.username is not None or parts.password is not None:
        raise InputError("link", "invalid")
    return link


def check_text(value: str | None, field: str = "text", maximum: int = TEXT_MAX, *, required: bool = True) -> str:
    """Short text up to `maximum` characters; raises InputError(field=field)."""
    text = clean_text(value)
    if required and not text:
        raise InputError(field, "empty")
    if len(text) > maximum:
        raise InputError(field, "too_long")
    return text


def check_hand_in(item: Item, *, link: str | None = None, text: str | None = None, checked: int = 0) -> HandIn:
    """The hand-in for a task of its submission type; raises InputError."""
    if item.submission == "link":
        return HandIn(link=check_link(link))
    if item.submission == "text":
        return HandIn(text=check_text(text))
    if item.submission == "checklist":
        if checked != len(item.checklist) or not item.checklist:
            raise InputError("checklist", "incomplete")
        return HandIn(checked_items=checked)
    raise ProgressError("unknown_submission")


class _HandInStatus(Protocol):
    @property
    def status(self) -> str: ...

    @property
    def review_required(self) -> bool: ...


def can_hand_in(latest: _HandInStatus | None) -> bool:
    """A task takes a (new) hand-in unless one waits for review or was approved."""
    if latest is None or latest.status == RETURNED:
        return True
    return not latest.review_required


# --- writes -----------------------------------------------------------------------------------------


def _changed(user_id: int, module_id: str) -> None:
    db.session.flush()
    _keep_completion(user_id, module_id)
    progress_changed.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        user_id=user_id,
        module_id=module_id,
    )


def _keep_completion(user_id: int, module_id: str) -> None:
    """The first time a module is complete, remember it: it stays complete when lessons are added later."""
    module = current_course().module(module_id)
    if module is None:
        return
    progress = module_progress(user_id, module)
    if progress.completed and not progress.kept:
        get_or_create(ModuleCompletion, {"module_version": module.version}, user_id=user_id, module_id=module_id)


def _event(user_id: int, kind: str, module: Module, item: Item, **fields: object) -> ProgressEvent:
    event = ProgressEvent(
        user_id=user_id,
        kind=kind,
        module_id=module.id,
        item_id=item.id,
        module_version=module.version,
        created_at=utcnow(),
        **fields,
    )
    db.session.add(event)
    return event


def _find_row(user_id: int, item_id: str) -> ItemProgress | None:
    return db.session.execute(
        select(ItemProgress).where(ItemProgress.user_id == user_id, ItemProgress.item_id == item_id)
    ).scalar_one_or_none()


def _progress_row(user_id: int, module: Module, item: Item) -> ItemProgress:
    """The person's row for the item, created when missing (safe against a parallel first request)."""
    row = _find_row(user_id, item.id)
    if row is None:
        try:
            with db.session.begin_nested():
                row = ItemProgress(user_id=user_id, module_id=module.id, item_id=item.id, kind=item.kind, attempts=0)
                db.session.add(row)
        except IntegrityError:
            row = _find_row(user_id, item.id)
            assert row is not None
    row.module_id = module.id  # an item an author moved to another module follows it
    return row


def record_view(user_id: int, module: Module, item: Item) -> bool:
    """Note that the person opened the item; True the first time (only the first view is an event)."""
    row = _progress_row(user_id, module, item)
    if row.first_viewed_at is not None:
        return False
    row.first_viewed_at = utcnow()
    _event(user_id, VIEWED, module, item)
    db.session.flush()
    return True


def _complete(row: ItemProgress, user_id: int, module: Module, item: Item) -> bool:
    if row.completed_at is not None:
        return False
    now = utcnow()
    row.completed_at = now
    row.first_viewed_at = row.first_viewed_at or now
    _event(user_id, COMPLETED, module, item)
    return True


def complete_lesson(user_id: int, module: Module, item: Item) -> bool:
    """Mark a lesson as done; True when it was not done before."""
    if item.kind != "lesson":
        raise ProgressError("not_a_lesson")
    row = _progress_row(user_id, module, item)
    newly = _complete(row, user_id, module, item)
    if newly:
        _changed(user_id, module.id)
    return newly


def _last_attempt_questions(user_id: int, item_id: str) -> set[str]:
    """The question ids the person's latest attempt at this self-check showed (one query)."""
    latest = (
        select(QuizAttempt.id)
        .where(QuizAttempt.user_id == user_id, QuizAttempt.item_id == item_id)
        .order_by(QuizAttempt.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return set(
        db.session.execute(select(QuestionResult.question_id).where(QuestionResult.attempt_id == latest)).scalars()
    )


def quiz_questions(user_id: int, item: Item) -> tuple[Question, ...]:
    """The questions of the person's current attempt at the self-check `item`: all of them, or for a question
    pool the stored draw. A draw is made (and stored) the first time the attempt is shown, preferring questions
    the last attempt did not show; a reload and the grading use it until the attempt is recorded. A draw whose
    questions the authors have since removed is replaced."""
    if item.kind != "quiz":
        raise ProgressError("not_a_quiz")
    if not item.is_pool:
        return item.questions
    query = select(QuizDraw).where(QuizDraw.user_id == user_id, QuizDraw.item_id == item.id)
    row = db.session.execute(query).scalar_one_or_none()
    if row is not None:
        stored = questions_by_id(item, row.question_ids or ())
        if stored is not None and len(stored) == item.drawn_count:
            return stored
    questions = draw_questions(item, _last_attempt_questions(user_id, item.id))
    ids = [q.id for q in questions]
    if row is None:
        row, created = get_or_create(
            QuizDraw, {"question_ids": ids, "created_at": utcnow()}, user_id=user_id, item_id=item.id
        )
        if not created:  # a parallel request (a second tab) drew first: both show its draw
            return questions_by_id(item, row.question_ids or ()) or questions
    else:
        row.question_ids = ids
        row.created_at = utcnow()
    db.session.flush()
    return questions


def record_quiz_attempt(user_id: int, module: Module, item: Item, result: QuizResult) -> QuizAttempt:
    """Store a scored self-check: score, pass, correctness per question and the module version."""
    if item.kind != "quiz":
        raise ProgressError("not_a_quiz")
    attempt = QuizAttempt(
        user_id=user_id,
        module_id=module.id,
        item_id=item.id,
        module_version=module.version,
        content_hash=item.content_hash,
        score=result.score,
        correct_count=result.correct_count,
        question_count=result.question_count,
        pass_mark=result.pass_mark,
        passed=result.passed,
        created_at=utcnow(),
        results=[
            QuestionResult(question_id=o.question.id, position=n, correct=o.correct)
            for n, o in enumerate(result.outcomes, start=1)
        ],
    )
    db.session.add(attempt)
    # the drawn questions now live on in the attempt's results; the next attempt draws anew
    db.session.execute(delete(QuizDraw).where(QuizDraw.user_id == user_id, QuizDraw.item_id == item.id))
    row = _progress_row(user_id, module, item)
    row.attempts = (row.attempts or 0) + 1
    row.best_score = max(row.best_score or 0, result.score)
    row.first_viewed_at = row.first_viewed_at or attempt.created_at
    db.session.flush()
    _event(user_id, QUIZ_ATTEMPTED, module, item, score=result.score, passed=result.passed, attempt_id=attempt.id)
    if result.passed:
        _complete(row, user_id, module, item)
    _changed(user_id, module.id)
    return attempt


def latest_submission(user_id: int, item_id: str, *, for_update: bool = False) -> TaskSubmission | None:
    """The person's latest hand-in for a task, or None."""
    query = (
        select(TaskSubmission)
        .where(TaskSubmission.user_id == user_id, TaskSubmission.item_id == item_id)
        .order_by(TaskSubmission.submitted_at.desc(), TaskSubmission.id.desc())
        .limit(1)
    )
    if for_update:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one_or_none()


def submit_task(user_id: int, module: Module, item: Item, hand_in: HandIn) -> TaskSubmission:
    """Hand in a practical task (again, after it was returned); the earlier hand-ins stay."""
    if item.kind != "task" or item.submission is None:
        raise ProgressError("not_a_task")
    row = _progress_row(user_id, module, item)
    db.session.flush()
    # lock the person's row for this item: two parallel hand-ins cannot both pass the check below
    db.session.execute(select(ItemProgress.id).where(ItemProgress.id == row.id).with_for_update())
    if not can_hand_in(latest_submission(user_id, item.id)):
        raise ProgressError("not_open")
    now = utcnow()
    submission = TaskSubmission(
        user_id=user_id,
        module_id=module.id,
        item_id=item.id,
        module_version=module.version,
        submission_type=item.submission,
        link=hand_in.link,
        text=hand_in.text,
        checked_items=hand_in.checked_items,
        review_required=item.review,
        status=SUBMITTED,
        submitted_at=now,
    )
    db.session.add(submission)
    row.task_status = SUBMITTED
    row.first_viewed_at = row.first_viewed_at or now
    db.session.flush()
    _event(user_id, TASK_SUBMITTED, module, item, submission_id=submission.id)
    if not item.review:
        _complete(row, user_id, module, item)
    _changed(user_id, module.id)
    return submission


def review_submission(
    submission: TaskSubmission,
    module: Module,
    item: Item,
    *,
    reviewer_id: int,
    reviewer_role: str,
    approve: bool,
    comment: str | None,
) -> None:
    """Approve a hand-in, or return it with a comment so the volunteer can hand in again."""
    if submission.status != SUBMITTED or not submission.review_required:
        raise ProgressError("not_open")
    text = check_text(comment, "comment", COMMENT_MAX, required=not approve)
    now = utcnow()
    submission.status = APPROVED if approve else RETURNED
    submission.reviewer_id = reviewer_id
    submission.reviewer_role = reviewer_role
    submission.reviewed_at = now
    submission.comment = text or None
    user_id = submission.user_id
    row = _progress_row(user_id, module, item)
    if latest_submission(user_id, item.id) is submission:
        row.task_status = submission.status
    _event(
        user_id,
        TASK_APPROVED if approve else TASK_RETURNED,
        module,
        item,
        submission_id=submission.id,
        actor_id=reviewer_id,
    )
    if approve:
        _complete(row, user_id, module, item)
    _changed(user_id, module.id)
