"""Housekeeping: expired launch sessions and state entries are deleted, not kept."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy import delete, or_

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.core.jobs import jobs
from lms.core.launch_session import LaunchSession
from lms.core.state import get_state_store


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
