"""Course rosters from NRPS: where to read them, and the members as of the latest sync."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.platforms.models import Platform
from lms.users.models import LmsCourse, User

ACTIVE = "Active"
INACTIVE = "Inactive"
DELETED = "Deleted"  # the platform says so, or the member is no longer in the membership list


class RosterSource(db.Model):  # type: ignore[name-defined]
    """A course's NRPS membership URL (from the latest launch carrying it) and how the last sync went."""

    __tablename__ = "roster_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), unique=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    memberships_url: Mapped[str] = mapped_column(String(2048))
    last_synced_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    member_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course: Mapped[LmsCourse] = relationship()
    platform: Mapped[Platform] = relationship()


class RosterMember(db.Model):  # type: ignore[name-defined]
    """A member of a course as the platform lists them. Name and e-mail only when the platform sent them."""

    __tablename__ = "roster_member"
    __table_args__ = (UniqueConstraint("course_id", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    platform_user_id: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    role: Mapped[str] = mapped_column(String(20))  # volunteer | trainer | coordinator (lti.roles.map_role)
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE)
    name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320))
    first_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    course: Mapped[LmsCourse] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def display_name(self) -> str | None:
        if self.name:
            return self.name
        joined = " ".join(p for p in (self.given_name, self.family_name) if p)
        return joined or None
