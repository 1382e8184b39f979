"""Live tutorials on BigBlueButton: sessions (optionally a weekly series), sign-ups with a waitlist,
attendance with a correction trail, recordings, and per-user live settings (pseudonym, calendar feed).

Every row is reachable through its chamber: ``LiveSession.chamber_id``; the other tables hang off a session
or a user (who belongs to a chamber).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.users.models import LmsCourse, User

AUDIENCES = ("course", "chamber")
SIGNUP_CONFIRMED = "confirmed"
SIGNUP_WAITLISTED = "waitlisted"
SIGNUP_WITHDRAWN = "withdrawn"
RECORDING_STATES = ("processing", "unpublished", "published", "deleted")


class TutorialSeries(db.Model):  # type: ignore[name-defined]
    """A weekly series: sessions planned together (each session can still be edited or cancelled alone)."""

    __tablename__ = "live_series"

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chamber.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    weeks: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


live_session_co_trainer = db.Table(
    "live_session_co_trainer",
    db.Column("session_id", ForeignKey("live_session.id", ondelete="CASCADE"), primary_key=True),
    db.Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class LiveSession(db.Model):  # type: ignore[name-defined]
    """One tutorial in a BigBlueButton room.

    ``starts_at`` is the UTC instant; ``timezone`` is the zone it was planned in (weekly series keep the
    local wall time across DST, and calendars get a TZID). ``meeting_id`` is the stable BBB meeting ID;
    ``meeting_create_time`` is BBB's createTime of the running meeting (joins must carry it).
    """

    __tablename__ = "live_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chamber.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="SET NULL"), index=True)
    series_id: Mapped[int | None] = mapped_column(ForeignKey("live_series.id", ondelete="SET NULL"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    module_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    timezone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int | None] = mapped_column(Integer)  # None: no limit
    signup_deadline: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    audience: Mapped[str] = mapped_column(String(20), default="course")
    # room options
    record: Mapped[bool] = mapped_column(Boolean, default=False)
    mute_on_start: Mapped[bool] = mapped_column(Boolean, default=True)
    wait_for_moderator: Mapped[bool] = mapped_column(Boolean, default=True)
    lock_cam: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_mic: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_private_chat: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_public_chat: Mapped[bool] = mapped_column(Boolean, default=False)
    welcome: Mapped[str] = mapped_column(Text, default="")
    early_entry_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # state
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ics_sequence: Mapped[int] = mapped_column(Integer, default=0)
    meeting_id: Mapped[str] = mapped_column(String(64), unique=True)
    callback_token: Mapped[str] = mapped_column(String(64), unique=True)
    meeting_create_time: Mapped[int | None] = mapped_column(BigInteger)
    meeting_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    meeting_ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[LmsCourse | None] = relationship()
    created_by: Mapped[User | None] = relationship()
    co_trainers: Mapped[list[User]] = relationship(secondary=live_session_co_trainer, order_by="User.id")

    @property
    def cancelled(self) -> bool:
        return self.cancelled_at is not None

    @property
    def ends_at(self) -> dt.datetime:
        return self.starts_at + dt.timedelta(minutes=self.duration_minutes)

    @property
    def opens_at(self) -> dt.datetime:
        return self.starts_at - dt.timedelta(minutes=self.early_entry_minutes)

    @property
    def uid(self) -> str:
        return f"{self.meeting_id}@medienwerk"


class Signup(db.Model):  # type: ignore[name-defined]
    """A volunteer's place (confirmed or on the waitlist) in a session. Withdrawn rows stay for the record."""

    __tablename__ = "live_signup"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # waitlist order: when the person (re)joined the list
    queued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    promoted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    session: Mapped[LiveSession] = relationship()
    user: Mapped[User] = relationship()


class Attendance(db.Model):  # type: ignore[name-defined]
    """Who was in the room and for how long. ``intervals`` is a list of ``{"from", "to", "open"}`` (ISO UTC);
    ``attended`` is computed from ``minutes``; ``attended_override`` is a trainer's correction."""

    __tablename__ = "live_attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), default="VIEWER")
    intervals: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    minutes: Mapped[int] = mapped_column(Integer, default=0)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    attended_override: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(20), default="poll")  # poll | analytics | manual
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()

    @property
    def effective_attended(self) -> bool:
        return self.attended if self.attended_override is None else self.attended_override


class AttendanceCorrection(db.Model):  # type: ignore[name-defined]
    """Audit trail of manual attendance corrections: who, when, old, new, why."""

    __tablename__ = "live_attendance_correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    attendance_id: Mapped[int] = mapped_column(ForeignKey("live_attendance.id", ondelete="CASCADE"), index=True)
    corrected_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    corrected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    old_value: Mapped[bool] = mapped_column(Boolean)
    new_value: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)

    corrected_by: Mapped[User | None] = relationship()


class Recording(db.Model):  # type: ignore[name-defined]
    """A BBB recording of a session. Unpublished until a trainer publishes it; deleted after the
    retention period."""

    __tablename__ = "live_recording"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_session.id", ondelete="CASCADE"), index=True)
    record_id: Mapped[str] = mapped_column(String(300), unique=True)
    state: Mapped[str] = mapped_column(String(20), default="processing")
    playback_url: Mapped[str | None] = mapped_column(String(2048))
    length_minutes: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delete_after: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)


class LiveProfile(db.Model):  # type: ignore[name-defined]
    """Per-user live settings: the pseudonymous BBB userID, the calendar feed token, reminder choice."""

    __tablename__ = "live_profile"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)
    feed_token: Mapped[str] = mapped_column(String(64), unique=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
