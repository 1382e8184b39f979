"""Writes for rosters: remember a course's NRPS URL at launch, and apply a membership list (LTI NRPS 2.0).

The HTTP read (:func:`fetch_roster`) and the write (:func:`apply_roster`) are separate so callers can keep
transactions short; :func:`sync_roster` does both. Services flush, callers commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select

from lms.core.db import clip, fits, get_or_create, utcnow
from lms.core.errors import DomainError
from lms.core.extensions import db
from lms.grades.clients import nrps_client
from lms.rosters.models import ACTIVE, DELETED, RosterMember, RosterSource
from lms.users.models import User
from lti.claims import Launch
from lti.nrps import Roster
from lti.tokens import ServiceError


class RosterError(DomainError):
    """A roster cannot be synced; ``code`` is stable, the message is for logs."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code


@dataclass(frozen=True)
class SyncResult:
    members: int
    added: int
    updated: int
    status_changed: int
    removed: int


def record_source(launch: Launch, platform_id: int, course_id: int | None) -> RosterSource | None:
    """Keep the NRPS URL of the course's latest launch that carried one (one statement when it is unchanged)."""
    if launch.nrps is None or course_id is None:
        return None
    source, _ = get_or_create(
        RosterSource,
        {"platform_id": platform_id, "memberships_url": launch.nrps.context_memberships_url},
        course_id=course_id,
    )
    source.platform_id = platform_id
    source.memberships_url = launch.nrps.context_memberships_url
    if db.session.is_modified(source):
        db.session.flush()
    return source


def source_for(course_id: int) -> RosterSource | None:
    return db.session.execute(select(RosterSource).where(RosterSource.course_id == course_id)).scalar_one_or_none()


def fetch_roster(source: RosterSource) -> Roster:
    """Read every page of the membership list (HTTP; no writes but a cached token)."""
    if not source.platform.enabled:
        raise RosterError("platform_disabled", "the registration is disabled")
    try:
        return nrps_client(source.platform).roster(source.memberships_url)
    except ServiceError as exc:
        raise RosterError(exc.code, exc.detail) from exc


def apply_roster(source: RosterSource, roster: Roster) -> SyncResult:
    """Store the members as listed. Names and e-mails are replaced by what was sent (withheld → removed);
    a member missing from a complete list is marked Deleted."""
    now = utcnow()
    course = source.course
    existing = {
        m.platform_user_id: m
        for m in db.session.execute(select(RosterMember).where(RosterMember.course_id == course.id)).scalars()
    }
    if len(roster.members) > current_app.config["ROSTER_MAX_MEMBERS"]:
        raise RosterError("too_large", f"{len(roster.members)} members, more than ROSTER_MAX_MEMBERS")
    # the people of this LMS in the chamber, by LMS id: one statement whatever the roster's size (an IN list of
    # every member's id would hit the database's parameter limit for very large courses)
    users = dict(
        db.session.execute(
            select(User.sub, User.id).where(User.chamber_id == course.chamber_id, User.issuer == course.issuer)
        ).all()
    )
    added = updated = changed = removed = 0
    for member in roster.members:
        row = existing.pop(member.user_id, None)
        if row is None:
            row = RosterMember(
                course_id=course.id,
                platform_user_id=member.user_id,
                first_seen_at=now,
                status=member.status,
                status_changed_at=now,
            )
            db.session.add(row)
            added += 1
        else:
            updated += 1
            if row.status != member.status:
                row.status = member.status
                row.status_changed_at = now
                changed += 1
        row.user_id = users.get(member.user_id)
        row.roles = list(member.roles)
        row.role = member.role.key
        row.name = clip(member.name, RosterMember.name)
        row.given_name = clip(member.given_name, RosterMember.given_name)
        row.family_name = clip(member.family_name, RosterMember.family_name)
        row.email = member.email if fits(member.email, RosterMember.email) else None
        row.last_seen_at = now
    if roster.complete:
        for row in existing.values():
            if row.status != DELETED:
                row.status = DELETED
                row.status_changed_at = now
                removed += 1
    source.last_synced_at = now
    source.last_attempt_at = now
    source.last_error_code = source.last_error = None
    source.member_count = sum(1 for m in roster.members if m.status == ACTIVE)
    db.session.flush()
    return SyncResult(len(roster.members), added, updated, changed, removed)


def record_sync_error(source: RosterSource, error: RosterError) -> None:
    source.last_attempt_at = utcnow()
    source.last_error_code = error.code
    source.last_error = str(error)[:500]
    db.session.flush()


def sync_roster(course_id: int) -> SyncResult:
    """Read the course's roster from the platform and store it. Raises :class:`RosterError`."""
    source = source_for(course_id)
    if source is None:
        raise RosterError("no_nrps", "no launch from this course carried a Names and Roles service")
    try:
        return apply_roster(source, fetch_roster(source))
    except RosterError as exc:
        db.session.rollback()  # nothing half-stored; the error is recorded on its own
        source = source_for(course_id)
        assert source is not None
        record_sync_error(source, exc)
        raise
