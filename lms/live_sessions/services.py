"""Writes for live tutorials: schedule, edit, cancel (with notices), sign up and withdraw (waitlist with
promotion), join (just-in-time, idempotent BBB create), attendance (polling, analytics callback, corrections),
end confirmation, recordings and reminders.

Services flush, never commit, and never read ``flask.request``: views pass in what they need (callback URLs,
the BBB client). BBB calls go through :class:`lms.bbb.BBBClient`; see
/work/shared/reference/bbb-api.md §8.2 for the rules followed here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import LazyString, gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, true
from sqlalchemy.exc import IntegrityError

from lms.bbb import AnalyticsReport, BBBClient, MeetingInfo, NotFoundError, parse_iso_time
from lms.core.db import utcnow
from lms.core.errors import Conflict
from lms.core.extensions import db
from lms.live_sessions import timeutil
from lms.live_sessions.models import (
    AUDIENCES,
    SIGNUP_CONFIRMED,
    SIGNUP_WAITLISTED,
    SIGNUP_WITHDRAWN,
    Attendance,
    AttendanceCorrection,
    LiveProfile,
    LiveSession,
    Recording,
    Signup,
    TutorialSeries,
)
from lms.mail.services import queue_mail
from lms.users.models import User

log = logging.getLogger(__name__)

MAX_WEEKS = 12
MAX_DURATION = 8 * 60


class LiveError(Conflict):
    """A request that cannot be carried out; ``str(exc)`` is a German message for the person."""


# ---------------------------------------------------------------------------------------------------------
# The schedule form
# ---------------------------------------------------------------------------------------------------------


@dataclass
class SessionInput:
    title: str
    description: str
    module_ids: list[str]
    local_start: dt.datetime  # naive wall time in ``timezone``
    timezone: str
    duration_minutes: int
    capacity: int | None
    signup_deadline_local: dt.datetime | None
    weeks: int
    audience: str
    record: bool
    mute_on_start: bool
    wait_for_moderator: bool
    lock_cam: bool
    lock_mic: bool
    lock_private_chat: bool
    lock_public_chat: bool
    welcome: str
    early_entry_minutes: int
    co_trainer_ids: list[int] = field(default_factory=list)


def _int_field(
    data: Mapping[str, Any],
    name: str,
    errors: dict[str, str],
    *,
    low: int,
    high: int,
    default: int | None = None,
    label: Any = "",
) -> int | None:
    raw = str(data.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors[name] = _l("%(label)s: bitte eine ganze Zahl eingeben.", label=label)
        return default
    if not low <= value <= high:
        errors[name] = _l(
            "%(label)s: bitte eine Zahl von %(low)d bis %(high)d eingeben.", label=label, low=low, high=high
        )
        return default
    return value


def _has_control_characters(text: str) -> bool:
    """Line breaks (also U+2028/U+2029), tabs and other control characters."""
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def _checked(data: Mapping[str, Any], name: str) -> bool:
    return str(data.get(name) or "") in ("1", "on", "true", "yes")


def parse_session_form(
    data: Mapping[str, Any],
    getlist: Any,
    *,
    default_tz: str,
    allowed_modules: Iterable[str],
    allowed_co_trainers: Iterable[int],
    editing: bool = False,
) -> tuple[SessionInput | None, dict[str, str]]:
    """Validate the schedule form. Returns the input, or None and errors by field name (German)."""
    errors: dict[str, str] = {}
    title = str(data.get("title") or "").strip()
    if not 2 <= len(title) <= 200:
        errors["title"] = _l("Titel: bitte 2 bis 200 Zeichen.")
    elif _has_control_characters(title):  # the title goes into e-mail subjects: one line, nothing invisible
        errors["title"] = _l("Titel: bitte in einer Zeile, ohne Zeilenumbrüche, Tabulatoren oder Steuerzeichen.")
    description = str(data.get("description") or "").strip()
    if len(description) > 5000:
        errors["description"] = _l("Beschreibung: höchstens 5000 Zeichen.")
    allowed = set(allowed_modules)
    module_ids = [m for m in getlist("modules") if m in allowed]
    tz = str(data.get("tz") or "").strip()
    if not timeutil.valid_zone(tz):
        tz = default_tz
    local_start = None
    try:
        day = dt.date.fromisoformat(str(data.get("date") or "").strip())
        clock = dt.time.fromisoformat(str(data.get("time") or "").strip())
        local_start = dt.datetime.combine(day, clock.replace(second=0, microsecond=0, tzinfo=None))
    except ValueError:
        errors["date"] = _l("Datum und Uhrzeit: bitte ein gültiges Datum (TT.MM.JJJJ) und eine Uhrzeit (HH:MM).")
    if local_start is not None:
        try:
            starts = timeutil.local_to_utc(local_start, tz)
        except timeutil.TimeError:
            errors["date"] = _l("Diese Uhrzeit gibt es an diesem Tag wegen der Zeitumstellung nicht.")
        else:
            if not editing and starts < utcnow():
                errors["date"] = _l("Der Termin liegt in der Vergangenheit.")
    duration = _int_field(data, "duration", errors, low=15, high=MAX_DURATION, default=60, label=_l("Dauer"))
    if not str(data.get("duration") or "").strip():
        errors["duration"] = _l("Dauer: bitte in Minuten angeben.")
    capacity = _int_field(data, "capacity", errors, low=1, high=1000, default=None, label=_l("Plätze"))
    weeks = (
        1
        if editing
        else _int_field(data, "weeks", errors, low=1, high=MAX_WEEKS, default=1, label=_l("Wiederholungen"))
    )
    early = _int_field(data, "early_entry", errors, low=0, high=120, default=15, label=_l("Früher Einlass"))
    deadline_local = None
    raw_deadline_date = str(data.get("deadline_date") or "").strip()
    if raw_deadline_date:
        try:
            d_day = dt.date.fromisoformat(raw_deadline_date)
            raw_t = str(data.get("deadline_time") or "").strip() or "23:59"
            d_clock = dt.time.fromisoformat(raw_t)
            deadline_local = dt.datetime.combine(d_day, d_clock.replace(second=0, microsecond=0))
            if local_start is not None and deadline_local > local_start:
                errors["deadline_date"] = _l("Anmeldeschluss: spätestens zum Beginn des Tutorials.")
        except ValueError:
            errors["deadline_date"] = _l("Anmeldeschluss: bitte ein gültiges Datum und eine Uhrzeit.")
    audience = str(data.get("audience") or "course")
    if audience not in AUDIENCES:
        errors["audience"] = _l("Zielgruppe: bitte eine der Möglichkeiten wählen.")
    welcome = str(data.get("welcome") or "").strip()
    if len(welcome) > 1000:
        errors["welcome"] = _l("Begrüßungstext: höchstens 1000 Zeichen.")
    allowed_trainers = set(allowed_co_trainers)
    co_trainer_ids = []
    for raw in getlist("co_trainers"):
        try:
            uid = int(raw)
        except ValueError:
            continue
        if uid in allowed_trainers:
            co_trainer_ids.append(uid)
    if errors or local_start is None:
        return None, errors
    assert duration is not None and weeks is not None and early is not None
    return (
        SessionInput(
            title=title,
            description=description,
            module_ids=module_ids,
            local_start=local_start,
            timezone=tz,
            duration_minutes=duration,
            capacity=capacity,
            signup_deadline_local=deadline_local,
            weeks=weeks,
            audience=audience,
            record=_checked(data, "record"),
            mute_on_start=_checked(data, "mute_on_start"),
            wait_for_moderator=_checked(data, "wait_for_moderator"),
            lock_cam=_checked(data, "lock_cam"),
            lock_mic=_checked(data, "lock_mic"),
            lock_private_chat=_checked(data, "lock_private_chat"),
            lock_public_chat=_checked(data, "lock_public_chat"),
            welcome=welcome,
            early_entry_minutes=early,
            co_trainer_ids=co_trainer_ids,
        ),
        {},
    )


def _apply(live: LiveSession, data: SessionInput, starts_at: dt.datetime) -> None:
    live.title = data.title
    live.description = data.description
    live.module_ids = list(data.module_ids)
    live.starts_at = starts_at
    live.timezone = data.timezone
    live.duration_minutes = data.duration_minutes
    live.capacity = data.capacity
    live.audience = data.audience
    live.record = data.record
    live.mute_on_start = data.mute_on_start
    live.wait_for_moderator = data.wait_for_moderator
    live.lock_cam = data.lock_cam
    live.lock_mic = data.lock_mic
    live.lock_private_chat = data.lock_private_chat
    live.lock_public_chat = data.lock_public_chat
    live.welcome = data.welcome
    live.early_entry_minutes = data.early_entry_minutes
    trainers = (db.session.get(User, uid) for uid in data.co_trainer_ids)
    live.co_trainers = [u for u in trainers if u is not None]


def _deadline_for(data: SessionInput, week: int) -> dt.datetime | None:
    if data.signup_deadline_local is None:
        return None
    return timeutil.local_to_utc(data.signup_deadline_local + dt.timedelta(weeks=week), data.timezone)


def schedule_sessions(
    data: SessionInput, *, chamber_id: int, course_id: int | None, created_by: User
) -> list[LiveSession]:
    """Create one session, or a weekly series (same local wall time every week)."""
    try:
        instants = timeutil.weekly(data.local_start, data.timezone, data.weeks)
    except timeutil.TimeError as exc:
        raise LiveError(_l("Eine der Uhrzeiten gibt es wegen der Zeitumstellung nicht.")) from exc
    series = None
    if data.weeks > 1:
        series = TutorialSeries(chamber_id=chamber_id, created_by_id=created_by.id, weeks=data.weeks)
        db.session.add(series)
        db.session.flush()
    sessions = []
    for week, starts_at in enumerate(instants):
        live = LiveSession(
            chamber_id=chamber_id,
            course_id=course_id,
            series_id=series.id if series else None,
            created_by_id=created_by.id,
            meeting_id="mw-" + secrets.token_hex(12),
            callback_token=secrets.token_urlsafe(32),
            ics_sequence=0,
        )
        _apply(live, data, starts_at)
        live.signup_deadline = _deadline_for(data, week)
        db.session.add(live)
        sessions.append(live)
    db.session.flush()
    return sessions


def edit_session(live: LiveSession, data: SessionInput) -> bool:
    """Change a session; people signed up get a notice when time, length or title changed. Returns whether
    they were notified. Raising the capacity promotes from the waitlist."""
    if live.cancelled:
        raise LiveError(_l("Ein abgesagtes Tutorial kann nicht mehr geändert werden."))
    try:
        starts_at = timeutil.local_to_utc(data.local_start, data.timezone)
    except timeutil.TimeError as exc:
        raise LiveError(_l("Diese Uhrzeit gibt es wegen der Zeitumstellung nicht.")) from exc
    before = (live.starts_at, live.duration_minutes, live.title, live.description)
    _apply(live, data, starts_at)
    live.signup_deadline = _deadline_for(data, 0)
    changed = before != (live.starts_at, live.duration_minutes, live.title, live.description)
    if changed:
        live.ics_sequence += 1
        for signup in _active_signups(live):
            queue_mail(
                signup.user,
                subject=_l("Geändert: %(title)s", title=live.title),
                template="session_changed.txt",
                category="live-changed",
                live=live,
                signup=signup,
            )
    promote_waitlist(live)
    db.session.flush()
    return changed


def cancel_session(live: LiveSession) -> int:
    """Cancel; everyone signed up (or waiting) gets a notice. Returns how many were notified."""
    if live.cancelled:
        return 0
    live.cancelled_at = utcnow()
    live.ics_sequence += 1
    notified = 0
    for signup in _active_signups(live):
        if queue_mail(
            signup.user,
            subject=_l("Abgesagt: %(title)s", title=live.title),
            template="session_cancelled.txt",
            category="live-cancelled",
            live=live,
            signup=signup,
        ):
            notified += 1
    db.session.flush()
    return notified


# ---------------------------------------------------------------------------------------------------------
# Sign-ups
# ---------------------------------------------------------------------------------------------------------


def _active_signups(live: LiveSession) -> list[Signup]:
    return list(
        db.session.execute(
            select(Signup)
            .where(Signup.session_id == live.id, Signup.status.in_((SIGNUP_CONFIRMED, SIGNUP_WAITLISTED)))
            .order_by(Signup.queued_at, Signup.id)
        ).scalars()
    )


def _lock(live: LiveSession) -> LiveSession:
    """Re-read the session with a row lock (PostgreSQL; SQLite serialises writers anyway)."""
    return db.session.execute(
        select(LiveSession).where(LiveSession.id == live.id).with_for_update().execution_options(populate_existing=True)
    ).scalar_one()


def _confirmed_count(live: LiveSession) -> int:
    return int(
        db.session.execute(
            select(func.count())
            .select_from(Signup)
            .where(Signup.session_id == live.id, Signup.status == SIGNUP_CONFIRMED)
        ).scalar_one()
    )


def sign_up(live: LiveSession, user: User, now: dt.datetime | None = None) -> Signup:
    """Take a place, or a place on the waitlist when the session is full."""
    now = now or utcnow()
    live = _lock(live)
    if live.cancelled:
        raise LiveError(_l("Dieses Tutorial wurde abgesagt."))
    if now >= live.ends_at:
        raise LiveError(_l("Dieses Tutorial ist schon vorbei."))
    if live.signup_deadline is not None and now > live.signup_deadline:
        raise LiveError(_l("Der Anmeldeschluss ist vorbei."))
    signup = db.session.execute(
        select(Signup).where(Signup.session_id == live.id, Signup.user_id == user.id)
    ).scalar_one_or_none()
    if signup is not None and signup.status in (SIGNUP_CONFIRMED, SIGNUP_WAITLISTED):
        return signup
    full = live.capacity is not None and _confirmed_count(live) >= live.capacity
    status = SIGNUP_WAITLISTED if full else SIGNUP_CONFIRMED
    if signup is None:
        signup = Signup(session_id=live.id, user_id=user.id, status=status, queued_at=now)
        db.session.add(signup)
    else:
        signup.status, signup.queued_at, signup.promoted_at = status, now, None
    profile_for(user)
    db.session.flush()
    return signup


def withdraw(live: LiveSession, user: User) -> list[Signup]:
    """Give the place back; the first on the waitlist moves up (and is told). Returns those promoted."""
    live = _lock(live)
    signup = db.session.execute(
        select(Signup).where(Signup.session_id == live.id, Signup.user_id == user.id)
    ).scalar_one_or_none()
    if signup is None or signup.status == SIGNUP_WITHDRAWN:
        return []
    signup.status = SIGNUP_WITHDRAWN
    db.session.flush()
    return promote_waitlist(live)


def promote_waitlist(live: LiveSession) -> list[Signup]:
    """Fill free places from the waitlist, in order; each promoted person gets a notice."""
    if live.cancelled:
        return []
    waiting = [s for s in _active_signups(live) if s.status == SIGNUP_WAITLISTED]
    free = len(waiting) if live.capacity is None else max(0, live.capacity - _confirmed_count(live))
    promoted = []
    for signup in waiting[:free]:
        signup.status = SIGNUP_CONFIRMED
        signup.promoted_at = utcnow()
        promoted.append(signup)
        queue_mail(
            signup.user,
            subject=_l("Du hast einen Platz: %(title)s", title=live.title),
            template="signup_promoted.txt",
            category="live-promoted",
            live=live,
            signup=signup,
        )
    db.session.flush()
    return promoted


def profile_for(user: User) -> LiveProfile:
    """The user's live profile (pseudonym for BBB, calendar feed token, reminder choice), made on first use."""
    profile = db.session.get(LiveProfile, user.id)
    if profile is not None:
        return profile
    profile = LiveProfile(
        user_id=user.id, pseudonym="mw" + secrets.token_hex(8), feed_token=secrets.token_urlsafe(32), reminders=True
    )
    try:
        with db.session.begin_nested():
            db.session.add(profile)
    except IntegrityError:  # made by a parallel request
        profile = db.session.get(LiveProfile, user.id, populate_existing=True)
        assert profile is not None
    return profile


