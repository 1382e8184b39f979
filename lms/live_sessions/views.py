"""Live-tutorial pages after a launch (``/t/<lt>/live/...``): trainers plan, run and follow up tutorials,
volunteers sign up, get calendar entries and join. BBB calls happen in services; every failure of BBB becomes
a readable page with a retry, never a 5xx traceback."""

from __future__ import annotations

import logging
from typing import Any

from flask import Response, abort, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.bbb import BBBError, BBBUnavailable, ChecksumError
from lms.core.blueprints import tool_blueprint
from lms.core.db import commit_now, utcnow
from lms.core.extensions import db
from lms.core.security import current_role, role_required
from lms.core.state import get_state_store
from lms.core.urls import tool_url
from lms.courses.setup import current_course
from lms.live_sessions import exports, ics, meetings, queries, services
from lms.live_sessions.client import bbb_configured, get_client
from lms.live_sessions.models import SIGNUP_CONFIRMED, SIGNUP_WAITLISTED, SIGNUP_WITHDRAWN, LiveSession
from lms.live_sessions.timeutil import live_date, live_time, live_when, utc_to_local
from lti.roles import Role

log = logging.getLogger(__name__)
bp = tool_blueprint("live_sessions", __name__, "/live")

CHECKSUM_NOTE_KEY = "live:bbb-checksum-error"


# ---------------------------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------------------------


def _user() -> Any:
    return g.launch.user


def _chamber_id() -> int:
    return int(g.launch.user.chamber_id)


def _course_id() -> int | None:
    return g.launch.course_id


def is_trainer() -> bool:
    return current_role() >= Role.TRAINER


def _is_coordinator() -> bool:
    return current_role() >= Role.COORDINATOR


def _load(session_id: int, *, manage: bool = False) -> LiveSession:
    """The session, if this launch may see it (tenant, course and audience checked); else 404.

    Trainers see what they manage (:func:`queries.managed_clause`) and, like volunteers, what their course may
    see; ``manage=True`` (edit, cancel, attendance, recordings, the moderator's join) only the former.
    """
    live = None
    if is_trainer():
        live = queries.managed_session(session_id, _user(), coordinator=_is_coordinator())
    g.live_manages = live is not None
    if live is None and not manage:
        live = queries.visible_session(session_id, _chamber_id(), _course_id())
    if live is None:
        abort(404)
    return live


def _manages() -> bool:
    """Whether this launch manages the session loaded by :func:`_load` in this request."""
    return bool(g.get("live_manages"))


def _modules() -> list[Any]:
    try:
        return list(current_course().modules)
    except Exception:  # content not loaded (tests of other domains): no module links
        return []


def _meeting_urls(live: LiveSession) -> services.MeetingUrls:
    token = live.callback_token
    return services.MeetingUrls(
        end=tool_url("live_public.end_callback", token=token),
        recording_ready=tool_url("live_public.recording_ready_callback", token=token),
        analytics=tool_url("live_public.analytics_callback", token=token),
        # BBB sends everyone who leaves to one URL per meeting: a page without a launch token (a launch in
        # it would hand the first joiner's session to all the others)
        logout=tool_url("live_public.left", session_id=live.id, signature=services.left_signature(live)),
    )


def _chamber_slug() -> str:
    return str(g.launch.user.chamber.slug)


def checksum_problem() -> str | None:
    """When BBB last rejected our checksum (shown to coordinators), if recently."""
    try:
        value = get_state_store().get(CHECKSUM_NOTE_KEY)
    except Exception:
        return None
    return str(value) if value else None


def _note_checksum_problem() -> None:
    log.error(
        "BigBlueButton rejected the checksum (checksumError): MEDIENWERK_BBB_SECRET or MEDIENWERK_BBB_CHECKSUM "
        "does not match the server; run 'medienwerk bbb check'"
    )
    try:  # kept although the request fails: the coordinators' pages show it
        get_state_store().set(CHECKSUM_NOTE_KEY, utcnow().isoformat(), 24 * 3600)
        commit_now()
    except Exception:  # the note is a convenience: the error page must still come
        db.session.rollback()


