"""Calendar files (RFC 5545) with the ``icalendar`` library: TZID with a VTIMEZONE, a stable UID per session,
SEQUENCE raised on every change, METHOD:CANCEL (and STATUS:CANCELLED) for a cancelled session. The texts in the
current language (the page's, or the feed owner's)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import icalendar
from flask_babel import gettext as _

from lms.core.db import utcnow
from lms.live_sessions.models import LiveSession
from lms.live_sessions.timeutil import utc_to_local

PRODID = "-//medienwerk//Live-Tutorials//DE"


def _event(live: LiveSession, *, now: dt.datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", live.uid)
    event.add("dtstamp", now)
    event.add("dtstart", utc_to_local(live.starts_at, live.timezone))
    event.add("dtend", utc_to_local(live.ends_at, live.timezone))
    event.add("sequence", live.ics_sequence)
    event.add("summary", live.title)
    description = live.description or ""
    if live.record:
        description = (description + "\n\n" if description else "") + _("Dieses Tutorial wird aufgezeichnet.")
    description += ("\n\n" if description else "") + _("Beitreten: über medienwerk in deinem Kurs.")
    event.add("description", description)
    event.add("location", "BigBlueButton (online)")
    event.add("status", "CANCELLED" if live.cancelled else "CONFIRMED")
    event.add("last-modified", live.updated_at or now)
    return event


def session_calendar(live: LiveSession) -> bytes:
    """The ICS file of one session: METHOD:PUBLISH, or METHOD:CANCEL once it is cancelled."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "CANCEL" if live.cancelled else "PUBLISH")
    cal.add_component(_event(live, now=utcnow()))
    cal.add_missing_timezones()
    return cal.to_ical()


def feed_calendar(sessions: Iterable[LiveSession], name: str | None = None) -> bytes:
    """A person's feed: their sessions; cancelled ones stay in it with STATUS:CANCELLED."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name or _("medienwerk Live-Tutorials"))
    now = utcnow()
    for live in sessions:
        cal.add_component(_event(live, now=now))
    cal.add_missing_timezones()
    return cal.to_ical()