def set_reminders(user: User, enabled: bool) -> LiveProfile:
    profile = profile_for(user)
    profile.reminders = enabled
    db.session.flush()
    return profile


def renew_feed_token(user: User) -> LiveProfile:
    profile = profile_for(user)
    profile.feed_token = secrets.token_urlsafe(32)
    db.session.flush()
    return profile


# ---------------------------------------------------------------------------------------------------------
# Joining (§3.1 create, §3.2 join)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingUrls:
    """The tool's URLs a meeting is created with: BBB's callbacks, and where people land when they leave."""

    end: str
    recording_ready: str
    analytics: str
    logout: str


def left_signature(live: LiveSession) -> str:
    """Signs the "you have left" page's URL (BBB's ``logoutURL``, the same for everyone in the meeting), so it
    names only real sessions; it grants nothing else."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, b"live-left:" + live.meeting_id.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def join_window_open(live: LiveSession, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    return not live.cancelled and live.opens_at <= now < live.ends_at


def _bbb_name(title: str) -> str:
    name = title.strip()[:256]
    return name if len(name) >= 2 else f"Tutorial {name}".strip()


def create_params(live: LiveSession, chamber_slug: str, urls: MeetingUrls) -> dict[str, Any]:
    """The create parameters: the same every time for the same session (so create stays idempotent)."""
    locks = (live.lock_cam, live.lock_mic, live.lock_private_chat, live.lock_public_chat)
    welcome = live.welcome or ""
    if live.record:
        welcome = (welcome + " " if welcome else "") + "Dieses Tutorial wird aufgezeichnet."
    return {
        "record": live.record,
        "allow_start_stop_recording": True if live.record else None,
        "auto_start_recording": False if live.record else None,
        "mute_on_start": live.mute_on_start,
        "guest_policy": "ALWAYS_ACCEPT",
        "welcome": welcome or None,
        # BBB ends a meeting after ``duration`` minutes: early entry plus half an hour of slack
        "duration": live.duration_minutes + live.early_entry_minutes + 30,
        "meta": {
            "bbb-origin": "medienwerk",
            "medienwerk-chamber": chamber_slug,
            "medienwerk-session": str(live.id),
        },
        "end_callback_url": urls.end,
        "recording_ready_url": urls.recording_ready,
        "analytics_callback_url": urls.analytics,
        # one URL for everyone in the meeting, so no launch token in it (see lms.live_sessions.public.left)
        "logout_url": urls.logout,
        "lock_settings_disable_cam": live.lock_cam or None,
        "lock_settings_disable_mic": live.lock_mic or None,
        "lock_settings_disable_private_chat": live.lock_private_chat or None,
        "lock_settings_disable_public_chat": live.lock_public_chat or None,
        "lock_settings_lock_on_join": True if any(locks) else None,
    }


def current_meeting(client: BBBClient, live: LiveSession) -> MeetingInfo | None:
    """The running BBB meeting of this session, if there is one (one getMeetingInfo)."""
    if live.meeting_create_time is None:
        return None
    try:
        return client.get_meeting_info(live.meeting_id)
    except NotFoundError:
        return None


def ensure_meeting(
    client: BBBClient, live: LiveSession, observed_create_time: int | None, chamber_slug: str, urls: MeetingUrls
) -> tuple[int, bool]:
    """Create the BBB meeting unless someone else did since we looked (``observed_create_time``); returns the
    createTime and whether this call created the meeting.

    Runs under a row lock on the session (PostgreSQL): of simultaneous joins, the first creates, the others find
    its createTime once the lock is theirs. The caller commits right after (that releases the lock); across
    workers and on SQLite, :func:`lms.live_sessions.meetings.create_once` lets only one request get here."""
    locked = _lock(live)
    if locked.meeting_create_time is not None and locked.meeting_create_time != observed_create_time:
        return locked.meeting_create_time, False
    created = client.create(live.meeting_id, _bbb_name(live.title), **create_params(locked, chamber_slug, urls))
    locked.meeting_create_time = created.create_time
    locked.meeting_started_at = utcnow()
    locked.meeting_ended_at = None
    db.session.flush()
    return created.create_time, True


def join_url(
    client: BBBClient, live: LiveSession, user: User, *, moderator: bool, display_name: str, create_time: int
) -> str:
    profile = profile_for(user)
    return client.join_url(
        live.meeting_id,
        display_name,
        "MODERATOR" if moderator else "VIEWER",
        profile.pseudonym,
        create_time=create_time,
    )


def may_join(live: LiveSession, user: User, *, moderator: bool) -> bool:
    if moderator:
        return True
    signup = db.session.execute(
        select(Signup.status).where(Signup.session_id == live.id, Signup.user_id == user.id)
    ).scalar_one_or_none()
    return signup == SIGNUP_CONFIRMED


# ---------------------------------------------------------------------------------------------------------
# Attendance
# ---------------------------------------------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def _seconds(intervals: list[dict[str, Any]]) -> int:
    total = 0.0
    for item in intervals:
        start, end = parse_iso_time(item.get("from", "")), parse_iso_time(item.get("to", ""))
        if start and end and end > start:
            total += (end - start).total_seconds()
    return int(total)


def _recompute(row: Attendance, live: LiveSession, seconds: int | None = None) -> None:
    seconds = _seconds(row.intervals) if seconds is None else seconds
    row.minutes = seconds // 60
    percent = int(current_app.config["LIVE_ATTENDED_PERCENT"])
    row.attended = row.role != "MODERATOR" and seconds * 100 >= percent * live.duration_minutes * 60


def _users_by_pseudonym(pseudonyms: Iterable[str]) -> dict[str, int]:
    ids = [p for p in set(pseudonyms) if p]
    if not ids:
        return {}
    rows = db.session.execute(select(LiveProfile.pseudonym, LiveProfile.user_id).where(LiveProfile.pseudonym.in_(ids)))
    return {pseudonym: user_id for pseudonym, user_id in rows}


def _attendance_rows(live: LiveSession) -> dict[int, Attendance]:
    rows = db.session.execute(select(Attendance).where(Attendance.session_id == live.id)).scalars()
    return {row.user_id: row for row in rows}


def record_poll(live: LiveSession, info: MeetingInfo | None, now: dt.datetime | None = None) -> None:
    """Update attendance from one getMeetingInfo: who is present now extends (or opens) an interval,
    who is gone closes theirs."""
    now = now or utcnow()
    present = {a.user_id: a for a in (info.attendees if info else ())}
    user_ids = _users_by_pseudonym(present)
    rows = _attendance_rows(live)
    seen: set[int] = set()
    for pseudonym, attendee in present.items():
        user_id = user_ids.get(pseudonym)
        if user_id is None:
            continue
        seen.add(user_id)
        row = rows.get(user_id)
        if row is None:
            row = Attendance(session_id=live.id, user_id=user_id, intervals=[], source="poll")
            db.session.add(row)
            rows[user_id] = row
        if row.source == "analytics":
            continue  # the analytics report is complete; polling no longer changes it
        row.role = "MODERATOR" if attendee.is_moderator else row.role or "VIEWER"
        intervals = [dict(i) for i in row.intervals or []]
        if intervals and intervals[-1].get("open"):
            intervals[-1]["to"] = _iso(now)
        else:
            intervals.append({"from": _iso(now), "to": _iso(now), "open": True})
        row.intervals = intervals
        _recompute(row, live)
    for user_id, row in rows.items():
        if user_id in seen or row.source == "analytics":
            continue
        intervals = [dict(i) for i in row.intervals or []]
        if intervals and intervals[-1].get("open"):
            intervals[-1]["open"] = False
            row.intervals = intervals
            _recompute(row, live)
    if info is not None and info.running and live.meeting_started_at is None:
        live.meeting_started_at = now
    db.session.flush()


def record_analytics(live: LiveSession, report: AnalyticsReport) -> int:
    """Replace polled attendance by the analytics callback's exact joins and leaves (§5.3). Idempotent:
    the same report twice gives the same rows. Returns how many people were matched."""
    finish = report.finish
    user_ids = _users_by_pseudonym(a.user_id for a in report.attendees)
    rows = _attendance_rows(live)
    matched = 0
    for attendee in report.attendees:
        user_id = user_ids.get(attendee.user_id)
        if user_id is None:
            continue
        matched += 1
        joins = sorted(t for t in (parse_iso_time(j) for j in attendee.joins) if t)
        leaves = sorted(t for t in (parse_iso_time(x) for x in attendee.leaves) if t)
        end_default = parse_iso_time(finish)
        intervals = []
        for start in joins:
            end = next((x for x in leaves if x >= start), None)
            if end is not None:
                leaves.remove(end)
            end = end or end_default or start
            intervals.append({"from": _iso(start), "to": _iso(end), "open": False})
        row = rows.get(user_id)
        if row is None:
            row = Attendance(session_id=live.id, user_id=user_id)
            db.session.add(row)
            rows[user_id] = row
        row.role = "MODERATOR" if attendee.moderator else "VIEWER"
        row.intervals = intervals
        row.source = "analytics"
        _recompute(row, live, seconds=attendee.duration or _seconds(intervals))
    db.session.flush()
    return matched


def correct_attendance(live: LiveSession, user: User, attended: bool, reason: str, by: User) -> AttendanceCorrection:
    """A trainer's correction, kept in the audit trail (who, when, old, new, why)."""
    reason = reason.strip()
    if not 3 <= len(reason) <= 500:
        raise LiveError(_l("Bitte gib einen Grund an (3 bis 500 Zeichen)."))
    row = db.session.execute(
        select(Attendance).where(Attendance.session_id == live.id, Attendance.user_id == user.id)
    ).scalar_one_or_none()
    if row is None:
        row = Attendance(
            session_id=live.id, user_id=user.id, intervals=[], minutes=0, attended=False, source="manual", role="VIEWER"
        )
        db.session.add(row)
        db.session.flush()
    old = row.effective_attended
    row.attended_override = attended
    correction = AttendanceCorrection(
        attendance_id=row.id, corrected_by_id=by.id, old_value=old, new_value=attended, reason=reason
    )
    db.session.add(correction)
    db.session.flush()
    return correction


