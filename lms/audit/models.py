"""The audit log's table. Entries are only ever added; the one change allowed is redaction when a person's data
is deleted (Art. 17 DSGVO), which removes who the entry was about and keeps that something happened."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.core.db import UTCDateTime, utcnow
from lms.core.extensions import db
from lms.platforms.models import Chamber
from lms.users.models import User


class AuditEntry(db.Model):  # type: ignore[name-defined]
    """One action of a coordinator, trainer or operator that touches people's data or rights.

    ``actor_id`` is empty for the operator's command line (``actor_label`` says "Betrieb (Kommandozeile)");
    ``subject_id`` is the person the action was about, if any. ``detail`` holds ids and counts, never names,
    e-mails or free text about people.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_chamber_created", "chamber_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chamber_id: Mapped[int | None] = mapped_column(ForeignKey("chamber.id", ondelete="CASCADE"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    actor_role: Mapped[str] = mapped_column(String(20))  # coordinator | trainer | operator
    action: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    redacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    chamber: Mapped[Chamber | None] = relationship()
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    subject: Mapped[User | None] = relationship(foreign_keys=[subject_id])


class AppendOnlyError(RuntimeError):
    """An audit entry was changed or deleted other than by redaction: a bug, never a user error."""


@event.listens_for(AuditEntry, "before_delete")
def _no_delete(mapper: Any, connection: Any, target: AuditEntry) -> None:
    raise AppendOnlyError("audit entries are never deleted; redact them instead")


@event.listens_for(AuditEntry, "before_update")
def _redaction_only(mapper: Any, connection: Any, target: AuditEntry) -> None:
    if target.redacted_at is None:
        raise AppendOnlyError("audit entries are never changed, only redacted")
