"""A BigBlueButton test double: a small Flask app that answers like BBB's API.

Used by the tests and by ``medienwerk demo``. It follows /work/shared/reference/bbb-api.md
(§ numbers below): real checksum verification over the raw query string (§1.1), the meeting
lifecycle (§4) with an injectable clock, XML answers shaped like BBB's templates (§2, §3),
recordings with publish/unpublish/delete/update (§3.7–§3.10) and the callbacks BBB makes (§5):
end (GET, unsigned), recording ready (POST ``signed_parameters`` HS256 JWT), analytics (POST JSON
with an HS512 Bearer JWT).

Deliberate simplifications (all documented on the methods):

* ``join`` marks the user as present at once (real BBB waits until the browser opens the
  client) and redirects to a small German page of the double (in the tool's style sheet, which the
  double serves itself) with a *Raum verlassen* button that follows the ``logoutURL``.
* Attendees are keyed by ``userID``: joining twice with the same ID keeps one attendee.
* A meeting is removed as soon as it ends (BBB keeps it a little while).
* A recording appears right when a ``record=true`` meeting ends — via ``end``, or when the last
  user left — published unless ``meta_double-autopublish=false`` was passed to create (or the
  double was made with ``publish_recordings=False``).
* Join errors answer with the XML error (or redirect to ``errorRedirectUrl`` with ``?errors=``)
  instead of redirecting to the server's front page.

Control surface for tests: ``app.extensions["bbb_double"]`` is the :class:`BBBDouble`
(``meetings``, ``recordings``, ``calls``, ``create_count``, ``call_count``, ``join``, ``leave``,
``end``, ``set_attendee``, ``expire``, ``fail_next``, ``respond_next``, ``hang_seconds``,
``release_hangs``, ``callback_log``, ``wait_for_callbacks``, ``reset``).

The double prints nothing; it never logs the secret.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import string
import threading
import time
import xml.etree.ElementTree as ET  # noqa: S405 - used to *build* XML only
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import jwt
import requests
from flask import Blueprint, Flask, Response, abort, redirect, request, send_from_directory, url_for
from jwt.algorithms import HMACAlgorithm
from markupsafe import escape
from werkzeug.wrappers import Response as BaseResponse

__all__ = [
    "ApiCall",
    "BBBDouble",
    "CallbackRecord",
    "DoubleAttendee",
    "DoubleMeeting",
    "DoubleRecording",
    "create_bbb_double",
]

_ALGORITHMS_BY_LENGTH = {40: "sha1", 64: "sha256", 96: "sha384", 128: "sha512"}
_META_PARAM = re.compile(r"meta_([a-zA-Z][a-zA-Z0-9-]*)\Z")
_XML_TYPE = "text/xml;charset=utf-8"
_AUTOPUBLISH_META = "double-autopublish"
_RECORDING_READY_META = (
    "bbb-recording-ready-url",
    "bn-recording-ready-url",
    "canvas-recording-ready-url",
)

_MSG_NOT_FOUND = "A meeting with that ID does not exist"
_MSG_NO_RECORDINGS = "We could not find recordings"


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class DoubleAttendee:
    user_id: str
    internal_user_id: str
    full_name: str
    role: str
    joined_at: float
    is_presenter: bool = False
    is_listening_only: bool = False
    has_joined_voice: bool = False
    has_video: bool = False
    client_type: str = "HTML5"
    guest: bool = False
    custom_data: dict[str, str] = field(default_factory=dict)


@dataclass
class DoubleMeeting:
    meeting_id: str
    name: str
    internal_meeting_id: str
    create_time: int  # ms
    create_date: str
    attendee_pw: str
    moderator_pw: str
    voice_bridge: str
    params: dict[str, str]
    metadata: dict[str, str]
    record: bool
    duration: int
    max_participants: int
    guest_policy: str
    keep_events: bool
    dial_number: str = "613-555-1234"
    attendees: dict[str, DoubleAttendee] = field(default_factory=dict)
    waiting_guests: dict[str, DoubleAttendee] = field(default_factory=dict)
    has_user_joined: bool = False
    start_time: int = 0  # ms
    end_time: int = 0  # ms
    forcibly_ended: bool = False
    last_left_at: float | None = None
    #: (event, time, user_id, internal_user_id, name, role) for the analytics callback
    events: list[tuple[str, float, str, str, str, str]] = field(default_factory=list)

    @property
    def running(self) -> bool:
        return bool(self.attendees) and not self.end_time

    @property
    def moderator_count(self) -> int:
        return sum(1 for a in self.attendees.values() if a.role == "MODERATOR")


@dataclass
class DoubleRecording:
    record_id: str
    meeting_id: str
    internal_meeting_id: str
    name: str
    state: str  # published | unpublished | deleted
    start_time: int
    end_time: int
    participants: int
    metadata: dict[str, str]
    playback_url: str

    @property
    def published(self) -> bool:
        return self.state == "published"


@dataclass
class ApiCall:
    """One request to the API (logged on arrival; ``outcome`` filled in when answered)."""

    name: str
    params: dict[str, str]
    method: str
    at: float
    #: ``SUCCESS``, ``FAILED:<messageKey>``, ``HTTP <status>`` or ``canned`` (``respond_next``)
    outcome: str = "pending"

    @property
    def meeting_id(self) -> str | None:
        return self.params.get("meetingID")


@dataclass(frozen=True)
class CallbackRecord:
    kind: str  # end | recording_ready | analytics
    url: str
    status: int | None
    error: str | None = None


@dataclass
class _Canned:
    remaining: int
    status: int
    body: str
    content_type: str
    calls: frozenset[str] | None


class _LenientHMAC(HMACAlgorithm):
    """BBB signs with its shared secret whatever its length (no PyJWT key-length warning)."""

    def check_key_length(self, key: bytes) -> str | None:
        return None


def _make_jwt() -> jwt.PyJWT:
    codec = jwt.PyJWT()
    jws = getattr(codec, "_jws", None)
    if jws is not None and hasattr(jws, "register_algorithm"):
        for name, hash_alg in (("HS256", HMACAlgorithm.SHA256), ("HS512", HMACAlgorithm.SHA512)):
            jws.unregister_algorithm(name)
            jws.register_algorithm(name, _LenientHMAC(hash_alg))
    return codec


_JWT = _make_jwt()


def _rand(n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _truthy(value: str | None) -> bool:
    # Java Boolean.parseBoolean: only "true" (any case) is true (§1.4.5)
    return (value or "").strip().lower() == "true"


def _int_param(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def _java_date(ms: int) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(ms / 1000))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def _snake(key: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", key).replace("-", "_").lower()


# --------------------------------------------------------------------------------------------
# XML
# --------------------------------------------------------------------------------------------

XmlItems = list[tuple[str, Any]]


def _fill(parent: ET.Element, items: XmlItems) -> None:
    for tag, value in items:
        child = ET.SubElement(parent, tag)
        if isinstance(value, list):
            _fill(child, value)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        elif value is not None:
            child.text = str(value)


def _xml(items: XmlItems, status: int = 200) -> Response:
    root = ET.Element("response")
    _fill(root, items)
    body = ET.tostring(root, encoding="unicode", short_empty_elements=False)
    return Response(body, status=status, content_type=_XML_TYPE)


def _success(items: XmlItems | None = None) -> Response:
    return _xml([("returncode", "SUCCESS"), *(items or [])])


def _failed(key: str, message: str) -> Response:
    return _xml([("returncode", "FAILED"), ("messageKey", key), ("message", message)])


def _failed_errors(errors: Iterable[tuple[str, str]]) -> Response:
    return _xml(
        [
            ("returncode", "FAILED"),
            ("errors", [("error", [("key", k), ("message", m)]) for k, m in errors]),
        ]
    )


class _ApiError(Exception):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(key)
        self.key = key
        self.message = message


# --------------------------------------------------------------------------------------------
# The double
# --------------------------------------------------------------------------------------------


class BBBDouble:
    """State and behaviour of the fake BBB server; mount it with :meth:`init_app`."""

    def __init__(
        self,
        secret: str,
        checksum: str | Iterable[str] = "sha256",
        *,
        clock: Callable[[], float] = time.time,
        hang_seconds: float = 0.0,
        flavor: str = "bbb",
        empty_meeting_seconds: float = 300.0,
        last_user_left_seconds: float = 60.0,
        publish_recordings: bool = True,
        bbb_version: str = "",
        callback_timeout: float = 5.0,
    ) -> None:
        algorithms = {checksum} if isinstance(checksum, str) else set(checksum)
        unknown = algorithms - set(_ALGORITHMS_BY_LENGTH.values())
        if unknown or not algorithms:
            raise ValueError("checksum must be sha1, sha256, sha384 and/or sha512")
        if flavor not in ("bbb", "scalelite"):
            raise ValueError("flavor must be 'bbb' or 'scalelite'")
        if flavor == "scalelite":
            algorithms.discard("sha384")  # §6.1: Scalelite knows no sha384
        self._secret = secret
        self.supported_checksums = frozenset(algorithms)
        self.flavor = flavor
        self.clock = clock
        #: every API request sleeps this long before answering (simulates a hanging server)
        self.hang_seconds = hang_seconds
        self.empty_meeting_seconds = empty_meeting_seconds
        self.last_user_left_seconds = last_user_left_seconds
        self.publish_recordings_default = publish_recordings
        self.bbb_version = bbb_version
        self.callback_timeout = callback_timeout
        self.prefix = "/bigbluebutton"
        self._lock = threading.RLock()
        self._release = threading.Event()
        self._callback_threads: list[threading.Thread] = []
        self._seen_base = "http://bbb-double.invalid/bigbluebutton"
        self._reset_locked()

    def __repr__(self) -> str:
        return f"BBBDouble(checksums={sorted(self.supported_checksums)}, flavor={self.flavor!r})"

    def _reset_locked(self) -> None:
        self._meetings: dict[str, DoubleMeeting] = {}
        self._ended: list[DoubleMeeting] = []
        self._recordings: dict[str, DoubleRecording] = {}
        self._calls: list[ApiCall] = []
        self._created: dict[str, int] = {}
        self._sessions: dict[str, tuple[str, str, str]] = {}
        self._canned: list[_Canned] = []
        self._callback_log: list[CallbackRecord] = []
        self._last_create_ms = 0

    # -- mounting ---------------------------------------------------------------------------

    def init_app(self, app: Flask, prefix: str = "/bigbluebutton") -> None:
        """Serve the API at ``<prefix>/api/<call>`` on ``app`` and attach the control object as
        ``app.extensions["bbb_double"]``."""
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        app.register_blueprint(self._blueprint(), url_prefix=self.prefix or None)
        app.extensions["bbb_double"] = self

    def _blueprint(self) -> Blueprint:
        bp = Blueprint("bbb_double", __name__)
        bp.add_url_rule("/api", "index", self._view_index, strict_slashes=False)
        bp.add_url_rule("/api/<path:call>", "api", self._view_api, methods=["GET", "POST"])
        bp.add_url_rule("/_double/client", "client", self._view_client)
        bp.add_url_rule("/_double/leave", "leave", self._view_leave, methods=["POST"])
        bp.add_url_rule("/_double/playback/presentation/2.3/<record_id>", "playback", self._view_playback)
        bp.add_url_rule("/_double/static/<filename>", "asset", self._view_asset)
        return bp

    # -- control surface (tests) ----------------------------------------------------------------

    @property
    def meetings(self) -> dict[str, DoubleMeeting]:
        """Copies of the current meetings by external meeting ID."""
        with self._lock:
            self._expire_locked()
            return copy.deepcopy(self._meetings)

    @property
    def ended_meetings(self) -> list[DoubleMeeting]:
        with self._lock:
            return copy.deepcopy(self._ended)

    @property
    def recordings(self) -> dict[str, DoubleRecording]:
        with self._lock:
            return copy.deepcopy(self._recordings)

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    @property
    def callback_log(self) -> list[CallbackRecord]:
        with self._lock:
            return list(self._callback_log)

    def call_count(self, name: str | None = None, meeting_id: str | None = None) -> int:
        """Number of API requests that arrived (answered or not), optionally by call/meeting."""
        with self._lock:
            return sum(
                1
                for c in self._calls
                if (name is None or c.name == name) and (meeting_id is None or c.meeting_id == meeting_id)
            )

    def create_count(self, meeting_id: str) -> int:
        """How many sessions were really created for ``meeting_id`` (duplicates not counted)."""
        with self._lock:
            return self._created.get(meeting_id, 0)

    def join(
        self,
        meeting_id: str,
        full_name: str,
        role: str = "VIEWER",
        user_id: str | None = None,
    ) -> str:
        """Put a user into the meeting without HTTP; returns the user ID."""
        with self._lock:
            self._expire_locked()
            meeting = self._meetings.get(meeting_id)
            if meeting is None:
                raise KeyError(meeting_id)
            attendee = self._add_attendee_locked(
                meeting, full_name, role.upper(), user_id or f"w_{_rand(12)}", {}, guest=False
            )
            return attendee.user_id

    def leave(self, meeting_id: str, user_id: str) -> None:
        """The user closes the client. The meeting ends ``last_user_left_seconds`` after the
        last one left (checked lazily against the clock)."""
        with self._lock:
            meeting = self._meetings.get(meeting_id)
            if meeting is None:
                return
            self._remove_attendee_locked(meeting, user_id)
            self._expire_locked()

    def set_attendee(self, meeting_id: str, user_id: str, **changes: Any) -> None:
        """Change an attendee (e.g. ``has_video=True``, ``is_presenter=True``)."""
        with self._lock:
            attendee = self._meetings[meeting_id].attendees[user_id]
            for key, value in changes.items():
                if not hasattr(attendee, key):
                    raise AttributeError(key)
                setattr(attendee, key, value)

    def end(self, meeting_id: str) -> None:
        """End the meeting as a moderator in the client would (callbacks fire)."""
        with self._lock:
            meeting = self._meetings.get(meeting_id)
            if meeting is None:
                raise KeyError(meeting_id)
            self._end_locked(meeting, forcibly=True, by_api=True)

    def expire(self) -> None:
        """Apply the lifecycle timers now (they are also applied on every request)."""
        with self._lock:
            self._expire_locked()

    def fail_next(
        self,
        count: int = 1,
        status: int = 503,
        *,
        calls: Iterable[str] | None = None,
        body: str = "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
        content_type: str = "text/html",
    ) -> None:
        """The next ``count`` API requests (optionally only of these calls) answer HTTP
        ``status`` with an HTML page, like a proxy in front of a broken BBB."""
        self.respond_next(body, status=status, content_type=content_type, count=count, calls=calls)

    def respond_next(
        self,
        body: str,
        *,
        status: int = 200,
        content_type: str = _XML_TYPE,
        count: int = 1,
        calls: Iterable[str] | None = None,
    ) -> None:
        """The next ``count`` API requests answer exactly this (checksum not checked)."""
        with self._lock:
            self._canned.append(
                _Canned(
                    count,
                    status,
                    body,
                    content_type,
                    frozenset(calls) if calls is not None else None,
                )
            )

    def release_hangs(self) -> None:
        """Wake up requests sleeping in ``hang_seconds`` and stop hanging."""
        self.hang_seconds = 0.0
        self._release.set()

    def wait_for_callbacks(self, timeout: float = 5.0) -> bool:
        """Wait until all callbacks started so far were delivered (or failed)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            threads = list(self._callback_threads)
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in threads)

    def reset(self) -> None:
        with self._lock:
            self._reset_locked()

    # -- checksum (§1.1, §1.5) ----------------------------------------------------------------

    def _verify(self, call: str, raw_query: str) -> bool:
        if not self._secret:
            return True  # BBB: an empty securitySalt disables the check
        parts = raw_query.split("&") if raw_query else []
        sums = [p[len("checksum=") :] for p in parts if p.startswith("checksum=")]
        if len(sums) != 1:
            return False
        given = sums[0]
        rest = (
            raw_query.replace("&checksum=" + given, "")
            .replace("checksum=" + given + "&", "")
            .replace("checksum=" + given, "")
        )
        algorithm = _ALGORITHMS_BY_LENGTH.get(len(given))
        if algorithm is None or algorithm not in self.supported_checksums:
            return False
        want = hashlib.new(algorithm, (call + rest + self._secret).encode("utf-8")).hexdigest()
        return hmac.compare_digest(want, given.lower())

    # -- views ----------------------------------------------------------------------------------

    def _note_base(self) -> None:
        self._seen_base = request.host_url.rstrip("/") + request.script_root + self.prefix

    def _view_index(self) -> Response:
        with self._lock:
            self._note_base()
            self._calls.append(ApiCall("", {}, request.method, self.clock(), "SUCCESS"))
        if self.hang_seconds > 0:
            self._release.wait(self.hang_seconds)
        if self.flavor == "scalelite":
            return _success([("version", "2.0"), ("build", "double")])
        return _success([("version", "2.0"), ("apiVersion", "2.0"), ("bbbVersion", self.bbb_version)])

    def _view_api(self, call: str) -> BaseResponse:
        raw_query = request.query_string.decode("utf-8", "replace")
        params: dict[str, str] = {}
        for key, value in parse_qsl(raw_query, keep_blank_values=True):
            params.setdefault(key, value)  # like Java getParameter: the first one counts
        logged = {k: v for k, v in params.items() if k != "checksum"}
        entry = ApiCall(call, logged, request.method, self.clock())
        with self._lock:
            self._note_base()
            self._calls.append(entry)
            canned = self._take_canned_locked(call)
        hang = self.hang_seconds
        if hang > 0:
            self._release.wait(hang)
        if canned is not None:
            entry.outcome = "canned" if canned.status < 400 else f"HTTP {canned.status}"
            return Response(canned.body, status=canned.status, content_type=canned.content_type)
        response = self._dispatch(call, raw_query, params)
        if response.status_code in (301, 302, 303):
            entry.outcome = "SUCCESS"
        else:
            text = response.get_data(as_text=True)
            if "<returncode>SUCCESS</returncode>" in text:
                entry.outcome = "SUCCESS"
            else:
                found_key = re.search(r"<(?:messageKey|key)>([^<]*)<", text)
                entry.outcome = "FAILED:" + (found_key.group(1) if found_key else "")
        return response

    def _take_canned_locked(self, call: str) -> _Canned | None:
        for canned in self._canned:
            if canned.calls is None or call in canned.calls:
                canned.remaining -= 1
                if canned.remaining <= 0:
                    self._canned.remove(canned)
                return canned
        return None

    def _dispatch(self, call: str, raw_query: str, params: dict[str, str]) -> BaseResponse:
        if not self._verify(call, raw_query):
            if self.flavor == "scalelite":
                return _failed("checksumError", "You did not pass the checksum security check")
            return _failed("checksumError", "Checksums do not match")
        handler = {
            "create": self._api_create,
            "join": self._api_join,
            "end": self._api_end,
            "isMeetingRunning": self._api_is_meeting_running,
            "getMeetingInfo": self._api_get_meeting_info,
            "getMeetings": self._api_get_meetings,
            "getRecordings": self._api_get_recordings,
            "publishRecordings": self._api_publish_recordings,
            "deleteRecordings": self._api_delete_recordings,
            "updateRecordings": self._api_update_recordings,
            "insertDocument": self._api_insert_document,
        }.get(call)
        if handler is None:
            return _failed("unsupportedRequest", "This request is not supported.")
        with self._lock:
            self._expire_locked()
            try:
                return handler(params)
            except _ApiError as exc:
                return _failed(exc.key, exc.message)

    def _view_client(self) -> Response:
        token = request.args.get("sessionToken", "")
        with self._lock:
            self._expire_locked()
            found = self._sessions.get(token)
            meeting = self._meetings.get(found[0]) if found else None
            if found is None:
                return _page(
                    "Link ungültig",
                    "<p>Dieser Link zum Beitreten gilt nicht (mehr). Tritt bitte noch einmal aus medienwerk bei.</p>",
                    404,
                )
            if meeting is None or meeting.internal_meeting_id != found[2]:
                return _page("Tutorial beendet", "<p>Das Tutorial ist beendet. Du kannst dieses Fenster schließen.</p>")
            waiting = meeting.waiting_guests.get(found[1])
            attendee = meeting.attendees.get(found[1])
            if waiting is not None:
                body = (
                    f"<p>Du wartest darauf, dass die Moderation dich in den Raum <strong>„{escape(meeting.name)}“"
                    "</strong> lässt.</p>"
                )
                return _page("Warteraum", body)
            if attendee is None:
                return _page("Raum verlassen", _LEFT)
            body = (
                '<p id="bbb-double-status">Du bist im Raum.</p>'
                '<dl class="facts">'
                f"<dt>Dein Name im Raum</dt><dd>{escape(attendee.full_name)}</dd>"
                f"<dt>Deine Rolle</dt><dd>{_ROLE_LABELS.get(attendee.role, escape(attendee.role))}</dd>"
                "</dl>"
                "<p>Hier wären in BigBlueButton Video, Ton, Chat und Präsentation.</p>"
                f'<form method="post" action="leave"><input type="hidden" name="sessionToken" '
                f'value="{escape(token)}"><button type="submit">Raum verlassen</button></form>'
            )
            return _page(meeting.name, body)

    def _view_leave(self) -> BaseResponse:
        token = request.form.get("sessionToken", "")
        with self._lock:
            found = self._sessions.get(token)
            if found is not None:
                meeting = self._meetings.get(found[0])
                if meeting is not None and meeting.internal_meeting_id == found[2]:
                    self._remove_attendee_locked(meeting, found[1])
                    meeting.waiting_guests.pop(found[1], None)
            logout = ""
            if found is not None and found[0] in self._meetings:
                logout = self._meetings[found[0]].params.get("logoutURL", "")
        if logout.startswith(("http://", "https://")):
            return redirect(logout, code=303)
        return _page("Raum verlassen", _LEFT)

    def _view_playback(self, record_id: str) -> Response:
        with self._lock:
            rec = self._recordings.get(record_id)
            if rec is None or not rec.published:
                return _page(
                    "Aufzeichnung nicht gefunden",
                    "<p>Diese Aufzeichnung gibt es nicht, oder sie ist nicht veröffentlicht.</p>",
                    404,
                )
            body = (
                f"<p>Aufzeichnung von <strong>„{escape(rec.name)}“</strong>.</p>"
                "<p>Hier würde BigBlueButton die Aufzeichnung abspielen.</p>"
                f'<p class="muted">Kennung der Aufzeichnung: {escape(rec.record_id)}</p>'
            )
            return _page(rec.name, body)

    @staticmethod
    def _view_asset(filename: str) -> BaseResponse:
        """The tool's own style sheet and icon, so that the double's pages look like the rest of the demo
        (also when the double runs on a port of its own, as in the tests)."""
        if filename not in _ASSETS:
            abort(404)
        return send_from_directory(_STATIC_DIR, filename, max_age=3600)

    # -- API calls (run under the lock) ---------------------------------------------------------

    @staticmethod
    def _meeting_id(params: Mapping[str, str]) -> str:
        meeting_id = params.get("meetingID", "")
        if not meeting_id:
            raise _ApiError("missingParamMeetingID", "You must provide a meeting ID")
        return meeting_id

    def _api_create(self, params: dict[str, str]) -> Response:
        meeting_id = self._meeting_id(params)
        if not 2 <= len(meeting_id) <= 256:
            raise _ApiError("sizeError", "Meeting ID must be between 2 and 256 characters")
        if "," in meeting_id:
            raise _ApiError("validationError", "Meeting ID cannot contain ','")
        name = params.get("name", "")
        if not name:
            raise _ApiError("missingParamName", "You must provide a meeting name")
        if not 2 <= len(name) <= 256:
            raise _ApiError("sizeError", "Meeting name must be between 2 and 256 characters")
        attendee_pw, moderator_pw = params.get("attendeePW"), params.get("moderatorPW")
        for pw in (attendee_pw, moderator_pw):
            if pw is not None and not 2 <= len(pw) <= 64:
                raise _ApiError("invalidPassword", "Invalid password")

        existing = self._meetings.get(meeting_id)
        if existing is not None:
            # §3.1: same passwords, or none sent → the existing meeting, other params ignored
            same = attendee_pw == existing.attendee_pw and moderator_pw == existing.moderator_pw
            if (attendee_pw is None and moderator_pw is None) or same:
                return _success(
                    self._create_items(existing)
                    + [
                        ("messageKey", "duplicateWarning"),
                        (
                            "message",
                            "This conference was already in existence and may currently be in progress.",
                        ),
                    ]
                )
            raise _ApiError(
                "idNotUnique",
                "A meeting already exists with that meeting ID.  Please use a different meeting ID.",
            )

        in_use = {m.voice_bridge for m in self._meetings.values()}
        voice_bridge = params.get("voiceBridge") or ""
        if voice_bridge and voice_bridge in in_use:
            return _failed_errors([("nonUniqueVoiceBridge", "The selected voice bridge is already in use.")])
        while not voice_bridge or voice_bridge in in_use:
            voice_bridge = _rand(5, string.digits)
        create_ms = max(int(self.clock() * 1000), self._last_create_ms + 1)
        self._last_create_ms = create_ms
        metadata = {}
        for key, value in params.items():
            match = _META_PARAM.match(key)
            if match:
                metadata[match.group(1).lower()] = value
        meeting = DoubleMeeting(
            meeting_id=meeting_id,
            name=name,
            internal_meeting_id=f"{hashlib.sha1(meeting_id.encode()).hexdigest()}-{create_ms}",  # noqa: S324 - BBB's ID scheme
            create_time=create_ms,
            create_date=_java_date(create_ms),
            attendee_pw=attendee_pw or _rand(8, string.ascii_letters + string.digits),
            moderator_pw=moderator_pw or _rand(8, string.ascii_letters + string.digits),
            voice_bridge=voice_bridge,
            params={k: v for k, v in params.items() if k != "checksum"},
            metadata=metadata,
            record=_truthy(params.get("record")),
            duration=_int_param(params.get("duration")),
            max_participants=_int_param(params.get("maxParticipants")),
            guest_policy=(params.get("guestPolicy") or "ALWAYS_ACCEPT").upper(),
            keep_events=_truthy(params.get("meetingKeepEvents")),
            start_time=create_ms,
        )
        if params.get("dialNumber"):
            meeting.dial_number = params["dialNumber"]
        self._meetings[meeting_id] = meeting
        self._created[meeting_id] = self._created.get(meeting_id, 0) + 1
        return _success(self._create_items(meeting) + [("messageKey", ""), ("message", "")])

    @staticmethod
    def _create_items(m: DoubleMeeting) -> XmlItems:
        return [
            ("meetingID", m.meeting_id),
            ("internalMeetingID", m.internal_meeting_id),
            ("parentMeetingID", "bbb-none"),
            ("attendeePW", m.attendee_pw),
            ("moderatorPW", m.moderator_pw),
            ("createTime", m.create_time),
            ("voiceBridge", m.voice_bridge),
            ("dialNumber", m.dial_number),
            ("createDate", m.create_date),
            ("hasUserJoined", m.has_user_joined),
            ("duration", m.duration),
            ("hasBeenForciblyEnded", m.forcibly_ended),
        ]

    def _api_join(self, params: dict[str, str]) -> BaseResponse:
        redirect_wanted = params.get("redirect", "true").lower() != "false"
        try:
            meeting, attendee, waiting = self._join_locked(params)
        except _ApiError as exc:
            error_url = params.get("errorRedirectUrl") or params.get("redirectErrorUrl")
            if redirect_wanted and error_url:
                errors = json.dumps([{"message": exc.message, "key": exc.key}])
                return redirect(_add_query(error_url, {"errors": errors}), code=302)
            raise
        token = _rand(16)
        self._sessions[token] = (meeting.meeting_id, attendee.user_id, meeting.internal_meeting_id)
        client_url = (
            request.host_url.rstrip("/") + request.script_root + self.prefix + "/_double/client?sessionToken=" + token
        )
        if redirect_wanted:
            return redirect(client_url, code=302)
        return _success(
            [
                ("messageKey", "guestWait" if waiting else "successfullyJoined"),
                (
                    "message",
                    "Guest waiting for approval to join meeting." if waiting else "You have joined successfully.",
                ),
                ("meeting_id", meeting.internal_meeting_id),
                ("user_id", attendee.internal_user_id),
                ("auth_token", _rand(12)),
                ("session_token", token),
                ("guestStatus", "WAIT" if waiting else "ALLOW"),
                ("url", client_url),
            ]
        )

    def _join_locked(self, params: dict[str, str]) -> tuple[DoubleMeeting, DoubleAttendee, bool]:
        full_name = "".join(ch for ch in params.get("fullName", "") if ord(ch) >= 0x20).strip()
        if not full_name:
            raise _ApiError("missingParamFullName", "You must provide your name")
        meeting_id = self._meeting_id(params)
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            ended = any(m.meeting_id == meeting_id and m.forcibly_ended for m in self._ended[-20:])
            if ended:
                raise _ApiError(
                    "meetingForciblyEnded",
                    "You can not join a meeting that has already been forcibly ended",
                )
            raise _ApiError("invalidMeetingIdentifier", _MSG_NOT_FOUND)
        role = (params.get("role") or "").upper()
        if role not in ("MODERATOR", "VIEWER"):
            password = params.get("password")
            if password is None:
                raise _ApiError(
                    "Params required",
                    "You must either send the valid role of the user, or the password, sould the meeting has one.",
                )
            if password == meeting.moderator_pw:
                role = "MODERATOR"
            elif password == meeting.attendee_pw:
                role = "VIEWER"
            else:
                raise _ApiError(
                    "invalidPassword",
                    "The provided password is neither a moderator or attendee password",
                )
        create_time = params.get("createTime")
        if create_time and create_time != str(meeting.create_time):
            raise _ApiError(
                "mismatchCreateTimeParam",
                "The createTime parameter submitted mismatches with the current meeting.",
            )
        user_id = params.get("userID") or f"w_{_rand(12)}"
        if (
            meeting.max_participants
            and user_id not in meeting.attendees
            and len(meeting.attendees) >= meeting.max_participants
        ):
            raise _ApiError(
                "maxParticipantsReached",
                "The number of participants allowed for this meeting has been reached.",
            )
        guest = _truthy(params.get("guest"))
        custom = {k[len("userdata-") :]: v for k, v in params.items() if k.startswith("userdata-")}
        if guest and meeting.guest_policy == "ALWAYS_DENY":
            raise _ApiError(
                "guestDeniedAccess",
                "You have been denied access to this meeting based on the meeting's guest policy",
            )
        if guest and meeting.guest_policy in ("ASK_MODERATOR", "ALWAYS_ACCEPT_AUTH"):
            waiting = DoubleAttendee(
                user_id,
                f"w_{_rand(12)}",
                full_name,
                role,
                self.clock(),
                guest=True,
                custom_data=custom,
            )
            meeting.waiting_guests[user_id] = waiting
            return meeting, waiting, True
        attendee = self._add_attendee_locked(meeting, full_name, role, user_id, custom, guest)
        return meeting, attendee, False

    def _add_attendee_locked(
        self,
        meeting: DoubleMeeting,
        full_name: str,
        role: str,
        user_id: str,
        custom: dict[str, str],
        guest: bool,
    ) -> DoubleAttendee:
        now = self.clock()
        attendee = meeting.attendees.get(user_id)
        if attendee is None:
            # without userID, BBB shows the internal ``w_…`` ID as userID
            internal_id = user_id if user_id.startswith("w_") else f"w_{_rand(12)}"
            attendee = DoubleAttendee(user_id, internal_id, full_name, role, now, guest=guest, custom_data=custom)
            meeting.attendees[user_id] = attendee
            meeting.events.append(("join", now, user_id, attendee.internal_user_id, full_name, role))
        else:
            attendee.full_name, attendee.role = full_name, role
        if role == "MODERATOR" and not any(a.is_presenter for a in meeting.attendees.values()):
            attendee.is_presenter = True  # BBB makes the first moderator presenter
        meeting.has_user_joined = True
        meeting.last_left_at = None
        return attendee

    def _remove_attendee_locked(self, meeting: DoubleMeeting, user_id: str) -> None:
        attendee = meeting.attendees.pop(user_id, None)
        if attendee is None:
            return
        now = self.clock()
        meeting.events.append(("left", now, user_id, attendee.internal_user_id, attendee.full_name, attendee.role))
        if not meeting.attendees:
            meeting.last_left_at = now

    def _api_end(self, params: dict[str, str]) -> Response:
        meeting = self._meetings.get(self._meeting_id(params))
        if meeting is None:
            raise _ApiError("notFound", _MSG_NOT_FOUND)
        password = params.get("password")
        if password is not None and password != meeting.moderator_pw:
            raise _ApiError("invalidPassword", "The supplied moderator password is incorrect")
        self._end_locked(meeting, forcibly=True, by_api=True)
        return _success(
            [
                ("messageKey", "sentEndMeetingRequest"),
                (
                    "message",
                    "A request to end the meeting was sent.  Please wait a few seconds, "
                    "and then use the getMeetingInfo or isMeetingRunning API calls to "
                    "verify that it was ended.",
                ),
            ]
        )

    def _api_is_meeting_running(self, params: dict[str, str]) -> Response:
        meeting = self._meetings.get(self._meeting_id(params))
        return _success([("running", bool(meeting and meeting.running))])

    def _meeting_items(self, m: DoubleMeeting) -> XmlItems:
        attendees = list(m.attendees.values())
        return [
            ("meetingName", m.name),
            ("meetingID", m.meeting_id),
            ("internalMeetingID", m.internal_meeting_id),
            ("createTime", m.create_time),
            ("createDate", m.create_date),
            ("voiceBridge", m.voice_bridge),
            ("dialNumber", m.dial_number),
            ("attendeePW", m.attendee_pw),
            ("moderatorPW", m.moderator_pw),
            ("running", m.running),
            ("duration", m.duration),
            ("hasUserJoined", m.has_user_joined),
            ("recording", m.record and _truthy(m.params.get("autoStartRecording")) and m.running),
            ("hasBeenForciblyEnded", m.forcibly_ended),
            ("startTime", m.start_time),
            ("endTime", m.end_time),
            ("participantCount", len(attendees)),
            ("listenerCount", sum(1 for a in attendees if a.is_listening_only)),
            ("voiceParticipantCount", sum(1 for a in attendees if a.has_joined_voice)),
            ("videoCount", sum(1 for a in attendees if a.has_video)),
            ("maxUsers", m.max_participants),
            ("moderatorCount", m.moderator_count),
            (
                "attendees",
                [
                    (
                        "attendee",
                        [
                            ("userID", a.user_id),
                            ("fullName", a.full_name),
                            ("role", a.role),
                            ("isPresenter", a.is_presenter),
                            ("isListeningOnly", a.is_listening_only),
                            ("hasJoinedVoice", a.has_joined_voice),
                            ("hasVideo", a.has_video),
                            ("clientType", a.client_type),
                            ("customdata", list(a.custom_data.items())),
                        ],
                    )
                    for a in attendees
                ],
            ),
            ("metadata", list(m.metadata.items())),
            ("isBreakout", False),
        ]

    def _api_get_meeting_info(self, params: dict[str, str]) -> Response:
        meeting = self._meetings.get(self._meeting_id(params))
        if meeting is None:
            raise _ApiError("notFound", _MSG_NOT_FOUND)
        return _success(self._meeting_items(meeting))

    def _api_get_meetings(self, params: dict[str, str]) -> Response:
        if not self._meetings:
            return _success(
                [
                    ("meetings", []),
                    ("messageKey", "noMeetings"),
                    ("message", "no meetings were found on this server"),
                ]
            )
        return _success([("meetings", [("meeting", self._meeting_items(m)) for m in self._meetings.values()])])

    def _api_get_recordings(self, params: dict[str, str]) -> Response:
        states = {s.strip() for s in params.get("state", "").split(",") if s.strip()}
        if not states:
            states = {"published", "unpublished"}
        prefixes = [p for p in params.get("recordID", "").split(",") if p]
        if not prefixes:
            prefixes = [
                hashlib.sha1(mid.encode()).hexdigest()  # noqa: S324 - BBB's ID scheme
                for mid in params.get("meetingID", "").split(",")
                if mid
            ]
        meta_filters = {m.group(1).lower(): v for k, v in params.items() if (m := _META_PARAM.match(k))}
        found = [
            r
            for r in self._recordings.values()
            if ("any" in states or r.state in states)
            and (not prefixes or any(r.record_id.startswith(p) for p in prefixes))
            and all(_like(r.metadata.get(k), v) for k, v in meta_filters.items())
        ]
        found.sort(key=lambda r: r.start_time)
        total = len(found)
        limit = params.get("limit")
        paged = False
        if limit and limit.isdigit():
            paged = True
            size = min(max(int(limit), 1), 100)
            offset = _int_param(params.get("offset"))
            found = found[offset : offset + size]
        if not found:
            return _success(
                [
                    ("recordings", []),
                    ("messageKey", "noRecordings"),
                    ("message", "There are no recordings for the meeting(s)."),
                ]
            )
        items: XmlItems = [("recordings", [("recording", self._recording_items(r)) for r in found])]
        if paged:
            items.append(
                (
                    "pagination",
                    [
                        (
                            "pageable",
                            [
                                ("offset", _int_param(params.get("offset"))),
                                ("limit", size),
                                ("paged", True),
                                ("unpaged", False),
                            ],
                        ),
                        ("totalElements", total),
                        ("empty", False),
                    ],
                )
            )
        return _success(items)

    @staticmethod
    def _recording_items(r: DoubleRecording) -> XmlItems:
        length = max(0, round((r.end_time - r.start_time) / 60000))
        return [
            ("recordID", r.record_id),
            ("meetingID", r.meeting_id),
            ("internalMeetingID", r.internal_meeting_id),
            ("name", r.name),
            ("isBreakout", False),
            ("published", r.published),
            ("state", r.state),
            ("startTime", r.start_time),
            ("endTime", r.end_time),
            ("participants", r.participants),
            ("metadata", list(r.metadata.items())),
            (
                "playback",
                [
                    (
                        "format",
                        [
                            ("type", "presentation"),
                            ("url", r.playback_url),
                            ("processingTime", 0),
                            ("length", length),
                        ],
                    )
                ],
            ),
        ]

    def _matching_recordings(self, params: dict[str, str]) -> list[DoubleRecording]:
        ids = [i for i in params.get("recordID", "").split(",") if i]
        if not ids:
            raise _ApiError("missingParamRecordID", "You must specify a recordID.")
        found = [self._recordings[i] for i in ids if i in self._recordings and self._recordings[i].state != "deleted"]
        if not found:
            raise _ApiError("notFound", _MSG_NO_RECORDINGS)
        return found

    def _api_publish_recordings(self, params: dict[str, str]) -> Response:
        found = self._matching_recordings(params)
        if "publish" not in params:
            raise _ApiError("missingParamPublish", "You must specify a publish value true or false.")
        publish = _truthy(params["publish"])
        for rec in found:
            rec.state = "published" if publish else "unpublished"
        return _xml([("returncode", "SUCCESS"), ("published", params["publish"])])

    def _api_delete_recordings(self, params: dict[str, str]) -> Response:
        for rec in self._matching_recordings(params):
            rec.state = "deleted"
        return _success([("deleted", True)])

    def _api_update_recordings(self, params: dict[str, str]) -> Response:
        found = self._matching_recordings(params)
        for key, value in params.items():
            match = _META_PARAM.match(key)
            if not match:
                continue
            for rec in found:
                if value:
                    rec.metadata[match.group(1).lower()] = value
                else:
                    rec.metadata.pop(match.group(1).lower(), None)
        return _success([("updated", True)])

    def _api_insert_document(self, params: dict[str, str]) -> Response:
        meeting_id = self._meeting_id(params)
        if meeting_id not in self._meetings:
            return _xml(
                [
                    ("returncode", "FAILED"),
                    ("message", f"Meeting with id [{meeting_id}] not found."),
                ]
            )
        return _success([("message", "Presentation is being uploaded")])

    # -- lifecycle (§4) -------------------------------------------------------------------------

    def _expire_locked(self) -> None:
        now = self.clock()
        for meeting in list(self._meetings.values()):
            never_joined = (
                not meeting.has_user_joined and now * 1000 - meeting.create_time >= self.empty_meeting_seconds * 1000
            )
            all_left = (
                meeting.has_user_joined
                and not meeting.attendees
                and meeting.last_left_at is not None
                and now - meeting.last_left_at >= self.last_user_left_seconds
            )
            if meeting.duration and now * 1000 >= meeting.start_time + meeting.duration * 60000:
                self._end_locked(meeting, forcibly=True, by_api=False)
            elif never_joined or all_left:
                self._end_locked(meeting, forcibly=False, by_api=False)

    def _end_locked(self, meeting: DoubleMeeting, *, forcibly: bool, by_api: bool) -> None:
        now = self.clock()
        for user_id in list(meeting.attendees):
            self._remove_attendee_locked(meeting, user_id)
        meeting.waiting_guests.clear()
        meeting.end_time = max(int(now * 1000), meeting.start_time)
        meeting.forcibly_ended = forcibly
        self._meetings.pop(meeting.meeting_id, None)
        self._ended.append(meeting)

        recording: DoubleRecording | None = None
        if meeting.record and (by_api or meeting.has_user_joined):
            publish = self.publish_recordings_default
            if _AUTOPUBLISH_META in meeting.metadata:
                publish = _truthy(meeting.metadata[_AUTOPUBLISH_META])
            record_id = meeting.internal_meeting_id
            metadata = {k: v for k, v in meeting.metadata.items() if k != _AUTOPUBLISH_META}
            metadata.update(
                {
                    "isBreakout": "false",
                    "meetingName": meeting.name,
                    "meetingId": meeting.meeting_id,
                }
            )
            recording = DoubleRecording(
                record_id=record_id,
                meeting_id=meeting.meeting_id,
                internal_meeting_id=meeting.internal_meeting_id,
                name=meeting.name,
                state="published" if publish else "unpublished",
                start_time=meeting.start_time,
                end_time=meeting.end_time,
                participants=len({e[2] for e in meeting.events if e[0] == "join"}),
                metadata=metadata,
                playback_url=f"{self._seen_base}/_double/playback/presentation/2.3/{record_id}",
            )
            self._recordings[record_id] = recording

        jobs: list[tuple[str, Callable[[], requests.Response]]] = []
        end_url = meeting.metadata.get("endcallbackurl")
        if end_url:
            url = _add_query(
                end_url,
                {
                    "recordingmarks": "true" if recording else "false",
                    "meetingID": meeting.meeting_id,
                },
            )
            jobs.append(("end", self._sender("GET", url, headers={"User-Agent": "Mozilla"})))
        analytics_url = meeting.metadata.get("analytics-callback-url")
        if analytics_url and (meeting.keep_events or meeting.record):
            token = _JWT.encode(
                {"exp": int(now) + 24 * 3600},
                self._secret,
                algorithm="HS512",
                headers={"typ": "JWT"},
            )
            jobs.append(
                (
                    "analytics",
                    self._sender(
                        "POST",
                        analytics_url,
                        headers={
                            "Authorization": f"Bearer {token}",
                            "Content-Type": "application/json",
                            "User-Agent": "BigBlueButton Analytics Callback",
                        },
                        data=json.dumps(self._analytics_payload(meeting)).encode("utf-8"),
                    ),
                )
            )
        ready_url = next((meeting.metadata[k] for k in _RECORDING_READY_META if meeting.metadata.get(k)), None)
        if recording is not None and ready_url:
            token = _JWT.encode(
                {"meeting_id": meeting.meeting_id, "record_id": recording.record_id},
                self._secret,
                algorithm="HS256",
            )
            jobs.append(
                (
                    "recording_ready",
                    self._sender(
                        "POST",
                        ready_url,
                        headers={"Content-Type": "application/x-www-form-urlencoded"},
                        data=urlencode({"signed_parameters": token}).encode("ascii"),
                    ),
                )
            )
        if jobs:
            thread = threading.Thread(target=self._deliver, args=(jobs,), name="bbb-double-callbacks", daemon=True)
            self._callback_threads = [t for t in self._callback_threads if t.is_alive()]
            self._callback_threads.append(thread)
            thread.start()

    def _sender(
        self, method: str, url: str, *, headers: dict[str, str], data: bytes | None = None
    ) -> Callable[[], requests.Response]:
        def send() -> requests.Response:
            return requests.request(
                method,
                url,
                headers=headers,
                data=data,
                timeout=self.callback_timeout,
                allow_redirects=False,
            )

        send.url = url  # type: ignore[attr-defined]
        return send

    def _deliver(self, jobs: list[tuple[str, Callable[[], requests.Response]]]) -> None:
        # sequential, in BBB's order: end, then analytics, then recording ready
        for kind, send in jobs:
            url = getattr(send, "url", "")
            try:
                response = send()
                record = CallbackRecord(kind, url, response.status_code)
                response.close()
            except requests.RequestException as exc:
                record = CallbackRecord(kind, url, None, type(exc).__name__)
            with self._lock:
                self._callback_log.append(record)

    def _analytics_payload(self, meeting: DoubleMeeting) -> dict[str, Any]:
        attendees: dict[str, dict[str, Any]] = {}
        open_joins: dict[str, float] = {}
        for event, ts, user_id, internal_id, name, role in meeting.events:
            entry = attendees.setdefault(
                user_id,
                {
                    "ext_user_id": user_id,
                    "name": name,
                    "moderator": False,
                    "joins": [],
                    "leaves": [],
                    "duration": 0,
                    "recent_talking_time": "",
                    "engagement": {
                        "chats": 0,
                        "talks": 0,
                        "raisehand": 0,
                        "emojis": 0,
                        "poll_votes": 0,
                        "talk_time": 0,
                    },
                    "sessions": [],
                },
            )
            entry["moderator"] = entry["moderator"] or role == "MODERATOR"
            stamp = {
                "timestamp": _iso(ts),
                "userid": internal_id,
                "ext_userid": user_id,
                "event": event,
            }
            if event == "join":
                entry["joins"].append(_iso(ts))
                entry["sessions"].append({"joins": [stamp], "lefts": []})
                open_joins[user_id] = ts
            else:
                entry["leaves"].append(_iso(ts))
                if entry["sessions"]:
                    entry["sessions"][-1]["lefts"].append(stamp)
                started = open_joins.pop(user_id, None)
                if started is not None:
                    entry["duration"] += int(ts - started)
        metadata = {_snake(k): v for k, v in meeting.metadata.items() if k != "meeting_id" and not k.startswith("gl-")}
        metadata.update({"meeting_name": meeting.name, "is_breakout": "false"})
        start, finish = meeting.start_time / 1000, meeting.end_time / 1000
        return {
            "version": "1.0",
            "meeting_id": meeting.meeting_id,
            "internal_meeting_id": meeting.internal_meeting_id,
            "data": {
                "metadata": metadata,
                "duration": int(finish - start),
                "start": _iso(start),
                "finish": _iso(finish),
                "attendees": list(attendees.values()),
                "files": ["default.pdf"],
                "polls": [],
            },
        }