def close_meeting(live: LiveSession, now: dt.datetime | None = None) -> bool:
    """The meeting has ended: close open attendance intervals. False when it was closed already."""
    if live.meeting_ended_at is not None:
        return False
    now = now or utcnow()
    live.meeting_ended_at = now
    for row in _attendance_rows(live).values():
        intervals = [dict(i) for i in row.intervals or []]
        if intervals and intervals[-1].get("open"):
            intervals[-1]["open"] = False
            row.intervals = intervals
            _recompute(row, live)
    db.session.flush()
    return True


def confirm_end(client: BBBClient, live: LiveSession) -> bool:
    """An end callback arrived: BBB does not sign it, so ask BBB whether the meeting really stopped."""
    if live.meeting_ended_at is not None:
        return False
    if client.is_meeting_running(live.meeting_id):
        return False
    return close_meeting(live)


# ---------------------------------------------------------------------------------------------------------
# Recordings
# ---------------------------------------------------------------------------------------------------------


def _retention() -> dt.timedelta:
    return dt.timedelta(days=int(current_app.config["LIVE_RECORDING_RETENTION_DAYS"]))


def note_recording(live: LiveSession, record_id: str) -> Recording:
    """A recording-ready callback named this recording (duplicates are fine)."""
    rec = db.session.execute(select(Recording).where(Recording.record_id == record_id)).scalar_one_or_none()
    if rec is None:
        now = utcnow()
        rec = Recording(
            session_id=live.id, record_id=record_id, state="processing", created_at=now, delete_after=now + _retention()
        )
        try:
            with db.session.begin_nested():
                db.session.add(rec)
        except IntegrityError:
            rec = db.session.execute(select(Recording).where(Recording.record_id == record_id)).scalar_one()
    return rec


