from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db

if TYPE_CHECKING:  # the classes are found by name when the mappers are configured; core imports no domain
    from lms.platforms.models import Platform
    from lms.users.models import LmsCourse, User


class LaunchSession(db.Model):  # type: ignore[name-defined]
    """What one launch established: who, from which course, in which role, where to return to.

    Pages after the launch find it through a signed token in their URL, not through a cookie, because
    browsers increasingly block cookies in the LMS iframe.
    """

    __tablename__ = "launch_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("course.id", ondelete="CASCADE"))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    resource_link_id: Mapped[str | None] = mapped_column(String(255))
    return_url: Mapped[str | None] = mapped_column(String(2048))
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)

    user: Mapped[User] = relationship()
    course: Mapped[LmsCourse | None] = relationship()
    platform: Mapped[Platform] = relationship()
