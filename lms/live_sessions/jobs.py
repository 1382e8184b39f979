"""Background work for live tutorials: attendance polling while meetings run, end confirmation, recordings,
reminders (24 h and 1 h before) and recording retention."""

from __future__ import annotations

import logging

from lms.bbb import BBBError, NotFoundError
from lms.core.extensions import db
from lms.core.jobs import jobs
from lms.live_sessions import queries, services
from lms.live_sessions.client import get_client
from lms.live_sessions.models import LiveSession

log = logging.getLogger(__name__)


@jobs.periodic(minutes=1)
def poll_attendance() -> int:
    """One getMeetingInfo per running session; who is there extends their attendance interval."""
    client = get_client()
    if client is None:
        return 0
    polled = 0
    for live in queries.running_sessions():
        try:
            info = client.get_meeting_info(live.meeting_id)
        except NotFoundError:
            info = None
        except BBBError as exc:
            log.warning("attendance poll for session %s failed: %s", live.id, exc.message_key)
            continue
        if info is not None and live.meeting_create_time and info.create_time != live.meeting_create_time:
            info = None  # an older meeting's leftovers, not ours
        services.record_poll(live, info)
        if info is None:
            services.close_meeting(live)
        db.session.commit()
        polled += 1
    return polled


@jobs.task
def confirm_meeting_end(session_id: int) -> bool:
    client = get_client()
    live = db.session.get(LiveSession, session_id)
    if client is None or live is None:
        return False
    return services.confirm_end(client, live)


@jobs.task
def sync_session_recordings(session_id: int) -> int:
    client = get_client()
    live = db.session.get(LiveSession, session_id)
    if client is None or live is None:
        return 0
    return len(services.sync_recordings(client, live))


@jobs.periodic(minutes=5)
def send_reminders() -> int:
    return services.send_reminders()


@jobs.periodic(minutes=60)
def purge_recordings() -> int:
    client = get_client()
    if client is None:
        return 0
    return services.purge_expired_recordings(client)