def sync_recordings(client: BBBClient, live: LiveSession) -> list[Recording]:
    """Read the session's recordings from BBB. New ones become *unpublished* (BBB publishes by default)."""
    found = client.get_recordings(meeting_id=live.meeting_id)
    result = []
    for item in found:
        if item.meeting_id and item.meeting_id != live.meeting_id:
            continue
        rec = note_recording(live, item.record_id)
        if rec.state == "deleted":
            continue
        rec.playback_url = item.url()
        rec.length_minutes = next((f.length for f in item.playback if f.length), None)
        if rec.state == "processing":
            if item.published:
                client.publish_recordings(item.record_id, False)
            rec.state = "unpublished"
        elif rec.state == "published" and not item.published:
            rec.state = "unpublished"
        result.append(rec)
    db.session.flush()
    return result


def set_published(client: BBBClient, rec: Recording, publish: bool) -> None:
    if rec.state == "deleted":
        raise LiveError(_l("Diese Aufzeichnung wurde gelöscht."))
    client.publish_recordings(rec.record_id, publish)
    rec.state = "published" if publish else "unpublished"
    rec.published_at = utcnow() if publish else None
    db.session.flush()


def delete_recording(client: BBBClient, rec: Recording) -> None:
    if rec.state == "deleted":
        return
    with contextlib.suppress(NotFoundError):  # already gone on the server
        client.delete_recordings(rec.record_id)
    rec.state = "deleted"
    rec.deleted_at = utcnow()
    rec.playback_url = None
    db.session.flush()


