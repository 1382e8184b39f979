"""The BBB meeting of a session as every worker sees it, kept in the shared state store (:mod:`lms.core.state`,
the database or Redis), never in a process:

* a short cache of the meeting's state (exists, running, moderators, createTime): a crowd of waiting browsers
  polling ``status.json`` and a surge of joins ask BBB a few times, not once each. One request refreshes it (it
  claims a short "refreshing" key); the others meanwhile get the last known state, or "unknown";
* the claim that lets one request create the meeting while the others wait for its createTime (with the row
  lock in :func:`lms.live_sessions.services.ensure_meeting` on PostgreSQL as a second guard).

Both must be seen by other workers while this request still runs, so what is written here is committed at once
(:func:`lms.core.db.commit_now`), like the create lock always was. That also matters on SQLite: ``store.add``
uses a connection of its own and would wait for the write lock that this request's session may hold (the
launch's ``last_seen_at``), so the session is committed before every claim. Only call these from views, before
anything of the request's own work is written.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select

from lms.bbb import BBBClient, BBBError
from lms.core.db import commit_now
from lms.core.extensions import db
from lms.core.state import get_state_store
from lms.live_sessions import services
from lms.live_sessions.models import LiveSession

T = TypeVar("T")

#: how long a state read from BBB counts as current (seconds)
FRESH_SECONDS = 3.0
#: how long the last known state may stand in while another request asks BBB (seconds)
LAST_KNOWN_SECONDS = 30


@dataclass(frozen=True)
class MeetingState:
    """What BBB said about the session's meeting. ``known`` is False when nobody knows yet (another request is
    asking BBB right now and there is no recent answer)."""

    exists: bool
    running: bool = False
    moderators: int = 0
    create_time: int | None = None
    known: bool = True


NO_MEETING = MeetingState(exists=False)
UNKNOWN = MeetingState(exists=False, known=False)


def _key(live: LiveSession) -> str:
    # per createTime: a new meeting of the same session never sees the old one's state
    return f"live:meeting:{live.id}:{live.meeting_create_time}"


def _claim_ttl(client: BBBClient) -> int:
    """A claim outlives the call it covers (``client.timeout`` is the whole budget, retries included)."""
    return math.ceil(client.timeout) + 2


def _claim(key: str, ttl: int) -> bool:
    store = get_state_store()
    if store.get(key) is not None:
        return False  # held by another request: a read, not a write that would contend for SQLite's lock
    commit_now()  # see the module docstring: publish the session's writes, release SQLite's write lock
    return store.add(key, 1, ttl)


def _release(key: str) -> None:
    get_state_store().pop(key)
    commit_now()


def _wait_for(check: Callable[[], T | None], seconds: float) -> T | None:
    """Ask ``check`` until it answers (not None) or ``seconds`` have passed: for another worker's result."""
    deadline = time.monotonic() + seconds
    pause = 0.02
    while True:
        found = check()
        if found is not None:
            return found
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.1)


def _from_entry(entry: dict[str, Any]) -> MeetingState:
    return MeetingState(
        exists=bool(entry["exists"]),
        running=bool(entry["running"]),
        moderators=int(entry["moderators"]),
        create_time=entry["create_time"],
    )


def remember(live: LiveSession, state: MeetingState) -> None:
    """Publish what is known about the meeting now (after a create, after a poll)."""
    entry = {
        "exists": state.exists,
        "running": state.running,
        "moderators": state.moderators,
        "create_time": state.create_time,
        "at": time.time(),
    }
    get_state_store().set(_key(live), entry, LAST_KNOWN_SECONDS)
    commit_now()


def forget(live: LiveSession) -> None:
    """Drop the cached state (the next reader asks BBB)."""
    get_state_store().pop(_key(live))
    commit_now()


def _ask_bbb(client: BBBClient, live: LiveSession) -> MeetingState:
    info = services.current_meeting(client, live)
    if info is None:
        return NO_MEETING
    return MeetingState(
        exists=True, running=info.running, moderators=info.moderator_count, create_time=info.create_time
    )


def meeting_state(client: BBBClient, live: LiveSession, *, wait: bool = False) -> MeetingState:
    """The meeting's state, from the shared cache while it is fresh; else one request asks BBB.

    The others get the last known state, or :data:`UNKNOWN` — or, with ``wait`` (joins, which must know),
    wait for the refreshing request's answer. Raises :class:`lms.bbb.BBBError` only to the request that asked
    BBB; its claim then stays until it expires, so a failing BBB is not asked by every poll."""
    if live.meeting_create_time is None:
        return NO_MEETING  # never created: nothing to ask
    store = get_state_store()
    key = _key(live)
    entry = store.get(key)
    if entry is not None and time.time() - float(entry["at"]) < FRESH_SECONDS:
        return _from_entry(entry)
    if _claim(key + ":refreshing", _claim_ttl(client)):
        state = _ask_bbb(client, live)  # a BBBError leaves the claim in place until it expires
        remember(live, state)
        _release(key + ":refreshing")
        return state
    if entry is not None:
        return _from_entry(entry)
    if not wait:
        return UNKNOWN
    answer = _wait_for(lambda: store.get(key), _claim_ttl(client))
    if answer is not None:
        return _from_entry(answer)
    return _ask_bbb(client, live)  # the refreshing request vanished: ask ourselves


def _create_time_in_db(live: LiveSession) -> int | None:
    return db.session.execute(
        select(LiveSession.meeting_create_time).where(LiveSession.id == live.id)
    ).scalar_one_or_none()


def create_once(
    client: BBBClient, live: LiveSession, chamber_slug: str, urls: services.MeetingUrls
) -> tuple[int, bool]:
    """Create the session's meeting unless another request does; returns (createTime, created by us).

    Of many simultaneous joins one claims the create (shared by all workers), calls BBB and commits the
    createTime; the others wait for it. Should the claimant vanish, the others create after its claim ran out:
    BBB's create is idempotent, the row lock in ``ensure_meeting`` lets one of them do it."""
    observed = live.meeting_create_time
    key = f"live:create:{live.id}"
    ttl = _claim_ttl(client) + 3

    def someone_elses() -> int | None:
        current = _create_time_in_db(live)
        return current if current is not None and current != observed else None

    claimed = _claim(key, ttl)
    if not claimed:
        found = _wait_for(someone_elses, ttl)
        if found is not None:
            return found, False
    try:
        create_time, created = services.ensure_meeting(client, live, observed, chamber_slug, urls)
        commit_now()  # releases the row lock (PostgreSQL): the others now find the meeting
    except BBBError:
        db.session.rollback()
        if claimed:
            _release(key)
        raise
    if claimed:
        _release(key)
    if created:
        remember(live, MeetingState(exists=True, create_time=create_time))
    return create_time, created
