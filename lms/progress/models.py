"""A volunteer's learning progress: per-item state, quiz attempts, task hand-ins and an event log.

Progress belongs to the person (``user_account``), not to a course link or LMS course: re-launching from
another course, or after the tool was re-created in Moodle, keeps it. The tenant is the user's chamber.
Items are referred to by their stable content ids (courses/FORMAT.md), so rewording or reordering keeps
progress. Data minimisation: no chosen quiz answers, no time on page; hand-in text and links are kept
only in ``task_submission`` (for the trainer's review), never in events.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.users.models import User

ID_LENGTH = 200  # content ids (module, item, question)
LINK_MAX = 2048
TEXT_MAX = 2000
COMMENT_MAX = 2000

# ItemProgress.kind / Item.kind
KINDS = ("lesson", "quiz", "task")
# TaskSubmission.status
SUBMITTED, APPROVED, RETURNED = "submitted", "approved", "returned"
STATUSES = (SUBMITTED, APPROVED, RETURNED)
# ProgressEvent.kind
VIEWED = "viewed"
COMPLETED = "completed"
QUIZ_ATTEMPTED = "quiz_attempted"
TASK_SUBMITTED = "task_submitted"
TASK_APPROVED = "task_approved"
TASK_RETURNED = "task_returned"
EVENT_KINDS = (VIEWED, COMPLETED, QUIZ_ATTEMPTED, TASK_SUBMITTED, TASK_APPROVED, TASK_RETURNED)


class ItemProgress(db.Model):  # type: ignore[name-defined]
    """Where one person stands with one item: viewed, completed, best score, current task status.

    The overview reads only this table (one query per page). Completed means: a lesson marked as done, a
    self-check passed once, a task handed in (or, when a trainer must approve it, approved).
    """

    __tablename__ = "item_progress"
    __table_args__ = (
        UniqueConstraint("user_id", "item_id"),
        # the dashboards' grouped reports: per person and module (a chamber reads only its people's entries) and
        # per module (module statistics); covering, so PostgreSQL answers them from the index alone
        Index("ix_item_progress_user_module", "user_id", "module_id", postgresql_include=["item_id", "completed_at"]),
        Index(
            "ix_item_progress_module_user",
            "module_id",
            "user_id",
            postgresql_include=["item_id", "completed_at", "first_viewed_at"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    kind: Mapped[str] = mapped_column(String(10))
    first_viewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    best_score: Mapped[int | None] = mapped_column()  # quiz: best percentage so far
    attempts: Mapped[int] = mapped_column(default=0)  # quiz
    task_status: Mapped[str | None] = mapped_column(String(20))  # task: status of the latest hand-in
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ModuleCompletion(db.Model):  # type: ignore[name-defined]
    """A module the person completed, once, with the content version of that day. A module stays completed
    when lessons are added or cut later (courses/FORMAT.md: authors may revise), and tiers reached stay so."""

    __tablename__ = "module_completion"
    __table_args__ = (UniqueConstraint("user_id", "module_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    module_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    module_version: Mapped[str] = mapped_column(String(40))
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuizAttempt(db.Model):  # type: ignore[name-defined]
    """One submitted self-check: score, pass, and the module version it was taken against."""

    __tablename__ = "quiz_attempt"
    __table_args__ = (
        Index("ix_quiz_attempt_user_item", "user_id", "item_id"),
        Index("ix_quiz_attempt_item_user", "item_id", "user_id", "id"),  # first attempts per self-check
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    module_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    module_version: Mapped[str] = mapped_column(String(40))
    content_hash: Mapped[str] = mapped_column(String(64))
    score: Mapped[int] = mapped_column()  # percent, rounded down
    correct_count: Mapped[int] = mapped_column()
    question_count: Mapped[int] = mapped_column()
    pass_mark: Mapped[int] = mapped_column()
    passed: Mapped[bool] = mapped_column()
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    results: Mapped[list[QuestionResult]] = relationship(
        back_populates="attempt", cascade="all, delete-orphan", order_by="QuestionResult.position"
    )


class QuizDraw(db.Model):  # type: ignore[name-defined]
    """The questions drawn for a person's next attempt at a self-check with a question pool (courses/FORMAT.md:
    ``draw:``). A reload shows the same ones and grading uses them; once the attempt is stored (its
    ``question_result`` rows keep the drawn set) the row goes and the next attempt draws anew."""

    __tablename__ = "quiz_draw"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    question_ids: Mapped[list[str]] = mapped_column(JSON)  # in the order they are shown
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuestionResult(db.Model):  # type: ignore[name-defined]
    """Whether one question of an attempt was answered correctly (never which answers were chosen)."""

    __tablename__ = "question_result"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    position: Mapped[int] = mapped_column()
    correct: Mapped[bool] = mapped_column()

    attempt: Mapped[QuizAttempt] = relationship(back_populates="results")


class TaskSubmission(db.Model):  # type: ignore[name-defined]
    """One hand-in of a practical task. A re-submission is a new row, so the history stays."""

    __tablename__ = "task_submission"
    __table_args__ = (Index("ix_task_submission_user_item", "user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    module_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    module_version: Mapped[str] = mapped_column(String(40))
    submission_type: Mapped[str] = mapped_column(String(20))  # link | text | checklist
    link: Mapped[str | None] = mapped_column(String(LINK_MAX))
    text: Mapped[str | None] = mapped_column(Text)
    checked_items: Mapped[int | None] = mapped_column()  # checklist: how many items were ticked
    review_required: Mapped[bool] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), index=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewer_role: Mapped[str | None] = mapped_column(String(20))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    comment: Mapped[str | None] = mapped_column(Text)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id])


class ProgressEvent(db.Model):  # type: ignore[name-defined]
    """What happened when: views (the first one per item), completions, attempts, hand-ins, reviews."""

    __tablename__ = "progress_event"
    __table_args__ = (Index("ix_progress_event_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    module_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    item_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    module_version: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[int | None] = mapped_column()
    passed: Mapped[bool | None] = mapped_column()
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("quiz_attempt.id", ondelete="CASCADE"))
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("task_submission.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
