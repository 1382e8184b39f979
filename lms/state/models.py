from __future__ import annotations

import datetime as dt

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.db import UTCDateTime
from lms.extensions import db


class StateEntry(db.Model):  # type: ignore[name-defined]
    __tablename__ = "state_entry"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
