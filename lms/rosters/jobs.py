"""Periodic roster sync for every course whose NRPS URL is known."""

from __future__ import annotations

import logging

from sqlalchemy import select

from lms.core.extensions import db
from lms.core.jobs import jobs
from lms.rosters import services
from lms.rosters.models import RosterSource

log = logging.getLogger(__name__)


def sync_course(course_id: int) -> services.SyncResult | None:
    """Sync one course, committing the result or the error."""
    try:
        result = services.sync_roster(course_id)
    except services.RosterError as exc:
        db.session.commit()  # the recorded error
        log.info("roster sync of course %s failed: %s", course_id, exc.code)
        return None
    db.session.commit()
    return result


@jobs.task
def sync_roster_job(course_id: int) -> bool:
    return sync_course(course_id) is not None


@jobs.periodic(minutes=60)
def sync_rosters() -> int:
    course_ids = list(db.session.execute(select(RosterSource.course_id).order_by(RosterSource.id)).scalars())
    db.session.commit()
    return sum(1 for course_id in course_ids if sync_course(course_id) is not None)