def _bbb_failure(exc: BBBError, live: LiveSession | None, *, retry: str | None = None) -> tuple[str, int]:
    """A readable page for a failed BBB call, with a retry button. Nothing about the secret is shown."""
    db.session.rollback()  # nothing of the failed request is kept (the checksum note below commits alone)
    if isinstance(exc, ChecksumError):
        _note_checksum_problem()
        kind, status = "config", 502
    elif isinstance(exc, BBBUnavailable):
        log.warning("BigBlueButton unavailable: %s", exc.message_key)
        kind, status = "unavailable", 503
    else:
        log.warning("BigBlueButton refused a call: %s", exc.message_key)
        kind, status = "refused", 502
    return render_template(
        "live_sessions/bbb_error.html",
        kind=kind,
        live=live,
        retry=retry,
        message_key=exc.message_key,
        coordinator=current_role() >= Role.COORDINATOR,
        timeout=current_app.config["BBB_TIMEOUT"],
        display_name=request.form.get("display_name", ""),
    ), status


def _common() -> dict[str, Any]:
    return {
        "bbb_ready": bbb_configured(),
        # on a session's pages: whether this launch manages it; elsewhere: the trainer role
        "is_trainer": g.live_manages if "live_manages" in g else is_trainer(),
        "is_coordinator": current_role() >= Role.COORDINATOR,
        "checksum_problem": checksum_problem() if current_role() >= Role.COORDINATOR else None,
        "now": utcnow(),
    }


# ---------------------------------------------------------------------------------------------------------
# template helpers
# ---------------------------------------------------------------------------------------------------------

bp.add_app_template_filter(live_when, "live_when")
bp.add_app_template_filter(live_time, "live_time")
bp.add_app_template_filter(live_date, "live_date")


# ---------------------------------------------------------------------------------------------------------
# lists and details
# ---------------------------------------------------------------------------------------------------------


@bp.route("/")
def index() -> str:
    user = _user()
    if is_trainer():
        cards = queries.sessions_for_trainer(user, coordinator=_is_coordinator())
        past = queries.sessions_for_trainer(user, coordinator=_is_coordinator(), past=True)
    else:
        cards = queries.upcoming_for_volunteer(user.id, _chamber_id(), _course_id())
        past = []
    return render_template("live_sessions/index.html", cards=cards, past=past, **_common())


@bp.route("/<int:session_id>")
def detail(session_id: int) -> str:
    live = _load(session_id)
    card = queries.card_for(live, _user().id)
    signups = queries.signups(live) if _manages() else []
    modules = {m.id: m for m in _modules()}
    return render_template(
        "live_sessions/detail.html",
        live=live,
        card=card,
        signups=signups,
        modules=modules,
        window_open=services.join_window_open(live),
        needs_name=not _user().display_name,
        recordings=queries.recordings(live, published_only=not _manages()),
        **_common(),
    )


# ---------------------------------------------------------------------------------------------------------
# scheduling (trainers)
# ---------------------------------------------------------------------------------------------------------


def _form_values(live: LiveSession | None) -> dict[str, Any]:
    if live is None:
        return {
            "duration": "60",
            "early_entry": "15",
            "weeks": "1",
            "audience": "course",
            "mute_on_start": "1",
            "wait_for_moderator": "1",
            "tz": "",
        }
    local = utc_to_local(live.starts_at, live.timezone)
    values: dict[str, Any] = {
        "title": live.title,
        "description": live.description,
        "date": local.date().isoformat(),
        "time": f"{local:%H:%M}",
        "tz": live.timezone,
        "duration": str(live.duration_minutes),
        "capacity": "" if live.capacity is None else str(live.capacity),
        "audience": live.audience,
        "welcome": live.welcome,
        "early_entry": str(live.early_entry_minutes),
        "weeks": "1",
    }
    if live.signup_deadline is not None:
        d = utc_to_local(live.signup_deadline, live.timezone)
        values["deadline_date"], values["deadline_time"] = d.date().isoformat(), f"{d:%H:%M}"
    for flag in (
        "record",
        "mute_on_start",
        "wait_for_moderator",
        "lock_cam",
        "lock_mic",
        "lock_private_chat",
        "lock_public_chat",
    ):
        values[flag] = "1" if getattr(live, flag) else ""
    return values


def _render_form(
    live: LiveSession | None,
    values: dict[str, Any],
    selected_modules: list[str],
    selected_trainers: list[int],
    errors: dict[str, str],
    status: int = 200,
) -> tuple[str, int]:
    trainers = queries.chamber_trainers(_chamber_id(), exclude_user_id=_user().id)
    return render_template(
        "live_sessions/form.html",
        live=live,
        values=values,
        errors=errors,
        modules=_modules(),
        selected_modules=selected_modules,
        trainers=trainers,
        selected_trainers=selected_trainers,
        default_tz=current_app.config["TIMEZONE"],
        has_course=_course_id() is not None,
        **_common(),
    ), status


