"""Reads for rosters: the member list and "enrolled but not started"."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, select

from lms.core.extensions import db
from lms.progress.models import ItemProgress
from lms.rosters.models import ACTIVE, RosterMember
from lms.users.models import Course, Enrollment, User


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


def _launched_user_ids(course_id: int) -> dict[str, int]:
    """sub → user id for everyone who launched the tool from this course."""
    course = db.session.get(Course, course_id)
    if course is None:
        return {}
    return {
        sub: uid
        for sub, uid in db.session.execute(
            select(User.sub, User.id)
            .join(Enrollment, and_(Enrollment.user_id == User.id, Enrollment.course_id == course_id))
            .where(User.chamber_id == course.chamber_id, User.issuer == course.issuer)
        ).all()
    }


def members(course_id: int) -> list[MemberRow]:
    launched = _launched_user_ids(course_id)
    rows = db.session.execute(
        select(RosterMember)
        .where(RosterMember.course_id == course_id)
        .order_by(
            RosterMember.status,
            RosterMember.role.desc(),
            RosterMember.family_name,
            RosterMember.name,
            RosterMember.platform_user_id,
        )
    ).scalars()
    return [
        MemberRow(
            m.platform_user_id,
            m.display_name,
            m.email,
            m.role,
            m.status,
            m.status_changed_at,
            m.platform_user_id in launched,
        )
        for m in rows
    ]


def _with_progress(course_id: int) -> set[int]:
    """Ids of the people enrolled in the course who have done anything at all (one grouped query)."""
    enrolled = select(Enrollment.user_id).where(Enrollment.course_id == course_id)
    return set(
        db.session.execute(select(ItemProgress.user_id).where(ItemProgress.user_id.in_(enrolled)).distinct()).scalars()
    )


def members_not_started(course_id: int) -> list[NotStarted]:
    """Active volunteers of the course (per the latest roster sync) who never launched the tool from it, or
    launched it but have no progress yet."""
    launched = _launched_user_ids(course_id)
    rows = db.session.execute(
        select(RosterMember)
        .where(RosterMember.course_id == course_id, RosterMember.status == ACTIVE, RosterMember.role == "volunteer")
        .order_by(RosterMember.family_name, RosterMember.name, RosterMember.platform_user_id)
    ).scalars()
    started = _with_progress(course_id)
    result = []
    for m in rows:
        user_id = launched.get(m.platform_user_id)
        if user_id is not None and user_id in started:
            continue
        result.append(NotStarted(m.platform_user_id, user_id, m.display_name, m.email, user_id is not None))
    return result
