from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db

# queued: waits for the sender job; sending: claimed by a run of the job (stays so if the run died while
# sending: never sent twice); sent; stored: kept instead of sent (demo, tests); failed: cannot be built (a
# line break in a header, a bad address: ``last_error`` says why) or gave up after MAIL_MAX_ATTEMPTS;
# disabled: no SMTP server configured
QUEUED, SENDING, SENT, FAILED = "queued", "sending", "sent", "failed"
MAIL_STATES = (QUEUED, SENDING, SENT, "stored", FAILED, "disabled")


class OutboxMail(db.Model):  # type: ignore[name-defined]
    """One e-mail to one person. ``dedupe_key`` makes a message (e.g. a reminder) go out at most once."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int | None] = mapped_column(ForeignKey("chamber.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40), index=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
