from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.platforms.models import Chamber

ROLES = ("volunteer", "trainer", "coordinator")


class User(db.Model):  # type: ignore[name-defined]
    """A person in a chamber, keyed by (chamber, issuer, sub): re-creating the tool in the chamber's Moodle keeps
    their progress, and the same LMS account launching through two chambers is two people (CONTRACT: Tenancy),
    so a launch through one chamber never moves or reveals the other's data or role grants.

    Names and e-mail are stored only when the platform sends them, and replaced by what the latest launch
    sent (so a privacy setting switched on in Moodle removes them here at the next launch).
    """

    __tablename__ = "user_account"
    __table_args__ = (UniqueConstraint("chamber_id", "issuer", "sub"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chamber.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    sub: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    given_name: Mapped[str | None] = mapped_column(String(255))
    family_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    locale: Mapped[str | None] = mapped_column(String(20))
    is_coordinator: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    chamber: Mapped[Chamber] = relationship()

    @property
    def display_name(self) -> str | None:
        if self.name:
            return self.name
        joined = " ".join(p for p in (self.given_name, self.family_name) if p)
        return joined or None


class LmsCourse(db.Model):  # type: ignore[name-defined]
    """An LMS course (LTI context) in a chamber, keyed by (chamber, issuer, context id)."""

    __tablename__ = "course"
    __table_args__ = (UniqueConstraint("chamber_id", "issuer", "context_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chamber.id"), index=True)
    issuer: Mapped[str] = mapped_column(String(255))
    context_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    label: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    chamber: Mapped[Chamber] = relationship()


class Enrollment(db.Model):  # type: ignore[name-defined]
    """A user's role in a course, as of their latest launch from it."""

    __tablename__ = "enrollment"
    __table_args__ = (UniqueConstraint("user_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
    course: Mapped[LmsCourse] = relationship()
