"""Retention: daily jobs that remove what is no longer needed (periods in lms/core/config.py, docs/privacy.md).

Each runs once per day however many processes schedule it (the slot is claimed in the shared state store).
Launch sessions and launch state are purged hourly by lms/launches/jobs.py, recordings by lms/live_sessions.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, select, update

from lms.audit.models import AuditEntry
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.core.jobs import jobs
from lms.dashboards.queries import volunteer_clause
from lms.live_sessions.models import Attendance, LiveSession
from lms.mail.models import OutboxMail
from lms.mail.services import queue_mail
from lms.personal_data.services import delete_person
from lms.progress.models import APPROVED, RETURNED, TaskSubmission
from lms.users.models import User

log = logging.getLogger(__name__)

DAY = 24 * 60
NOTICE_CATEGORY = "retention-notice"


def _days(key: str) -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config[key]))


@jobs.periodic(minutes=DAY)
def retire_inactive_volunteers(now: dt.datetime | None = None) -> int:
    """People who have not launched for RETENTION_INACTIVE_MONTHS get a notice by e-mail (where the LMS shared
    one); RETENTION_NOTICE_DAYS later, or at once without an address, their data is deleted. Coordinators and
    people with a coordinator grant are kept. Returns the number of people deleted."""
    now = now or utcnow()
    limit = now - dt.timedelta(days=30 * int(current_app.config["RETENTION_INACTIVE_MONTHS"]))
    inactive = list(
        db.session.execute(
            select(User)
            .where(
                volunteer_clause(),  # trainers and coordinators are not volunteers and keep their accounts
                or_(User.last_launch_at < limit, User.last_launch_at.is_(None)),
                User.created_at < limit,
            )
            .limit(500)
        ).scalars()
    )
    if not inactive:
        return 0
    notices = {
        user_id: created
        for user_id, created in db.session.execute(
            select(OutboxMail.user_id, OutboxMail.created_at).where(
                OutboxMail.category == NOTICE_CATEGORY, OutboxMail.user_id.in_([u.id for u in inactive])
            )
        ).all()
    }
    deleted = 0
    for user in inactive:
        noticed = notices.get(user.id)
        if user.email and noticed is None:
            queue_mail(
                user,
                subject=_l("medienwerk: Deine Daten werden bald gelöscht"),
                template="retention_notice.txt",
                category=NOTICE_CATEGORY,
                days=int(current_app.config["RETENTION_NOTICE_DAYS"]),
            )
            continue
        if noticed is not None and noticed > now - _days("RETENTION_NOTICE_DAYS"):
            continue
        delete_person(user)
        deleted += 1
    log.info("retention: %d inactive people deleted", deleted)
    return deleted


@jobs.periodic(minutes=DAY)
def clear_reviewed_hand_ins(now: dt.datetime | None = None) -> int:
    """The text and link of hand-ins reviewed RETENTION_HANDIN_DAYS ago are removed; the status stays."""
    now = now or utcnow()
    result = db.session.execute(
        update(TaskSubmission)
        .where(
            TaskSubmission.status.in_((APPROVED, RETURNED)),
            TaskSubmission.reviewed_at < now - _days("RETENTION_HANDIN_DAYS"),
            or_(TaskSubmission.text.is_not(None), TaskSubmission.link.is_not(None)),
        )
        .values(text=None, link=None)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@jobs.periodic(minutes=DAY)
def clear_attendance_details(now: dt.datetime | None = None) -> int:
    """Join and leave times of tutorials that ended RETENTION_ATTENDANCE_DAYS ago are removed; whether the person
    attended (and the minutes) stays, because the qualification tiers count it."""
    now = now or utcnow()
    old = select(LiveSession.id).where(LiveSession.starts_at < now - _days("RETENTION_ATTENDANCE_DAYS"))
    # JSON columns cannot be compared in SQL on every database: find the rows with times here
    ids = [
        attendance_id
        for attendance_id, intervals in db.session.execute(
            select(Attendance.id, Attendance.intervals).where(Attendance.session_id.in_(old))
        ).all()
        if intervals
    ]
    if not ids:
        return 0
    result = db.session.execute(update(Attendance).where(Attendance.id.in_(ids)).values(intervals=[]))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@jobs.periodic(minutes=DAY)
def purge_mail_outbox(now: dt.datetime | None = None) -> int:
    """E-mails handled (sent, failed, stored or not sendable) RETENTION_MAIL_DAYS ago are deleted."""
    now = now or utcnow()
    result = db.session.execute(
        delete(OutboxMail).where(
            OutboxMail.status != "queued", OutboxMail.created_at < now - _days("RETENTION_MAIL_DAYS")
        )
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@jobs.periodic(minutes=DAY)
def purge_audit_log(now: dt.datetime | None = None) -> int:
    """Audit entries older than RETENTION_AUDIT_DAYS are deleted: the one deletion the append-only log knows,
    done here in SQL (the ORM refuses to delete entries)."""
    now = now or utcnow()
    result = db.session.execute(delete(AuditEntry).where(AuditEntry.created_at < now - _days("RETENTION_AUDIT_DAYS")))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
