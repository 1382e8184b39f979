"""Reads for live tutorials, returning dataclasses. Every query takes the tenant (chamber) or the user."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, true

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.live_sessions.models import (
    SIGNUP_CONFIRMED,
    SIGNUP_WAITLISTED,
    Attendance,
    AttendanceCorrection,
    LiveProfile,
    LiveSession,
    Recording,
    Signup,
    live_session_co_trainer,
)
from lms.users.models import Enrollment, User


@dataclass(frozen=True)
class SessionCard:
    session: LiveSession
    confirmed: int
    waitlisted: int
    my_status: str | None  # confirmed | waitlisted | withdrawn | None

    @property
    def full(self) -> bool:
        return self.session.capacity is not None and self.confirmed >= self.session.capacity

    @property
    def free(self) -> int | None:
        return None if self.session.capacity is None else max(0, self.session.capacity - self.confirmed)


@dataclass(frozen=True)
class SignupRow:
    user: User
    status: str
    queued_at: dt.datetime
    promoted_at: dt.datetime | None


@dataclass(frozen=True)
class AttendanceRow:
    user: User
    pseudonym: str | None
    signup_status: str | None
    role: str
    minutes: int
    computed: bool
    override: bool | None
    attended: bool
    intervals: list[dict[str, object]]
    corrections: list[AttendanceCorrection]

    @property
    def moderator(self) -> bool:
        """In the room as moderator (trainer, co-trainer): listed as moderation, never as absent."""
        return self.role == "MODERATOR"


def _counts():
    return (
        select(
            Signup.session_id,
            func.sum(case((Signup.status == SIGNUP_CONFIRMED, 1), else_=0)).label("confirmed"),
            func.sum(case((Signup.status == SIGNUP_WAITLISTED, 1), else_=0)).label("waitlisted"),
        )
        .group_by(Signup.session_id)
        .subquery()
    )


def _cards(stmt, user_id: int | None) -> list[SessionCard]:
    counts = _counts()
    mine = select(Signup.session_id, Signup.status).where(Signup.user_id == (user_id or -1)).subquery()
    rows = db.session.execute(
        stmt.add_columns(counts.c.confirmed, counts.c.waitlisted, mine.c.status)
        .outerjoin(counts, counts.c.session_id == LiveSession.id)
        .outerjoin(mine, mine.c.session_id == LiveSession.id)
        .order_by(LiveSession.starts_at, LiveSession.id)
    )
    return [SessionCard(s, int(c or 0), int(w or 0), status) for s, c, w, status in rows]


def visible_clause(chamber_id: int, course_id: int | None):
    """Sessions a volunteer of this chamber, launched from this course, may see."""
    audience = LiveSession.audience == "chamber"
    if course_id is not None:
        audience = or_(audience, and_(LiveSession.audience == "course", LiveSession.course_id == course_id))
    return and_(LiveSession.chamber_id == chamber_id, audience)


def upcoming_for_volunteer(
    user_id: int, chamber_id: int, course_id: int | None, now: dt.datetime | None = None
) -> list[SessionCard]:
    now = now or utcnow()
    stmt = select(LiveSession).where(
        visible_clause(chamber_id, course_id),
        LiveSession.starts_at >= now - dt.timedelta(hours=8),
    )
    cards = _cards(stmt, user_id)
    # still running or upcoming; cancelled ones only for those who had signed up
    return [c for c in cards if c.session.ends_at > now and (not c.session.cancelled or c.my_status)]


def managed_clause(user: User, *, coordinator: bool) -> ColumnElement[bool]:
    """Sessions this trainer (or coordinator) may manage: edit, cancel, see sign-ups and attendance, export,
    handle recordings and join as moderator. Coordinators: every session of their chamber. Trainers, like for
    hand-ins: sessions of a course in which they are enrolled as trainer or coordinator, and those they created
    or co-host. Nobody crosses chambers."""
    same_chamber = LiveSession.chamber_id == user.chamber_id
    if coordinator:
        return same_chamber
    own_courses = select(Enrollment.course_id).where(
        Enrollment.user_id == user.id, Enrollment.role.in_(("trainer", "coordinator"))
    )
    co_hosted = exists().where(
        live_session_co_trainer.c.session_id == LiveSession.id, live_session_co_trainer.c.user_id == user.id
    )
    return and_(
        same_chamber,
        or_(LiveSession.created_by_id == user.id, co_hosted, LiveSession.course_id.in_(own_courses)),
    )


def sessions_for_trainer(
    user: User, *, coordinator: bool, past: bool = False, now: dt.datetime | None = None
) -> list[SessionCard]:
    now = now or utcnow()
    limit = now - dt.timedelta(hours=8)
    stmt = select(LiveSession).where(managed_clause(user, coordinator=coordinator))
    stmt = stmt.where(LiveSession.starts_at < limit) if past else stmt.where(LiveSession.starts_at >= limit)
    cards = _cards(stmt, user.id)
    if past:
        return list(reversed(cards))[:100]
    return [c for c in cards if c.session.ends_at > now]


def linkable_sessions(chamber_id: int, course_id: int | None, now: dt.datetime | None = None) -> list[LiveSession]:
    """Upcoming, not cancelled sessions that the volunteers of this course may see: what a trainer can put
    into the course as a link (deep linking)."""
    now = now or utcnow()
    rows = db.session.execute(
        select(LiveSession)
        .where(visible_clause(chamber_id, course_id), LiveSession.starts_at >= now - dt.timedelta(hours=8))
        .order_by(LiveSession.starts_at, LiveSession.id)
    ).scalars()
    return [live for live in rows if not live.cancelled and live.ends_at > now]


def managed_session(session_id: int, user: User, *, coordinator: bool) -> LiveSession | None:
    return db.session.execute(
        select(LiveSession).where(LiveSession.id == session_id, managed_clause(user, coordinator=coordinator))
    ).scalar_one_or_none()


def visible_session(session_id: int, chamber_id: int, course_id: int | None) -> LiveSession | None:
    return db.session.execute(
        select(LiveSession).where(LiveSession.id == session_id, visible_clause(chamber_id, course_id))
    ).scalar_one_or_none()


def card_for(live: LiveSession, user_id: int) -> SessionCard:
    cards = _cards(select(LiveSession).where(LiveSession.id == live.id), user_id)
    return cards[0]


def signups(live: LiveSession) -> list[SignupRow]:
    rows = db.session.execute(
        select(Signup, User)
        .join(User, User.id == Signup.user_id)
        .where(Signup.session_id == live.id, Signup.status.in_((SIGNUP_CONFIRMED, SIGNUP_WAITLISTED)))
        .order_by(Signup.status, Signup.queued_at, Signup.id)
    )
    return [SignupRow(u, s.status, s.queued_at, s.promoted_at) for s, u in rows]


def chamber_trainers(chamber_id: int, exclude_user_id: int | None = None) -> list[User]:
    """People who launched with the trainer (or coordinator) role from a course of this chamber."""
    stmt = (
        select(User)
        .join(Enrollment, Enrollment.user_id == User.id)
        .where(User.chamber_id == chamber_id, Enrollment.role.in_(("trainer", "coordinator")))
        .distinct()
        .order_by(User.id)
    )
    return [u for u in db.session.execute(stmt).scalars() if u.id != exclude_user_id]


def attendance_rows(live: LiveSession) -> list[AttendanceRow]:
    """Everyone signed up plus everyone seen in the room, with minutes, computed and corrected status."""
    signup_status = {
        uid: status
        for uid, status in db.session.execute(select(Signup.user_id, Signup.status).where(Signup.session_id == live.id))
    }
    attendance = {
        a.user_id: a for a in db.session.execute(select(Attendance).where(Attendance.session_id == live.id)).scalars()
    }
    corrections: dict[int, list[AttendanceCorrection]] = {}
    if attendance:
        for corr in db.session.execute(
            select(AttendanceCorrection)
            .where(AttendanceCorrection.attendance_id.in_([a.id for a in attendance.values()]))
            .order_by(AttendanceCorrection.corrected_at, AttendanceCorrection.id)
        ).scalars():
            corrections.setdefault(corr.attendance_id, []).append(corr)
    ids = {uid for uid, status in signup_status.items() if status == SIGNUP_CONFIRMED} | set(attendance)
    if not ids:
        return []
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(ids))).scalars()}
    pseudonyms = {
        uid: p
        for uid, p in db.session.execute(
            select(LiveProfile.user_id, LiveProfile.pseudonym).where(LiveProfile.user_id.in_(ids))
        )
    }
    rows = []
    for uid in sorted(ids, key=lambda i: ((users[i].display_name or "~").lower(), i)):
        att = attendance.get(uid)
        rows.append(
            AttendanceRow(
                user=users[uid],
                pseudonym=pseudonyms.get(uid),
                signup_status=signup_status.get(uid),
                role=att.role if att else "VIEWER",
                minutes=att.minutes if att else 0,
                computed=att.attended if att else False,
                override=att.attended_override if att else None,
                attended=att.effective_attended if att else False,
                intervals=list(att.intervals or []) if att else [],
                corrections=corrections.get(att.id, []) if att else [],
            )
        )
    return rows


def recordings(live: LiveSession, *, published_only: bool) -> list[Recording]:
    stmt = select(Recording).where(Recording.session_id == live.id, Recording.state != "deleted")
    if published_only:
        stmt = stmt.where(Recording.state == "published")
    return list(db.session.execute(stmt.order_by(Recording.created_at, Recording.id)).scalars())


def recording_of(live: LiveSession, recording_id: int) -> Recording | None:
    return db.session.execute(
        select(Recording).where(Recording.id == recording_id, Recording.session_id == live.id)
    ).scalar_one_or_none()


def feed_sessions(user_id: int, now: dt.datetime | None = None) -> list[LiveSession]:
    """The sessions in a person's calendar feed: confirmed sign-ups from 30 days back on."""
    now = now or utcnow()
    return list(
        db.session.execute(
            select(LiveSession)
            .join(Signup, Signup.session_id == LiveSession.id)
            .where(
                Signup.user_id == user_id,
                Signup.status == SIGNUP_CONFIRMED,
                LiveSession.starts_at >= now - dt.timedelta(days=30),
            )
            .order_by(LiveSession.starts_at)
        ).scalars()
    )


