"""Reads for the delivery status page: one query, returning dataclasses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from lms.core.extensions import db
from lms.grades.models import ITEM_MODULE, GradeLink, GradeLinkUser, ScoreOutbox
from lms.users.models import User


@dataclass(frozen=True)
class DeliveryStatus:
    """One volunteer on one link: what was queued and how the delivery went."""

    link_id: int
    link_title: str | None
    item_kind: str
    module_id: str | None
    gradable: bool
    user_id: int
    user_name: str | None
    platform_user_id: str
    outbox_id: int | None
    status: str | None  # None: nothing to deliver yet
    score: float | None
    grading_progress: str | None
    attempts: int
    last_attempt_at: dt.datetime | None
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    delivered_score: float | None
    error_code: str | None
    error: str | None
    http_status: int | None

    @property
    def item_label(self) -> str:
        return self.module_id if self.item_kind == ITEM_MODULE and self.module_id else "overview"


def delivery_status(course_id: int) -> list[DeliveryStatus]:
    """Every volunteer who launched a link of the course, per link, with the state of their score."""
    rows = db.session.execute(
        select(GradeLink, GradeLinkUser, User, ScoreOutbox)
        .join(GradeLinkUser, GradeLinkUser.link_id == GradeLink.id)
        .join(User, User.id == GradeLinkUser.user_id)
        .outerjoin(ScoreOutbox, (ScoreOutbox.link_id == GradeLink.id) & (ScoreOutbox.user_id == User.id))
        .where(GradeLink.course_id == course_id)
        .order_by(GradeLink.title, GradeLink.id, User.family_name, User.name, User.id)
    ).all()
    result = []
    for link, member, user, row in rows:
        result.append(
            DeliveryStatus(
                link_id=link.id,
                link_title=link.title,
                item_kind=link.item_kind,
                module_id=link.module_id,
                gradable=link.gradable,
                user_id=user.id,
                user_name=user.display_name,
                platform_user_id=member.platform_user_id,
                outbox_id=row.id if row else None,
                status=row.status if row else None,
                score=row.score_given if row else None,
                grading_progress=row.grading_progress if row else None,
                attempts=row.attempts if row else 0,
                last_attempt_at=row.last_attempt_at if row else None,
                next_attempt_at=row.next_attempt_at if row else None,
                delivered_at=row.delivered_at if row else None,
                delivered_score=row.delivered_score if row else None,
                error_code=row.last_error_code if row else None,
                error=row.last_error if row else None,
                http_status=row.last_http_status if row else None,
            )
        )
    return result


def outbox_row_in_course(outbox_id: int, course_id: int) -> ScoreOutbox | None:
    """The row, only if it belongs to a link of this course (never load by a bare id from a URL)."""
    return db.session.execute(
        select(ScoreOutbox)
        .join(GradeLink, GradeLink.id == ScoreOutbox.link_id)
        .where(ScoreOutbox.id == outbox_id, GradeLink.course_id == course_id)
    ).scalar_one_or_none()
