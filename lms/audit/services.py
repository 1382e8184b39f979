"""Writing and reading the audit log. Services flush; the request (or the CLI command) commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from lms.audit.models import AuditEntry
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.users.models import User

# what is logged; the page shows a German label for each (templates/audit/index.html)
ACTIONS = (
    "volunteer_viewed",  # a coordinator or trainer opened one volunteer's detail page
    "report_exported",  # an export of the progress report (page or command line)
    "reminder_sent",  # reminders to selected volunteers
    "role_granted",
    "role_revoked",
    "platform_registered",  # platform add or dynamic registration
    "invitation_created",
    "invitation_revoked",
    "person_exported",
    "person_deleted",
    "award_revoked",
    "award_reissued",
    "chamber_values_changed",  # contacts and links the lessons show (which fields; never the values)
)
OPERATOR = "operator"
PAGE_SIZE = 50


def record(
    action: str,
    *,
    chamber_id: int | None,
    actor: User | None = None,
    actor_role: str = OPERATOR,
    subject_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Add one entry (in the caller's transaction: it lands exactly when the action does)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    entry = AuditEntry(
        chamber_id=chamber_id,
        actor_id=actor.id if actor is not None else None,
        actor_role=actor_role if actor is not None else OPERATOR,
        action=action,
        subject_id=subject_id,
        detail=dict(detail or {}),
        created_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def redact_subject(user_id: int) -> int:
    """Remove a deleted person from the log: the entries stay, without who they were about (Art. 17 DSGVO)."""
    now = utcnow()
    result = db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.subject_id == user_id)
        .values(subject_id=None, detail={}, redacted_at=now)
        .execution_options(synchronize_session=False)
    )
    result_actor = db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.actor_id == user_id)
        .values(actor_id=None, redacted_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0) + int(result_actor.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    page: int
    pages: int
    total: int


def entries_for(chamber_ids: list[int] | None, page: int = 1) -> AuditPage:
    """The newest entries first, of these chambers (None: every chamber, for the central team), paged.
    Two statements: the count and the page (actor and subject loaded with it)."""
    from sqlalchemy.orm import selectinload

    where = [] if chamber_ids is None else [AuditEntry.chamber_id.in_(chamber_ids)]
    total = int(db.session.execute(select(func.count()).select_from(AuditEntry).where(*where)).scalar_one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    rows = list(
        db.session.execute(
            select(AuditEntry)
            .where(*where)
            .options(selectinload(AuditEntry.actor), selectinload(AuditEntry.subject))
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(PAGE_SIZE)
            .offset((page - 1) * PAGE_SIZE)
        ).scalars()
    )
    return AuditPage(rows, page, pages, total)
