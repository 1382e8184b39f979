"""Reads for the delivery status page: a summary per delivery state, then the rows a page at a time.

However many volunteers launched the course's links, the page asks four statements: the course's links, the
counts per (link, state), and the count and rows of one page (``lms.core.paging``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, select

from lms.core.extensions import db
from lms.core.paging import PER_PAGE, Page, paginate
from lms.grades.models import DELIVERED, FAILED, ITEM_MODULE, PENDING, SENDING, GradeLink, GradeLinkUser, ScoreOutbox
from lms.users.models import User

# what the page shows per row, and filters by (``?status=``): the outbox states, plus two for rows without one
NOTHING = "nothing"  # a gradable link, but nothing to deliver yet
NOT_GRADABLE = "not_gradable"  # the link's launch granted no score service: whatever the outbox says
STATES = (FAILED, PENDING, SENDING, DELIVERED, NOTHING, NOT_GRADABLE)


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

    @property
    def state(self) -> str:
        """The row's entry in ``STATES``."""
        if not self.gradable:
            return NOT_GRADABLE
        return self.status or NOTHING


@dataclass(frozen=True)
class DeliverySummary:
    """How many (volunteer, link) rows of the course are in each state."""

    counts: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def count(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def states(self) -> list[tuple[str, int]]:
        """The states that occur, in the order of ``STATES``."""
        return [(state, self.counts[state]) for state in STATES if self.counts.get(state)]


@dataclass(frozen=True)
class DeliveryOverview:
    summary: DeliverySummary
    rows: Page[DeliveryStatus]
    state: str | None  # the filter: a state of ``STATES``, or None for every row


def _links(course_id: int) -> dict[int, GradeLink]:
    """The course's links (one per activity in the LMS course: a handful)."""
    links = db.session.execute(select(GradeLink).where(GradeLink.course_id == course_id)).scalars()
    return {link.id: link for link in links}


def _of_links(links: Mapping[int, GradeLink]) -> ColumnElement[bool]:
    """Rows of these links only: a link launched for the first time while the page is read is left out of both
    the summary and the rows (each statement sees what was committed when it started)."""
    return GradeLink.id.in_(list(links)) if links else false()


def _summary(course_id: int, links: Mapping[int, GradeLink]) -> DeliverySummary:
    rows = db.session.execute(
        select(GradeLinkUser.link_id, ScoreOutbox.status, func.count())
        .select_from(GradeLinkUser)
        .join(GradeLink, GradeLink.id == GradeLinkUser.link_id)
        .outerjoin(
            ScoreOutbox,
            and_(ScoreOutbox.link_id == GradeLinkUser.link_id, ScoreOutbox.user_id == GradeLinkUser.user_id),
        )
        .where(GradeLink.course_id == course_id, _of_links(links))
        .group_by(GradeLinkUser.link_id, ScoreOutbox.status)
    ).all()
    counts: dict[str, int] = {}
    for link_id, status, count in rows:
        state = (status or NOTHING) if links[link_id].gradable else NOT_GRADABLE
        counts[state] = counts.get(state, 0) + int(count)
    return DeliverySummary(counts)


def _in_state(state: str, links: Mapping[int, GradeLink]) -> ColumnElement[bool]:
    gradable = [i for i, link in links.items() if link.gradable]
    if state == NOT_GRADABLE:
        return GradeLink.id.not_in(gradable) if gradable else GradeLink.id.is_not(None)
    if not gradable:
        return false()
    if state == NOTHING:
        return and_(GradeLink.id.in_(gradable), ScoreOutbox.id.is_(None))
    return and_(GradeLink.id.in_(gradable), ScoreOutbox.status == state)


def _rows_query(course_id: int, where: list[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    return (
        select(
            GradeLinkUser.link_id,
            GradeLinkUser.platform_user_id,
            User.id.label("user_id"),
            User.name,
            User.given_name,
            User.family_name,
            ScoreOutbox.id.label("outbox_id"),
            ScoreOutbox.status,
            ScoreOutbox.score_given,
            ScoreOutbox.grading_progress,
            ScoreOutbox.attempts,
            ScoreOutbox.last_attempt_at,
            ScoreOutbox.next_attempt_at,
            ScoreOutbox.delivered_at,
            ScoreOutbox.delivered_score,
            ScoreOutbox.last_error_code,
            ScoreOutbox.last_error,
            ScoreOutbox.last_http_status,
        )
        .select_from(GradeLinkUser)
        .join(GradeLink, GradeLink.id == GradeLinkUser.link_id)
        .join(User, User.id == GradeLinkUser.user_id)
        .outerjoin(ScoreOutbox, and_(ScoreOutbox.link_id == GradeLink.id, ScoreOutbox.user_id == User.id))
        .where(GradeLink.course_id == course_id, *where)
        .order_by(GradeLink.title, GradeLink.id, User.family_name, User.name, User.id)
    )


def _display_name(name: str | None, given_name: str | None, family_name: str | None) -> str | None:
    """As ``User.display_name``, from the selected columns."""
    if name:
        return name
    return " ".join(p for p in (given_name, family_name) if p) or None


def _row(link: GradeLink, row: Any) -> DeliveryStatus:
    return DeliveryStatus(
        link_id=link.id,
        link_title=link.title,
        item_kind=link.item_kind,
        module_id=link.module_id,
        gradable=link.gradable,
        user_id=row.user_id,
        user_name=_display_name(row.name, row.given_name, row.family_name),
        platform_user_id=row.platform_user_id,
        outbox_id=row.outbox_id,
        status=row.status,
        score=row.score_given,
        grading_progress=row.grading_progress,
        attempts=row.attempts or 0,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at,
        delivered_at=row.delivered_at,
        delivered_score=row.delivered_score,
        error_code=row.last_error_code,
        error=row.last_error,
        http_status=row.last_http_status,
    )


def delivery_overview(
    course_id: int, page: int, state: str | None = None, per_page: int = PER_PAGE
) -> DeliveryOverview:
    """The summary of the course's deliveries and one page of its rows (by activity, then family name), only
    those in `state` when it is one of ``STATES``. Four statements."""
    state = state if state in STATES else None
    links = _links(course_id)
    summary = _summary(course_id, links)
    where = [_of_links(links)] + ([_in_state(state, links)] if state is not None else [])
    rows = paginate(_rows_query(course_id, where), page, per_page)
    return DeliveryOverview(summary, rows.map(lambda row: _row(links[row.link_id], row)), state)


def outbox_row_in_course(outbox_id: int, course_id: int) -> ScoreOutbox | None:
    """The row, only if it belongs to a link of this course (never load by a bare id from a URL)."""
    return db.session.execute(
        select(ScoreOutbox)
        .join(GradeLink, GradeLink.id == ScoreOutbox.link_id)
        .where(ScoreOutbox.id == outbox_id, GradeLink.course_id == course_id)
    ).scalar_one_or_none()