def _like(value: str | None, pattern: str) -> bool:
    """getRecordings meta filter: ``%`` wildcard at either or both ends (§3.7)."""
    if value is None:
        return False
    starts, ends = pattern.startswith("%"), pattern.endswith("%") and len(pattern) > 1
    core = pattern.strip("%")
    if starts and ends:
        return core in value
    if starts:
        return value.endswith(core)
    if ends:
        return value.startswith(core)
    return value == pattern


def _add_query(url: str, params: Mapping[str, str]) -> str:
    """Append parameters and keep the existing ones (as BBB's ``URIBuilder.addParameter``)."""
    parts = urlsplit(url)
    extra = urlencode(list(params.items()), quote_via=quote)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


_STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
_ASSETS = frozenset({"medienwerk.css", "favicon.svg"})
_ROLE_LABELS = {"MODERATOR": "Moderator*in", "VIEWER": "Teilnehmer*in"}
_LEFT = "<p>Du hast den Raum verlassen. Du kannst dieses Fenster schließen.</p>"


def _page(title: str, body: str, status: int = 200) -> Response:
    """A calm German page in the tool's style that says plainly that this is a stand-in, not a real meeting
    (no inline script or style: the tool's style sheet, served by the double itself)."""
    css = url_for("bbb_double.asset", filename="medienwerk.css")
    icon = url_for("bbb_double.asset", filename="favicon.svg")
    html = (
        '<!doctype html><html lang="de"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} – BigBlueButton-Attrappe</title>"
        f'<link rel="stylesheet" href="{escape(css)}"><link rel="icon" href="{escape(icon)}" type="image/svg+xml">'
        "</head><body>"
        '<header class="topbar"><span class="brand">BigBlueButton-Attrappe</span>'
        '<span class="muted">Ein Ersatz für BigBlueButton in der Demo und in den Tests: kein echter Videoraum, '
        "keine Kamera, kein Mikrofon.</span></header>"
        f'<main id="main"><h1>{escape(title)}</h1><div class="card">{body}</div></main>'
        "</body></html>"
    )
    return Response(html, status=status, content_type="text/html; charset=utf-8")


def create_bbb_double(
    secret: str,
    checksum: str | Iterable[str] = "sha256",
    *,
    clock: Callable[[], float] = time.time,
    hang_seconds: float = 0.0,
    prefix: str = "/bigbluebutton",
    **options: Any,
) -> Flask:
    """A standalone Flask app serving the double at ``<prefix>/api/<call>``.

    ``checksum`` is the algorithm (or algorithms) the double accepts, like BBB's
    ``supportedChecksumAlgorithms``. Further options: ``flavor`` (``"bbb"`` or ``"scalelite"``:
    no sha384, Scalelite-style API root), ``empty_meeting_seconds`` (300),
    ``last_user_left_seconds`` (60), ``publish_recordings`` (True), ``bbb_version``,
    ``callback_timeout`` (5 s). The control object is ``app.extensions["bbb_double"]``.
    """
    app = Flask(__name__)
    double = BBBDouble(secret, checksum, clock=clock, hang_seconds=hang_seconds, **options)
    double.init_app(app, prefix=prefix)
    return app