def session_by_id(session_id: int) -> LiveSession | None:
    """A session by its id, without a tenant: only for routes that check a signature of it first."""
    return db.session.get(LiveSession, session_id)


def session_by_callback_token(token: str) -> LiveSession | None:
    if not token or len(token) > 64:
        return None
    return db.session.execute(select(LiveSession).where(LiveSession.callback_token == token)).scalar_one_or_none()


def profile_by_feed_token(token: str) -> LiveProfile | None:
    if not token or len(token) > 64:
        return None
    return db.session.execute(select(LiveProfile).where(LiveProfile.feed_token == token)).scalar_one_or_none()


def running_sessions(now: dt.datetime | None = None) -> list[LiveSession]:
    """Sessions whose meeting was created and not seen ending, within their time window (for polling)."""
    now = now or utcnow()
    candidates = db.session.execute(
        select(LiveSession).where(
            LiveSession.meeting_create_time.is_not(None),
            LiveSession.meeting_ended_at.is_(None),
            LiveSession.starts_at <= now + dt.timedelta(hours=3),
            LiveSession.starts_at >= now - dt.timedelta(hours=12),
        )
    ).scalars()
    return list(candidates)


def attended_tutorials(user_id: int) -> int:
    """How many (not cancelled) tutorials the person attended, corrections included. For the qualification
    tier "Digitale*r Botschafter*in" (one attended tutorial)."""
    effective = func.coalesce(Attendance.attended_override, Attendance.attended)
    return int(
        db.session.execute(
            select(func.count(func.distinct(Attendance.session_id)))
            .join(LiveSession, LiveSession.id == Attendance.session_id)
            .where(Attendance.user_id == user_id, effective == true(), LiveSession.cancelled_at.is_(None))
        ).scalar_one()
    )
