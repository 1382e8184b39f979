"""Routes without a launch: BBB's callbacks and the personal calendar feed.

* ``GET|POST /live-callbacks/<token>/end`` — the end callback (§5.1). BBB does not sign it: the unguessable
  per-session token in the path finds the session, the meetingID must match, and BBB is asked whether the
  meeting really stopped (in a job) before anything changes.
* ``POST /live-callbacks/<token>/recording-ready`` — ``signed_parameters`` HS256 JWT (§5.2).
* ``POST /live-callbacks/<token>/analytics`` — JSON with an HS512 ``Authorization: Bearer`` JWT (§5.3).
* ``GET /live-feed/<token>.ics`` — a person's calendar (a long random token; calendar apps fetch it
  without a launch).
* ``GET /live-left/<id>/<signature>`` — where BBB sends people who leave the room (its ``logoutURL``, one URL
  for the whole meeting, so it carries no launch token: it names the tutorial and says how to go on).

Callbacks answer fast (the BBB work runs in jobs) and tolerate duplicates.
"""

from __future__ import annotations

import hmac
import logging

from flask import Blueprint, Response, abort, current_app, render_template, request
from flask_babel import force_locale

from lms.bbb import (
    CallbackAuthError,
    parse_analytics_payload,
    verify_analytics_callback,
    verify_recording_ready_callback,
)
from lms.live_sessions import ics, queries, services
from lms.live_sessions.jobs import confirm_meeting_end, sync_session_recordings
from lms.mail.services import recipient_language

log = logging.getLogger(__name__)
bp = Blueprint("live_public", __name__)


def _ok(status: int = 200) -> Response:
    return Response("ok", status=status, mimetype="text/plain")


def _session_or_404(token: str):
    live = queries.session_by_callback_token(token)
    if live is None:
        abort(404)
    return live


@bp.route("/live-callbacks/<token>/end", methods=["GET", "POST"])
def end_callback(token: str) -> Response:
    live = _session_or_404(token)
    if request.values.get("meetingID") != live.meeting_id:
        abort(400)
    if live.meeting_ended_at is not None:
        return _ok()  # a duplicate

    confirm_meeting_end.enqueue(live.id)
    return _ok(202)


@bp.post("/live-callbacks/<token>/recording-ready")
def recording_ready_callback(token: str) -> Response:
    live = _session_or_404(token)
    try:
        ready = verify_recording_ready_callback(
            request.form.get("signed_parameters"), current_app.config.get("BBB_SECRET") or ""
        )
    except CallbackAuthError as exc:
        log.warning("recording-ready callback rejected: %s", exc.message_key)
        abort(401)
    if ready.meeting_id != live.meeting_id:
        abort(400)
    services.note_recording(live, ready.record_id)

    sync_session_recordings.enqueue_after_commit(live.id)
    return _ok()


@bp.post("/live-callbacks/<token>/analytics")
def analytics_callback(token: str) -> Response:
    live = _session_or_404(token)
    try:
        verify_analytics_callback(request.headers.get("Authorization"), current_app.config.get("BBB_SECRET") or "")
    except CallbackAuthError as exc:
        log.warning("analytics callback rejected: %s", exc.message_key)
        abort(401)
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        abort(400)
    report = parse_analytics_payload(payload)
    if report.meeting_id != live.meeting_id:
        abort(400)
    services.record_analytics(live, report)
    return _ok()


@bp.route("/live-feed/<token>.ics")
def feed(token: str) -> Response:
    profile = queries.profile_by_feed_token(token)
    if profile is None:
        abort(404)
    with force_locale(recipient_language(profile.user)):  # the feed owner's language, as in their mails
        body = ics.feed_calendar(queries.feed_sessions(profile.user_id))
    return Response(
        body, content_type="text/calendar; charset=utf-8", headers={"Cache-Control": "private, max-age=900"}
    )


@bp.route("/live-left/<int:session_id>/<signature>")
def left(session_id: int, signature: str) -> str:
    """The page after leaving the room. Without a launch: no names, no links into the course, only the
    tutorial's title and time (which everyone in the room knew)."""
    live = queries.session_by_id(session_id)
    if live is None or not hmac.compare_digest(signature, services.left_signature(live)):
        abort(404)
    return render_template("live_sessions/left.html", live=live, recordings_later=live.record)
