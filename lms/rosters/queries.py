"""Reads for rosters: the member list and "enrolled but not started", paged (``lms.core.paging``).

Each list is one statement for its rows plus one for its count, however long the roster: whether a member
launched the tool and whether they have progress are joined in, not asked per member.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, select
from sqlalchemy.sql.selectable import Subquery

from lms.core.extensions import db
from lms.core.paging import PER_PAGE, Page, paginate
from lms.progress.models import ItemProgress
from lms.rosters.models import ACTIVE, RosterMember
from lms.users.models import Enrollment, LmsCourse, User


@dataclass(frozen=True)
class MemberRow:
    platform_user_id: str
    name: str | None
    email: str | None
    role: str
    status: str
    status_changed_at: dt.datetime
    launched: bool


@dataclass(frozen=True)
class NotStarted:
    platform_user_id: str
    user_id: int | None
    name: str | None
    email: str | None
    launched: bool  # launched the tool from this course, but has no progress yet


def _launched(course: LmsCourse) -> Subquery:
    """sub → user id of everyone who launched the tool from this course (the course's chamber and issuer)."""
    return (
        select(User.sub.label("sub"), User.id.label("user_id"))
        .join(Enrollment, and_(Enrollment.user_id == User.id, Enrollment.course_id == course.id))
        .where(User.chamber_id == course.chamber_id, User.issuer == course.issuer)
        .subquery("launched")
    )


def _display_name(name: str | None, given_name: str | None, family_name: str | None) -> str | None:
    """As ``RosterMember.display_name``, from the selected columns."""
    if name:
        return name
    return " ".join(p for p in (given_name, family_name) if p) or None


def _members_query(course: LmsCourse) -> Select[*tuple[Any, ...]]:
    launched = _launched(course)
    return (
        select(
            RosterMember.platform_user_id,
            RosterMember.name,
            RosterMember.given_name,
            RosterMember.family_name,
            RosterMember.email,
            RosterMember.role,
            RosterMember.status,
            RosterMember.status_changed_at,
            launched.c.user_id,
        )
        .outerjoin(launched, launched.c.sub == RosterMember.platform_user_id)
        .where(RosterMember.course_id == course.id)
        .order_by(
            RosterMember.status,
            RosterMember.role.desc(),
            RosterMember.family_name,
            RosterMember.name,
            RosterMember.platform_user_id,
        )
    )


def _member_row(row: Any) -> MemberRow:
    return MemberRow(
        row.platform_user_id,
        _display_name(row.name, row.given_name, row.family_name),
        row.email,
        row.role,
        row.status,
        row.status_changed_at,
        row.user_id is not None,
    )


def members_page(course: LmsCourse, page: int, per_page: int = PER_PAGE) -> Page[MemberRow]:
    """One page of the course's members as of the latest sync: active first, trainers before volunteers, by
    family name (two statements)."""
    return paginate(_members_query(course), page, per_page).map(_member_row)


def _not_started_query(course: LmsCourse) -> Select[*tuple[Any, ...]]:
    """Active volunteers of the course who never launched the tool from it, or launched it but have no progress
    yet: the person's progress (``item_progress``) is checked in the same statement."""
    launched = _launched(course)
    started = exists().where(ItemProgress.user_id == launched.c.user_id)  # never true without a launch
    return (
        select(
            RosterMember.platform_user_id,
            launched.c.user_id,
            RosterMember.name,
            RosterMember.given_name,
            RosterMember.family_name,
            RosterMember.email,
        )
        .outerjoin(launched, launched.c.sub == RosterMember.platform_user_id)
        .where(
            RosterMember.course_id == course.id,
            RosterMember.status == ACTIVE,
            RosterMember.role == "volunteer",
            ~started,
        )
        .order_by(RosterMember.family_name, RosterMember.name, RosterMember.platform_user_id)
    )


def _not_started_row(row: Any) -> NotStarted:
    return NotStarted(
        row.platform_user_id,
        row.user_id,
        _display_name(row.name, row.given_name, row.family_name),
        row.email,
        row.user_id is not None,
    )


def not_started_page(course: LmsCourse, page: int, per_page: int = PER_PAGE) -> Page[NotStarted]:
    """One page of "enrolled but not started" (two statements)."""
    return paginate(_not_started_query(course), page, per_page).map(_not_started_row)


def members_not_started(course: LmsCourse) -> list[NotStarted]:
    """Everyone "enrolled but not started" (one statement); for exports and checks, not for pages."""
    return [_not_started_row(row) for row in db.session.execute(_not_started_query(course))]