def purge_expired_recordings(client: BBBClient, now: dt.datetime | None = None) -> int:
    now = now or utcnow()
    expired = list(
        db.session.execute(
            select(Recording).where(Recording.state != "deleted", Recording.delete_after <= now)
        ).scalars()
    )
    for rec in expired:
        delete_recording(client, rec)
    return len(expired)


# ---------------------------------------------------------------------------------------------------------
# Reminders
# ---------------------------------------------------------------------------------------------------------


REMINDERS = (("24h", dt.timedelta(hours=24), dt.timedelta(hours=1)), ("1h", dt.timedelta(hours=1), dt.timedelta(0)))


def reminder_lead(live: LiveSession, now: dt.datetime) -> str:
    """When it starts, said as it is at sending time, in the current language: "In 6 Minuten, um 18:00 Uhr, geht
    es los", "Heute um 18:00 Uhr geht es los", "Morgen um …", "Am Donnerstag, 03.12.2026, um …"."""
    at = timeutil.live_time(live.starts_at, live.timezone)
    minutes = round((live.starts_at - now).total_seconds() / 60)
    if minutes <= 90:
        if minutes < 1:
            return gettext("Gleich, um %(time)s, geht es los", time=at)
        return ngettext(
            "In einer Minute, um %(time)s, geht es los",
            "In %(num)s Minuten, um %(time)s, geht es los",
            minutes,
            time=at,
        )
    days = (
        timeutil.utc_to_local(live.starts_at, live.timezone).date() - timeutil.utc_to_local(now, live.timezone).date()
    ).days
    if days == 0:
        return gettext("Heute um %(time)s geht es los", time=at)
    if days == 1:
        return gettext("Morgen um %(time)s geht es los", time=at)
    return gettext(
        "Am %(date)s, um %(time)s, geht es los", date=timeutil.live_date(live.starts_at, live.timezone), time=at
    )


