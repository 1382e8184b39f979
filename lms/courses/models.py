"""The values each chamber fills in for its lessons (lms/courses/variables.py): contacts and links."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db

NAME_LENGTH = 60
VALUE_LENGTH = 1000


class ChamberValue(db.Model):  # type: ignore[name-defined]
    """One filled-in value of a chamber (a value emptied again is deleted). Who changed it is in the audit log."""

    __tablename__ = "chamber_value"
    __table_args__ = (UniqueConstraint("chamber_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int] = mapped_column(ForeignKey("chamber.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    value: Mapped[str] = mapped_column(String(VALUE_LENGTH))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