def _parse(live: LiveSession | None) -> tuple[services.SessionInput | None, dict[str, str]]:
    trainers = [u.id for u in queries.chamber_trainers(_chamber_id())]
    return services.parse_session_form(
        request.form,
        request.form.getlist,
        default_tz=current_app.config["TIMEZONE"],
        allowed_modules=[m.id for m in _modules()],
        allowed_co_trainers=trainers,
        editing=live is not None,
    )


def _rerender(live: LiveSession | None, errors: dict[str, str]) -> tuple[str, int]:
    """The form again with everything the trainer typed (nothing entered is lost)."""
    selected_trainers = []
    for raw in request.form.getlist("co_trainers"):
        if raw.isdigit():
            selected_trainers.append(int(raw))
    return _render_form(live, request.form.to_dict(), request.form.getlist("modules"), selected_trainers, errors, 422)


@bp.route("/new", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def new() -> Any:
    if request.method == "GET":
        return _render_form(None, _form_values(None), [], [], {})
    data, errors = _parse(None)
    if data is None:
        return _rerender(None, errors)
    if data.audience == "course" and _course_id() is None:
        return _rerender(
            None, {"audience": _("Ohne Kurs gestartet: bitte „alle Botschafter*innen der Kammer“ wählen.")}
        )
    try:
        sessions = services.schedule_sessions(
            data, chamber_id=_chamber_id(), course_id=_course_id(), created_by=_user()
        )
    except services.LiveError as exc:
        return _rerender(None, {"date": str(exc)})
    return redirect(url_for(".detail", session_id=sessions[0].id, created=len(sessions)), code=303)


@bp.route("/<int:session_id>/edit", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def edit(session_id: int) -> Any:
    live = _load(session_id, manage=True)
    if request.method == "GET":
        return _render_form(live, _form_values(live), list(live.module_ids or []), [u.id for u in live.co_trainers], {})
    data, errors = _parse(live)
    if data is None:
        return _rerender(live, errors)
    try:
        notified = services.edit_session(live, data)
    except services.LiveError as exc:
        return _rerender(live, {"date": str(exc)})
    return redirect(url_for(".detail", session_id=live.id, saved=1, notified=int(notified)), code=303)


@bp.route("/<int:session_id>/cancel", methods=["GET", "POST"])
@role_required(Role.TRAINER)
def cancel(session_id: int) -> Any:
    live = _load(session_id, manage=True)
    if request.method == "GET":
        return render_template(
            "live_sessions/cancel.html", live=live, card=queries.card_for(live, _user().id), **_common()
        )
    services.cancel_session(live)
    return redirect(url_for(".detail", session_id=live.id, cancelled=1), code=303)


# ---------------------------------------------------------------------------------------------------------
# sign-up (volunteers)
# ---------------------------------------------------------------------------------------------------------


@bp.post("/<int:session_id>/signup")
def signup(session_id: int) -> Any:
    live = _load(session_id)
    if _manages():
        abort(403)  # who runs the tutorial needs no seat in it
    try:
        result = services.sign_up(live, _user())
    except services.LiveError as exc:
        return render_template(
            "live_sessions/message.html",
            live=live,
            title=_("Anmeldung nicht möglich"),
            message=str(exc),
            **_common(),
        ), 409
    return redirect(url_for(".detail", session_id=live.id, signed=result.status), code=303)


@bp.post("/<int:session_id>/withdraw")
def withdraw(session_id: int) -> Any:
    live = _load(session_id)
    services.withdraw(live, _user())
    return redirect(url_for(".detail", session_id=live.id, withdrawn=1), code=303)


# ---------------------------------------------------------------------------------------------------------
# joining
# ---------------------------------------------------------------------------------------------------------


def _display_name() -> tuple[str | None, str | None]:
    name = _user().display_name
    if name:
        return name, None
    typed = " ".join(request.form.get("display_name", "").split())
    if not 2 <= len(typed) <= 80:
        return None, _("Bitte gib einen Namen ein, mit dem du im Raum angezeigt wirst (2 bis 80 Zeichen).")
    return typed, None


def _waiting(live: LiveSession, display_name: str | None) -> str:
    return render_template(
        "live_sessions/waiting.html",
        live=live,
        display_name=display_name,
        needs_name=not _user().display_name,
        **_common(),
    )


@bp.post("/<int:session_id>/join")
def join(session_id: int) -> Any:
    live = _load(session_id)
    moderator = _manages()
    user = _user()
    client = get_client()
    if client is None:
        return render_template(
            "live_sessions/message.html",
            live=live,
            title=_("Live-Raum nicht eingerichtet"),
            message=_(
                "Für medienwerk ist noch kein BigBlueButton-Server eingerichtet. "
                "Die Koordination deiner Kammer kann das ändern."
            ),
            **_common(),
        ), 503
    if not services.join_window_open(live):
        return render_template(
            "live_sessions/message.html",
            live=live,
            title=_("Der Raum ist nicht geöffnet"),
            message=_("Du kannst ab %(time)s bis zum Ende beitreten.", time=live_time(live.opens_at, live.timezone)),
            **_common(),
        ), 409
    if not services.may_join(live, user, moderator=moderator):
        return render_template(
            "live_sessions/message.html",
            live=live,
            title=_("Nicht angemeldet"),
            message=_("Melde dich zuerst für dieses Tutorial an."),
            **_common(),
        ), 403
    display_name, problem = _display_name()
    if display_name is None:
        return render_template(
            "live_sessions/waiting.html",
            live=live,
            display_name=None,
            needs_name=True,
            name_error=problem,
            ask_only=True,
            **_common(),
        ), 422
    retry = url_for(".join", session_id=live.id)
    try:
        # the meeting's state from the cache all workers share: a surge of joins asks BBB a few times, not each
        state = meetings.meeting_state(client, live, wait=True)
        if state.exists and state.create_time is not None:
            create_time = state.create_time
            if not moderator and live.wait_for_moderator and state.moderators == 0:
                return _waiting(live, display_name)
        else:
            if not moderator and live.wait_for_moderator:
                return _waiting(live, display_name)
            # one request creates (a claim shared by all workers); the others get its createTime
            create_time, _created = meetings.create_once(client, live, _chamber_slug(), _meeting_urls(live))
        url = services.join_url(
            client, live, user, moderator=moderator, display_name=display_name, create_time=create_time
        )
    except BBBError as exc:
        return _bbb_failure(exc, live, retry=retry)
    return redirect(url, code=303)


@bp.route("/<int:session_id>/waiting")
def waiting(session_id: int) -> str:
    live = _load(session_id)
    return _waiting(live, None)


@bp.route("/<int:session_id>/status.json")
def status(session_id: int) -> Response:
    """Polled by the waiting page. Many browsers poll at once: the answer comes from the cache all workers
    share (:mod:`lms.live_sessions.meetings`); while one request asks BBB, the others get the last known state
    or ``"known": false`` — a hanging BBB keeps one request waiting, not all."""
    live = _load(session_id)
    window = services.join_window_open(live)
    body: dict[str, Any] = {
        "open": window,
        "cancelled": live.cancelled,
        "running": False,
        "moderator": False,
        "known": True,
    }
    client = get_client()
    if window and client is not None:
        try:
            state = meetings.meeting_state(client, live)
        except BBBError as exc:
            body["error"] = "unavailable" if isinstance(exc, BBBUnavailable) else "refused"
        else:
            body.update(running=state.running, moderator=state.moderators > 0, known=state.known)
    body["ready"] = bool(window and body["running"] and (body["moderator"] or not live.wait_for_moderator))
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response


# ---------------------------------------------------------------------------------------------------------
# attendance (trainers)
# ---------------------------------------------------------------------------------------------------------


@bp.route("/<int:session_id>/attendance")
@role_required(Role.TRAINER)
def attendance(session_id: int) -> str:
    live = _load(session_id, manage=True)
    return render_template(
        "live_sessions/attendance.html",
        live=live,
        **_attendance_lists(queries.attendance_rows(live)),
        percent=current_app.config["LIVE_ATTENDED_PERCENT"],
        errors={},
        **_common(),
    )


def _attendance_lists(rows: list[queries.AttendanceRow]) -> dict[str, list[queries.AttendanceRow]]:
    """Participants (whose attendance counts) and the moderation (trainers, co-trainers): listed apart."""
    return {
        "rows": [r for r in rows if not r.moderator],
        "moderators": [r for r in rows if r.moderator],
    }


@bp.post("/<int:session_id>/attendance/<int:user_id>")
@role_required(Role.TRAINER)
def correct(session_id: int, user_id: int) -> Any:
    live = _load(session_id, manage=True)
    all_rows = queries.attendance_rows(live)
    rows = {r.user.id: r for r in all_rows if not r.moderator}
    if user_id not in rows:
        abort(404)  # not in the list, or moderation (its attendance does not count)
    attended = request.form.get("attended") == "1"
    try:
        services.correct_attendance(live, rows[user_id].user, attended, request.form.get("reason", ""), _user())
    except services.LiveError as exc:
        return render_template(
            "live_sessions/attendance.html",
            live=live,
            **_attendance_lists(all_rows),
            percent=current_app.config["LIVE_ATTENDED_PERCENT"],
            errors={user_id: str(exc)},
            reason=request.form.get("reason", ""),
            **_common(),
        ), 422
    return redirect(url_for(".attendance", session_id=live.id, corrected=user_id) + f"#person-{user_id}", code=303)


@bp.route("/<int:session_id>/attendance.csv")
@role_required(Role.TRAINER)
def attendance_csv(session_id: int) -> Response:
    live = _load(session_id, manage=True)
    local = utc_to_local(live.starts_at, live.timezone)
    return Response(
        exports.attendance_csv(queries.attendance_rows(live)),
        content_type="text/csv; charset=utf-8",  # content_type, not mimetype: that would add a second charset
        headers={"Content-Disposition": f'attachment; filename="teilnahme-{local:%Y-%m-%d}-{live.id}.csv"'},
    )


# ---------------------------------------------------------------------------------------------------------
# recordings
# ---------------------------------------------------------------------------------------------------------


@bp.route("/<int:session_id>/recordings", methods=["GET", "POST"])
def recordings(session_id: int) -> Any:
    live = _load(session_id)
    if request.method == "POST":  # "refresh from BBB"
        if not _manages():
            abort(403)
        client = get_client()
        if client is None:
            abort(409)
        try:
            services.sync_recordings(client, live)
        except BBBError as exc:
            return _bbb_failure(exc, live)
        return redirect(url_for(".recordings", session_id=live.id, done="sync"), code=303)
    return render_template(
        "live_sessions/recordings.html",
        live=live,
        recordings=queries.recordings(live, published_only=not _manages()),
        retention=current_app.config["LIVE_RECORDING_RETENTION_DAYS"],
        **_common(),
    )


@bp.post("/<int:session_id>/recordings/<int:recording_id>/<any(publish, unpublish, delete):action>")
@role_required(Role.TRAINER)
def recording_action(session_id: int, recording_id: int, action: str) -> Any:
    live = _load(session_id, manage=True)
    rec = queries.recording_of(live, recording_id)
    if rec is None:
        abort(404)
    client = get_client()
    if client is None:
        abort(409)
    try:
        if action == "delete":
            services.delete_recording(client, rec)
        else:
            services.set_published(client, rec, action == "publish")
    except services.LiveError:
        abort(409)
    except BBBError as exc:
        return _bbb_failure(exc, live)
    return redirect(url_for(".recordings", session_id=live.id, done=action), code=303)


# ---------------------------------------------------------------------------------------------------------
# calendar
# ---------------------------------------------------------------------------------------------------------


@bp.route("/<int:session_id>/calendar.ics")
def session_ics(session_id: int) -> Response:
    live = _load(session_id)
    return Response(
        ics.session_calendar(live),
        content_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="tutorial-{live.id}.ics"'},
    )


@bp.route("/calendar", methods=["GET", "POST"])
def calendar() -> Any:
    user = _user()
    if request.method == "POST":
        if request.form.get("action") == "renew":
            services.renew_feed_token(user)
        else:
            services.set_reminders(user, request.form.get("reminders") == "1")
        return redirect(url_for(".calendar", saved=1), code=303)
    profile = services.profile_for(user)

    feed_url = tool_url("live_public.feed", token=profile.feed_token)
    return render_template(
        "live_sessions/calendar.html", profile=profile, feed_url=feed_url, has_email=bool(user.email), **_common()
    )


# signup status names for templates
STATUS_LABELS = {
    SIGNUP_CONFIRMED: _l("angemeldet"),
    SIGNUP_WAITLISTED: _l("auf der Warteliste"),
    SIGNUP_WITHDRAWN: _l("abgemeldet"),
}


@bp.app_context_processor
def _labels() -> dict[str, Any]:
    return {"live_status_labels": STATUS_LABELS}
