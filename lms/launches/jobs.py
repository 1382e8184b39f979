"""Housekeeping: expired launch sessions and state entries are deleted, not kept."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import delete, or_

from lms.db import utcnow
from lms.extensions import db
from lms.jobs import jobs
from lms.launches.models import LaunchSession
from lms.state import get_state_store


def purge_expired_sessions() -> int:
    now = utcnow()
    idle = dt.timedelta(seconds=current_app.config["LAUNCH_IDLE_SECONDS"])
    result = db.session.execute(
        delete(LaunchSession).where(or_(LaunchSession.expires_at <= now, LaunchSession.last_seen_at <= now - idle))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@jobs.periodic(minutes=60)
def purge_expired() -> None:
    purge_expired_sessions()
    store = get_state_store()
    store.purge_expired()
