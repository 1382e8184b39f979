"""What grade delivery keeps: per resource link its AGS endpoint and the item it shows, per (user, link) the
platform's user id, and per (user, link) one outbox row holding the latest score to deliver."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.platforms.models import Platform
from lms.users.models import LmsCourse, User
from lti.ags import SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_SCORE

# what a link shows
ITEM_OVERVIEW = "overview"
ITEM_MODULE = "module"

# outbox states
PENDING = "pending"  # to deliver (at next_attempt_at)
SENDING = "sending"  # claimed by a worker until claimed_until
DELIVERED = "delivered"
FAILED = "failed"  # refused by the platform, or retries used up: a person looks at it (resend)
STATUSES = (PENDING, SENDING, DELIVERED, FAILED)


class GradeLink(db.Model):  # type: ignore[name-defined]
    """A resource link (an activity in the LMS course) and where its grades go, as of its latest launch."""

    __tablename__ = "grade_link"
    __table_args__ = (UniqueConstraint("platform_id", "resource_link_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[str] = mapped_column(String(255))
    resource_link_id: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    item_kind: Mapped[str] = mapped_column(String(20), default=ITEM_OVERVIEW)
    module_id: Mapped[str | None] = mapped_column(String(100), index=True)
    # the AGS claim of the latest launch
    lineitems_url: Mapped[str | None] = mapped_column(String(2048))
    lineitem_url: Mapped[str | None] = mapped_column(String(2048))
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # a line item found or created by resourceLinkId and tag when the launch named none
    found_lineitem_url: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    platform: Mapped[Platform] = relationship()
    course: Mapped[LmsCourse | None] = relationship()

    @property
    def tag(self) -> str:
        """The line item tag for what the link shows."""
        return f"medienwerk:{self.module_id}" if self.item_kind == ITEM_MODULE and self.module_id else "medienwerk"

    @property
    def target_lineitem_url(self) -> str | None:
        return self.lineitem_url or self.found_lineitem_url

    @property
    def gradable(self) -> bool:
        """Scores can be sent: the score scope, and a line item or a way to find or create one."""
        scopes = set(self.scopes or ())
        if SCOPE_SCORE not in scopes:
            return False
        if self.target_lineitem_url:
            return True
        return bool(self.lineitems_url) and bool(scopes & {SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY})


class GradeLinkUser(db.Model):  # type: ignore[name-defined]
    """A volunteer who launched a link, with the platform's id for them (the score's ``userId``)."""

    __tablename__ = "grade_link_user"
    __table_args__ = (UniqueConstraint("link_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("grade_link.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    platform_user_id: Mapped[str] = mapped_column(String(255))
    first_launch_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_launch_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    link: Mapped[GradeLink] = relationship()
    user: Mapped[User] = relationship()


class ScoreOutbox(db.Model):  # type: ignore[name-defined]
    """The latest score of a volunteer for a link, and how its delivery goes.

    One row per (link, user): a new score replaces the values of the row (latest wins) and bumps ``version``,
    so a delivery that was in flight with older values does not mark the newer ones delivered.
    """

    __tablename__ = "score_outbox"
    __table_args__ = (
        UniqueConstraint("link_id", "user_id"),
        Index("ix_score_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("grade_link.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    platform_user_id: Mapped[str] = mapped_column(String(255))
    score_given: Mapped[float] = mapped_column()
    score_maximum: Mapped[float] = mapped_column(default=100.0)
    activity_progress: Mapped[str] = mapped_column(String(20))
    grading_progress: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(String(500))
    scored_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)  # when the progress changed
    version: Mapped[int] = mapped_column(default=1)
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error_code: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_http_status: Mapped[int | None] = mapped_column()
    # what the platform has: the latest delivered score and the timestamp it was sent with
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_score: Mapped[float | None] = mapped_column()
    delivered_version: Mapped[int | None] = mapped_column()
    sent_timestamp: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    link: Mapped[GradeLink] = relationship()
    user: Mapped[User] = relationship()