def send_reminders(now: dt.datetime | None = None) -> int:
    """Queue the 24-hour and 1-hour reminders that are due (each at most once per person and session).

    A reminder goes only to those who had their place before its moment: whoever signs up (or moves up from
    the waitlist) 6 minutes before the start needs no "it starts soon" mail, and gets none."""
    now = now or utcnow()
    queued = 0
    for kind, before, until in REMINDERS:
        rows = db.session.execute(
            select(Signup, LiveSession)
            .join(LiveSession, LiveSession.id == Signup.session_id)
            .outerjoin(LiveProfile, LiveProfile.user_id == Signup.user_id)
            .where(
                Signup.status == SIGNUP_CONFIRMED,
                LiveSession.cancelled_at.is_(None),
                LiveSession.starts_at > now + until,
                LiveSession.starts_at <= now + before,
                func.coalesce(LiveProfile.reminders, true()) == true(),
            )
        )
        for signup, live in rows:
            placed_at = signup.promoted_at or signup.queued_at
            if placed_at is not None and placed_at > live.starts_at - before:
                continue  # signed up after this reminder's moment
            mail = queue_mail(
                signup.user,
                subject=_l("Erinnerung: %(title)s", title=live.title),
                template="reminder.txt",
                category="live-reminder",
                dedupe_key=f"live-reminder-{kind}:{live.id}:{signup.user_id}:{live.ics_sequence}",
                live=live,
                kind=kind,
                lead=LazyString(reminder_lead, live, now),  # in the recipient's language
            )
            if mail is not None:
                queued += 1
    db.session.flush()
    return queued
