"""BigBlueButton API client.

Implements the server API as described in /work/shared/reference/bbb-api.md (docs:
https://docs.bigbluebutton.org/development/api). The sections referenced below (§1.1 …) are
those of that note.

* Checksums (§1.1, §1.4): ``hex(H(callName + queryString + secret))`` over the *exact* query
  string that is sent. We build the query string ourselves (sorted keys, ``urlencode`` → space
  as ``+``, booleans ``true``/``false``) and hand ``requests`` a finished URL so nothing is
  re-encoded.
* Every call has a time budget (``timeout``: all attempts together) so a user sees a clear
  message within a few seconds; only idempotent calls are retried, and only on connection
  errors, timeouts and HTTP 5xx.
* XML is parsed defensively (§2): no DTDs at all, single-vs-list elements, empty elements, both
  error forms, HTML pages from proxies.
* No error message ever contains the secret or a checksum (they sit in the request URL, so
  ``requests`` exceptions are never shown or chained).

Pure Python on ``requests``; no Flask imports.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets as _secrets
import time
import xml.etree.ElementTree as ET  # noqa: S405 - DTDs are rejected before parsing, see _parse_xml
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
import requests
from jwt.algorithms import HMACAlgorithm

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "AnalyticsAttendee",
    "AnalyticsReport",
    "ApiVersion",
    "Attendee",
    "BBBClient",
    "BBBError",
    "BBBUnavailable",
    "CallbackAuthError",
    "CheckReport",
    "ChecksumError",
    "CreatedMeeting",
    "EndCallback",
    "InvalidResponse",
    "MeetingInfo",
    "NotFoundError",
    "PlaybackFormat",
    "PreviewImage",
    "Recording",
    "RecordingReady",
    "build_query",
    "checksum",
    "end_callback_url",
    "parse_analytics_payload",
    "parse_response_xml",
    "signed_query",
    "verify_analytics_callback",
    "verify_end_callback",
    "verify_recording_ready_callback",
]

CHECKSUM_ALGORITHMS: tuple[str, ...] = ("sha1", "sha256", "sha384", "sha512")
Role = Literal["MODERATOR", "VIEWER"]
ParamValue = str | int | bool | None

# §3.1: meta_ names BBB keeps; anything else is dropped silently by the server.
_META_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*\Z")
# §1.4: never let a DTD reach the parser (billion laughs, external entities).
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_BACKOFF_SECONDS = 0.2


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


class BBBError(Exception):
    """A BigBlueButton call failed. ``message_key`` is BBB's stable key (branch on it, §2)."""

    def __init__(
        self,
        message_key: str,
        message: str,
        *,
        errors: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(message_key, message)
        self.message_key = message_key
        self.message = message
        #: all (key, message) pairs of the ``<errors>`` form, if the server sent several
        self.errors: tuple[tuple[str, str], ...] = tuple(errors) or ((message_key, message),)

    def __str__(self) -> str:
        return f"{self.message} ({self.message_key})" if self.message_key else self.message


class ChecksumError(BBBError):
    """``checksumError``: wrong secret, or a checksum algorithm the server does not accept."""


class NotFoundError(BBBError):
    """``notFound`` / ``invalidMeetingIdentifier``: no such meeting or recording."""


class BBBUnavailable(BBBError):
    """The server could not be used: timeout, connection error, HTTP 5xx, not a BBB answer."""


class InvalidResponse(BBBUnavailable):
    """The answer was not a usable BBB XML document (HTML page, DTD, no ``returncode``)."""


class CallbackAuthError(BBBError):
    """A callback from BBB could not be authenticated."""


_ERRORS_BY_KEY: dict[str, type[BBBError]] = {
    "checksumError": ChecksumError,
    "notFound": NotFoundError,
    "invalidMeetingIdentifier": NotFoundError,
    # Scalelite relays backend HTTP failures like this (§6.1).
    "internalError": BBBUnavailable,
    "serverUnavailable": BBBUnavailable,
}


# --------------------------------------------------------------------------------------------
# Checksums (§1.1, §1.5)
# --------------------------------------------------------------------------------------------


def _format_value(value: str | int | bool) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def build_query(params: Mapping[str, ParamValue], *, sort: bool = True) -> str:
    """The query string as BBB clients send it: ``None`` dropped, booleans ``true``/``false``,
    ``urlencode`` (space → ``+``). Sorted by default (harmless for BBB, needed by old gateways)."""
    items = [(k, _format_value(v)) for k, v in params.items() if v is not None]
    if sort:
        items.sort()
    return urlencode(items)


def checksum(call: str, query: str, secret: str, algorithm: str = "sha256") -> str:
    """``hex(H(call + query + secret))``, lowercase (§1.1)."""
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise ValueError(f"checksum algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}")
    return hashlib.new(algorithm, (call + query + secret).encode("utf-8")).hexdigest()


def signed_query(
    call: str,
    params: Mapping[str, ParamValue],
    secret: str,
    algorithm: str = "sha256",
    *,
    sort: bool = True,
) -> str:
    """The query string with ``checksum=`` appended, ready to put after ``?``."""
    query = build_query(params, sort=sort)
    digest = checksum(call, query, secret, algorithm)
    return f"{query}&checksum={digest}" if query else f"checksum={digest}"


# --------------------------------------------------------------------------------------------
# XML (§2)
# --------------------------------------------------------------------------------------------


def parse_response_xml(body: bytes | str) -> ET.Element:
    """Parse a BBB answer; raise :class:`InvalidResponse` for DTDs, non-XML and non-BBB XML."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"\x00\x00\xfe\xff",):
        # BBB answers UTF-8; other encodings would also hide a DTD from the check below.
        raise InvalidResponse("invalidResponse", "The answer is not UTF-8 XML.")
    if _DTD.search(data):
        raise InvalidResponse("invalidResponse", "The answer contains a DTD, which BigBlueButton never sends.")
    stripped = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped.startswith(b"<"):
        raise InvalidResponse("invalidResponse", "The answer is not XML.")
    try:
        root = ET.fromstring(data)  # noqa: S314 - DTDs rejected above
    except ET.ParseError:
        raise InvalidResponse("invalidResponse", "The answer is not XML (an HTML page from a proxy?).") from None
    if root.tag != "response":
        raise InvalidResponse("invalidResponse", f"The answer is XML but not a BigBlueButton response (<{root.tag}>).")
    return root


def error_from_response(root: ET.Element) -> BBBError:
    """Build the error for a ``FAILED`` response, single or ``<errors>`` form (§2)."""
    key = (root.findtext("messageKey") or "").strip()
    message = (root.findtext("message") or "").strip()
    errors: list[tuple[str, str]] = []
    for err in root.iterfind("errors/error"):
        e_key = (err.get("key") or err.findtext("key") or "").strip()
        e_msg = (err.get("message") or err.findtext("message") or "").strip()
        errors.append((e_key, e_msg))
    if not key and errors:
        key, message = errors[0]
    if not key and "not found" in message.lower():
        key = "notFound"  # insertDocument-style answers carry no key
    cls = _ERRORS_BY_KEY.get(key, BBBError)
    return cls(
        key or "unknownError",
        message or "BigBlueButton reported an error without a message.",
        errors=errors,
    )


def _text(el: ET.Element | None, tag: str, default: str = "") -> str:
    if el is None:
        return default
    value = el.findtext(tag)
    return default if value is None else value.strip()


def _opt_text(el: ET.Element, tag: str) -> str | None:
    value = el.findtext(tag)
    return None if value is None else value.strip()


def _bool(el: ET.Element, tag: str) -> bool:
    return _text(el, tag).lower() == "true"


def _int(el: ET.Element, tag: str) -> int:
    value = _text(el, tag)
    try:
        return int(value)
    except ValueError:
        return 0


def _children_text(el: ET.Element | None) -> dict[str, str]:
    if el is None:
        return {}
    return {child.tag: (child.text or "").strip() for child in el}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ApiVersion:
    version: str | None
    api_version: str | None
    bbb_version: str | None
    #: other elements of the answer (``build`` from Scalelite, ``graphqlApiUrl`` from 3.0, …)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def looks_like_load_balancer(self) -> bool:
        """Scalelite/bbblb answer without ``apiVersion`` (§3.0)."""
        return self.api_version is None


@dataclass(frozen=True)
class CreatedMeeting:
    meeting_id: str
    internal_meeting_id: str
    create_time: int
    #: True when BBB answered ``duplicateWarning``: the meeting already existed (and the other
    #: parameters of this call were ignored)
    duplicate: bool
    voice_bridge: str = ""
    dial_number: str = ""
    create_date: str = ""
    has_user_joined: bool = False
    has_been_forcibly_ended: bool = False
    duration: int = 0
    attendee_pw: str = ""
    moderator_pw: str = ""
    parent_meeting_id: str = ""


@dataclass(frozen=True)
class Attendee:
    user_id: str
    full_name: str
    role: str
    is_presenter: bool = False
    is_listening_only: bool = False
    has_joined_voice: bool = False
    has_video: bool = False
    client_type: str = ""
    custom_data: dict[str, str] = field(default_factory=dict)

    @property
    def is_moderator(self) -> bool:
        return self.role == "MODERATOR"


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: str
    internal_meeting_id: str
    name: str
    create_time: int
    create_date: str
    running: bool
    has_user_joined: bool
    has_been_forcibly_ended: bool
    start_time: int
    end_time: int
    duration: int
    recording: bool
    participant_count: int
    moderator_count: int
    listener_count: int
    voice_participant_count: int
    video_count: int
    max_users: int
    attendees: tuple[Attendee, ...]
    metadata: dict[str, str]
    voice_bridge: str = ""
    dial_number: str = ""
    is_breakout: bool = False


@dataclass(frozen=True)
class PreviewImage:
    url: str
    alt: str = ""
    width: int = 0
    height: int = 0


@dataclass(frozen=True)
class PlaybackFormat:
    type: str
    url: str
    processing_time: int = 0
    #: minutes
    length: int = 0
    previews: tuple[PreviewImage, ...] = ()


@dataclass(frozen=True)
class Recording:
    record_id: str
    meeting_id: str
    internal_meeting_id: str
    name: str
    published: bool
    state: str
    start_time: int
    end_time: int
    participants: int
    metadata: dict[str, str]
    playback: tuple[PlaybackFormat, ...]
    is_breakout: bool = False
    size: int = 0

    def url(self, format_type: str = "presentation") -> str | None:
        for fmt in self.playback:
            if fmt.type == format_type:
                return fmt.url
        return self.playback[0].url if self.playback else None


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    version: str | None
    messages: list[str]


@dataclass(frozen=True)
class EndCallback:
    meeting_id: str
    recording_marks: bool


@dataclass(frozen=True)
class RecordingReady:
    meeting_id: str
    record_id: str


@dataclass(frozen=True)
class AnalyticsAttendee:
    user_id: str
    name: str
    moderator: bool
    #: seconds
    duration: int
    joins: tuple[str, ...] = ()
    leaves: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalyticsReport:
    meeting_id: str
    internal_meeting_id: str
    start: str
    finish: str
    #: seconds
    duration: int
    attendees: tuple[AnalyticsAttendee, ...]
    metadata: dict[str, str]


def _parse_attendee(el: ET.Element) -> Attendee:
    return Attendee(
        user_id=_text(el, "userID"),
        full_name=_text(el, "fullName"),
        role=_text(el, "role").upper(),
        is_presenter=_bool(el, "isPresenter"),
        is_listening_only=_bool(el, "isListeningOnly"),
        has_joined_voice=_bool(el, "hasJoinedVoice"),
        has_video=_bool(el, "hasVideo"),
        client_type=_text(el, "clientType"),
        custom_data=_children_text(el.find("customdata")),
    )


def _parse_meeting(el: ET.Element) -> MeetingInfo:
    return MeetingInfo(
        meeting_id=_text(el, "meetingID"),
        internal_meeting_id=_text(el, "internalMeetingID"),
        name=_text(el, "meetingName"),
        create_time=_int(el, "createTime"),
        create_date=_text(el, "createDate"),
        running=_bool(el, "running"),
        has_user_joined=_bool(el, "hasUserJoined"),
        has_been_forcibly_ended=_bool(el, "hasBeenForciblyEnded"),
        start_time=_int(el, "startTime"),
        end_time=_int(el, "endTime"),
        duration=_int(el, "duration"),
        recording=_bool(el, "recording"),
        participant_count=_int(el, "participantCount"),
        moderator_count=_int(el, "moderatorCount"),
        listener_count=_int(el, "listenerCount"),
        voice_participant_count=_int(el, "voiceParticipantCount"),
        video_count=_int(el, "videoCount"),
        max_users=_int(el, "maxUsers"),
        attendees=tuple(_parse_attendee(a) for a in el.iterfind("attendees/attendee")),
        metadata=_children_text(el.find("metadata")),
        voice_bridge=_text(el, "voiceBridge"),
        dial_number=_text(el, "dialNumber"),
        is_breakout=_bool(el, "isBreakout"),
    )


def _parse_format(el: ET.Element) -> PlaybackFormat:
    previews = []
    for img in el.iterfind("preview/images/image"):
        try:
            width, height = int(img.get("width") or 0), int(img.get("height") or 0)
        except ValueError:
            width = height = 0
        previews.append(
            PreviewImage(url=(img.text or "").strip(), alt=img.get("alt") or "", width=width, height=height)
        )
    return PlaybackFormat(
        type=_text(el, "type"),
        url=_text(el, "url"),
        processing_time=_int(el, "processingTime"),
        length=_int(el, "length"),
        previews=tuple(previews),
    )


def _parse_recording(el: ET.Element) -> Recording:
    state = _text(el, "state")
    published = _bool(el, "published")
    return Recording(
        record_id=_text(el, "recordID"),
        meeting_id=_text(el, "meetingID"),
        internal_meeting_id=_text(el, "internalMeetingID"),
        name=_text(el, "name"),
        published=published,
        state=state or ("published" if published else "unpublished"),
        start_time=_int(el, "startTime"),
        end_time=_int(el, "endTime"),
        participants=_int(el, "participants"),
        metadata=_children_text(el.find("metadata")),
        playback=tuple(_parse_format(f) for f in el.iterfind("playback/format")),
        is_breakout=_bool(el, "isBreakout"),
        size=_int(el, "size"),
    )


# --------------------------------------------------------------------------------------------
# Client
# --------------------------------------------------------------------------------------------


def _normalise_base_url(base_url: str) -> tuple[str, bool]:
    """Return the base URL ending in ``/`` and whether it looked like ``…/bigbluebutton/``."""
    url = base_url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("the BBB URL must be an http(s) URL such as https://bbb.example.org/bigbluebutton/")
    path = parts.path.rstrip("/")
    if path.endswith("/bigbluebutton/api"):  # a common mistake: the API URL instead of the base
        path = path[: -len("/api")]
    path += "/"
    return urlunsplit((parts.scheme, parts.netloc, path, "", "")), path.endswith("/bigbluebutton/")


def _join_ids(value: str | Iterable[str] | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    joined = ",".join(value)
    return joined or None


def _check_meeting_id(meeting_id: str) -> None:
    if not 2 <= len(meeting_id) <= 256 or "," in meeting_id:
        raise ValueError("a BBB meeting ID has 2 to 256 characters and no comma")


def _meta_params(meta: Mapping[str, str] | None) -> dict[str, ParamValue]:
    params: dict[str, ParamValue] = {}
    for key, value in (meta or {}).items():
        if not _META_NAME.match(key):
            raise ValueError(f"BBB drops meta names like {key!r}: use letters, digits and '-' (no '_')")
        params[f"meta_{key}"] = value
    return params


class BBBClient:
    """Client for one BBB server (or Scalelite). Thread-safe as far as ``requests`` is."""

    #: calls that may be repeated safely (create is idempotent in BBB, §3.1)
    IDEMPOTENT_CALLS = frozenset({"", "create", "getMeetingInfo", "isMeetingRunning", "getMeetings", "getRecordings"})

    def __init__(
        self,
        base_url: str,
        secret: str,
        checksum: str = "sha256",
        timeout: float = 5.0,
        session: requests.Session | None = None,
        retries: int = 2,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if checksum not in CHECKSUM_ALGORITHMS:
            raise ValueError(f"checksum must be one of {', '.join(CHECKSUM_ALGORITHMS)}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.base_url, self.url_looks_right = _normalise_base_url(base_url)
        self._given_url = base_url.strip()
        # §1.4.6: whitespace copied along with the secret is the most common real-world fault
        self._secret = secret.strip()
        self._secret_was_padded = secret != self._secret
        self.checksum = checksum
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.session = session if session is not None else requests.Session()
        self._sleep = sleep

    def __repr__(self) -> str:  # never show the secret
        return f"BBBClient({self.base_url!r}, checksum={self.checksum!r})"

    def close(self) -> None:
        """Close the HTTP session (also one passed in)."""
        self.session.close()

    def __enter__(self) -> BBBClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- URLs ---------------------------------------------------------------------------------

    def _host(self) -> str:
        return urlsplit(self.base_url).netloc

    def api_url(self, call: str, params: Mapping[str, ParamValue] | None = None) -> str:
        """The signed URL of an API call (contains a checksum: never log it)."""
        query = signed_query(call, params or {}, self._secret, self.checksum)
        return f"{self.base_url}api/{call}?{query}"

    def join_url(
        self,
        meeting_id: str,
        full_name: str,
        role: Role | str,
        user_id: str,
        create_time: int | None = None,
        extra: Mapping[str, ParamValue] | None = None,
    ) -> str:
        """Signed join URL for the user's browser (§3.2). No HTTP.

        Uses ``role`` (BBB ≥ 2.4) instead of passwords; ``create_time`` (from
        :meth:`create`/:meth:`get_meeting_info`) stops the URL from working for a later session
        with the same meeting ID. The URL carries a checksum: do not log it.
        """
        role_upper = str(role).upper()
        if role_upper not in ("MODERATOR", "VIEWER"):
            raise ValueError("role must be MODERATOR or VIEWER")
        _check_meeting_id(meeting_id)
        if not full_name.strip():
            raise ValueError("full_name must not be empty")
        if not user_id:
            raise ValueError("user_id must not be empty")
        params: dict[str, ParamValue] = {
            "meetingID": meeting_id,
            "fullName": full_name.strip(),
            "role": role_upper,
            "userID": user_id,
            "createTime": create_time,
        }
        for key, value in (extra or {}).items():
            if key in params or key == "checksum":
                raise ValueError(f"extra must not override {key!r}")
            params[key] = value
        return self.api_url("join", params)

    # -- transport ----------------------------------------------------------------------------

    def _call(self, call: str, params: Mapping[str, ParamValue] | None = None, *, signed: bool = True) -> ET.Element:
        if signed:
            url = self.api_url(call, params)
        else:
            url = f"{self.base_url}api" + (f"/{call}" if call else "")
        label = call or "version"
        attempts = 1 + (self.retries if call in self.IDEMPOTENT_CALLS else 0)
        deadline = time.monotonic() + self.timeout
        last: BBBUnavailable | None = None
        for attempt in range(attempts):
            if attempt:
                pause = min(_BACKOFF_SECONDS * 2 ** (attempt - 1), deadline - time.monotonic())
                if pause > 0:
                    self._sleep(pause)
            remaining = deadline - time.monotonic()
            if remaining <= 0.05:
                break
            try:
                response = self.session.get(url, timeout=remaining, allow_redirects=False)
            except requests.Timeout:
                last = BBBUnavailable(
                    "timeout",
                    f"BigBlueButton at {self._host()} did not answer within {self.timeout:g} s ({label}).",
                )
                continue
            except requests.ConnectionError as exc:
                last = BBBUnavailable(
                    "connectionError",
                    f"Cannot connect to BigBlueButton at {self._host()} ({label}: {type(exc).__name__}).",
                )
                continue
            except requests.RequestException as exc:
                # the exception text contains the URL with the checksum: never show it
                raise BBBUnavailable(
                    "requestError",
                    f"The request to BigBlueButton at {self._host()} failed ({label}: {type(exc).__name__}).",
                ) from None
            try:
                if response.status_code >= 500:
                    last = BBBUnavailable(
                        "httpError",
                        f"BigBlueButton at {self._host()} answered HTTP {response.status_code} ({label}).",
                    )
                    continue
                return self._interpret(label, response)
            finally:
                response.close()
        raise last or BBBUnavailable(
            "timeout",
            f"BigBlueButton at {self._host()} did not answer within {self.timeout:g} s ({label}).",
        )

    def _interpret(self, label: str, response: requests.Response) -> ET.Element:
        status = response.status_code
        if 300 <= status < 400:
            target = urlsplit(response.headers.get("Location", ""))
            where = urlunsplit((target.scheme, target.netloc, target.path, "", ""))
            raise BBBUnavailable(
                "httpRedirect",
                f"BigBlueButton at {self._host()} redirects ({label}) to {where or 'elsewhere'}:"
                " check the URL (https? path?).",
            )
        try:
            root = parse_response_xml(response.content)
        except InvalidResponse as exc:
            raise InvalidResponse(
                exc.message_key,
                f"{self._host()} does not answer like BigBlueButton ({label}, HTTP {status}): {exc.message}",
            ) from None
        returncode = _text(root, "returncode")
        if returncode == "SUCCESS":
            return root
        if returncode == "FAILED":
            error = error_from_response(root)
            error.message = self._scrub(error.message)
            error.args = (error.message_key, error.message)
            raise error
        raise InvalidResponse(
            "invalidResponse",
            f"{self._host()} answered without a BigBlueButton returncode ({label}, HTTP {status}).",
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    # -- calls --------------------------------------------------------------------------------

    def get_api_version(self) -> ApiVersion:
        """The API root (§3.0): no checksum needed; a cheap reachability check."""
        root = self._call("", signed=False)
        values = _children_text(root)
        values.pop("returncode", None)
        version = values.pop("version", None)
        api_version = values.pop("apiVersion", None)
        bbb_version = values.pop("bbbVersion", None)
        return ApiVersion(
            version=version or None,
            api_version=api_version or None,
            bbb_version=bbb_version or None,
            extra=values,
        )

    def create(
        self,
        meeting_id: str,
        name: str,
        *,
        record: bool = False,
        auto_start_recording: bool | None = None,
        allow_start_stop_recording: bool | None = None,
        mute_on_start: bool | None = None,
        guest_policy: str | None = None,
        welcome: str | None = None,
        moderator_only_message: str | None = None,
        duration: int | None = None,
        max_participants: int | None = None,
        logout_url: str | None = None,
        meta: Mapping[str, str] | None = None,
        end_callback_url: str | None = None,
        recording_ready_url: str | None = None,
        analytics_callback_url: str | None = None,
        meeting_keep_events: bool | None = None,
        end_when_no_moderator: bool | None = None,
        lock_settings_disable_cam: bool | None = None,
        lock_settings_disable_mic: bool | None = None,
        lock_settings_disable_private_chat: bool | None = None,
        lock_settings_disable_public_chat: bool | None = None,
        lock_settings_disable_notes: bool | None = None,
        lock_settings_hide_user_list: bool | None = None,
        lock_settings_lock_on_join: bool | None = None,
        webcams_only_for_moderator: bool | None = None,
        disabled_features: Sequence[str] | None = None,
        meeting_layout: str | None = None,
        banner_text: str | None = None,
        extra: Mapping[str, ParamValue] | None = None,
    ) -> CreatedMeeting:
        """Create the meeting, or get the existing one (§3.1).

        Idempotent: with the same ``meeting_id`` BBB answers ``duplicateWarning`` with the
        existing meeting (``CreatedMeeting.duplicate``) and ignores the other parameters. No
        passwords are sent, which keeps repeated creates idempotent.

        "Wait for the moderator" is not a BBB parameter: hand out viewer join URLs only once
        :meth:`is_meeting_running` says so (or a moderator joined). ``guest_policy``
        (``ALWAYS_ACCEPT``/``ALWAYS_DENY``/``ASK_MODERATOR``) applies to joins with
        ``guest=true``. Create just before the first join: an empty meeting vanishes after
        5 minutes.
        """
        _check_meeting_id(meeting_id)
        if not 2 <= len(name.strip()) <= 256:
            raise ValueError("a BBB meeting name has 2 to 256 characters")
        if guest_policy is not None and guest_policy not in (
            "ALWAYS_ACCEPT",
            "ALWAYS_DENY",
            "ASK_MODERATOR",
            "ALWAYS_ACCEPT_AUTH",
        ):
            raise ValueError("unknown guest policy")
        params: dict[str, ParamValue] = {
            "meetingID": meeting_id,
            "name": name.strip(),
            "record": record,
            "autoStartRecording": auto_start_recording,
            "allowStartStopRecording": allow_start_stop_recording,
            "muteOnStart": mute_on_start,
            "guestPolicy": guest_policy,
            "welcome": welcome,
            "moderatorOnlyMessage": moderator_only_message,
            "duration": duration,
            "maxParticipants": max_participants,
            "logoutURL": logout_url,
            "endWhenNoModerator": end_when_no_moderator,
            "lockSettingsDisableCam": lock_settings_disable_cam,
            "lockSettingsDisableMic": lock_settings_disable_mic,
            "lockSettingsDisablePrivateChat": lock_settings_disable_private_chat,
            "lockSettingsDisablePublicChat": lock_settings_disable_public_chat,
            "lockSettingsDisableNotes": lock_settings_disable_notes,
            "lockSettingsHideUserList": lock_settings_hide_user_list,
            "lockSettingsLockOnJoin": lock_settings_lock_on_join,
            "webcamsOnlyForModerator": webcams_only_for_moderator,
            "disabledFeatures": ",".join(disabled_features) if disabled_features else None,
            "meetingLayout": meeting_layout,
            "bannerText": banner_text,
            "meetingKeepEvents": meeting_keep_events,
        }
        all_meta = dict(meta or {})
        if end_callback_url:
            all_meta["endCallbackUrl"] = end_callback_url
        if recording_ready_url:
            all_meta["bbb-recording-ready-url"] = recording_ready_url
        if analytics_callback_url:
            all_meta["analytics-callback-url"] = analytics_callback_url
            if meeting_keep_events is None:
                params["meetingKeepEvents"] = True  # §5.3: no events.xml, no callback
        params.update(_meta_params(all_meta))
        for key, value in (extra or {}).items():
            if key in ("meetingID", "name", "checksum"):
                raise ValueError(f"extra must not override {key!r}")
            params[key] = value
        root = self._call("create", params)
        return CreatedMeeting(
            meeting_id=_text(root, "meetingID") or meeting_id,
            internal_meeting_id=_text(root, "internalMeetingID"),
            create_time=_int(root, "createTime"),
            duplicate=_text(root, "messageKey") == "duplicateWarning",
            voice_bridge=_text(root, "voiceBridge"),
            dial_number=_text(root, "dialNumber"),
            create_date=_text(root, "createDate"),
            has_user_joined=_bool(root, "hasUserJoined"),
            has_been_forcibly_ended=_bool(root, "hasBeenForciblyEnded"),
            duration=_int(root, "duration"),
            attendee_pw=_text(root, "attendeePW"),
            moderator_pw=_text(root, "moderatorPW"),
            parent_meeting_id=_text(root, "parentMeetingID"),
        )

    def is_meeting_running(self, meeting_id: str) -> bool:
        """True while at least one user is in the meeting; unknown meetings are not running."""
        root = self._call("isMeetingRunning", {"meetingID": meeting_id})
        return _bool(root, "running")

    def get_meeting_info(self, meeting_id: str) -> MeetingInfo:
        """Raises :class:`NotFoundError` for unknown (or already removed) meetings."""
        root = self._call("getMeetingInfo", {"meetingID": meeting_id})
        return _parse_meeting(root)

    def get_meetings(self) -> list[MeetingInfo]:
        root = self._call("getMeetings")
        return [_parse_meeting(m) for m in root.iterfind("meetings/meeting")]

    def end(self, meeting_id: str, *, missing_ok: bool = False) -> bool:
        """Ask BBB to end the meeting (asynchronous, §3.3). Never retried.

        Returns True when the end request was accepted, False when the meeting did not exist
        and ``missing_ok`` is set (otherwise :class:`NotFoundError`)."""
        try:
            self._call("end", {"meetingID": meeting_id})
        except NotFoundError:
            if missing_ok:
                return False
            raise
        return True

    def get_recordings(
        self,
        meeting_id: str | Iterable[str] | None = None,
        record_id: str | Iterable[str] | None = None,
        state: str | Iterable[str] | None = None,
        meta: Mapping[str, str] | None = None,
        *,
        offset: int | None = None,
        limit: int | None = None,
    ) -> list[Recording]:
        """Recordings (§3.7). ``meeting_id``/``record_id`` may be lists; ``record_id`` matches
        as a prefix on the server. ``state`` defaults (server-side) to published+unpublished."""
        params: dict[str, ParamValue] = {
            "meetingID": _join_ids(meeting_id),
            "recordID": _join_ids(record_id),
            "state": _join_ids(state),
            "offset": offset,
            "limit": limit,
        }
        params.update(_meta_params(meta))
        root = self._call("getRecordings", params)
        return [_parse_recording(r) for r in root.iterfind("recordings/recording")]

    def publish_recordings(self, record_ids: str | Iterable[str], publish: bool) -> bool:
        ids = _join_ids(record_ids)
        if not ids:
            raise ValueError("record_ids must not be empty")
        root = self._call("publishRecordings", {"recordID": ids, "publish": bool(publish)})
        return _bool(root, "published")

    def delete_recordings(self, record_ids: str | Iterable[str]) -> bool:
        ids = _join_ids(record_ids)
        if not ids:
            raise ValueError("record_ids must not be empty")
        root = self._call("deleteRecordings", {"recordID": ids})
        return _bool(root, "deleted")

    def update_recordings(self, record_ids: str | Iterable[str], meta: Mapping[str, str]) -> bool:
        """Set recording metadata (an empty value removes the key)."""
        ids = _join_ids(record_ids)
        if not ids:
            raise ValueError("record_ids must not be empty")
        params: dict[str, ParamValue] = {"recordID": ids}
        params.update(_meta_params(meta))
        root = self._call("updateRecordings", params)
        return _bool(root, "updated")

    # -- operator check -----------------------------------------------------------------------

    def check(self) -> CheckReport:
        """Tell an operator whether URL, secret and checksum algorithm work
        (``medienwerk bbb check``). Never raises for server problems."""
        messages: list[str] = []
        if not self.url_looks_right:
            messages.append(
                f"The URL {self.base_url} does not end in /bigbluebutton/ — BBB and Scalelite "
                "serve the API at https://<host>/bigbluebutton/api/."
            )
        elif self._given_url.rstrip("/") != self.base_url.rstrip("/"):
            messages.append(f"The URL was read as {self.base_url}.")
        parts = urlsplit(self.base_url)
        if parts.scheme == "http" and not _is_local(parts.hostname or ""):
            messages.append("The URL uses http:// — use https:// outside a test setup.")
        if self._secret_was_padded:
            messages.append("The secret had spaces or line breaks around it; they are ignored.")
        if not self._secret:
            messages.append("The secret is empty.")

        try:
            info = self.get_api_version()
        except InvalidResponse as exc:
            messages.append(f"Not a BigBlueButton API: {exc.message}")
            return CheckReport(False, None, messages)
        except BBBUnavailable as exc:
            messages.append(f"BigBlueButton is not reachable: {exc.message}")
            return CheckReport(False, None, messages)
        except BBBError as exc:
            messages.append(f"The API root answered with an error: {exc}")
            return CheckReport(False, None, messages)
        version = info.api_version or info.version
        kind = "a load balancer (Scalelite?)" if info.looks_like_load_balancer else "BigBlueButton"
        detail = f", BigBlueButton {info.bbb_version}" if info.bbb_version else ""
        messages.append(f"Reachable: {kind}, API version {version or 'unknown'}{detail}.")

        probe_id = f"medienwerk-check-{_secrets.token_hex(6)}"
        try:
            self.is_meeting_running(probe_id)
        except ChecksumError:
            messages.append(f"The server rejected the {self.checksum} checksum (checksumError).")
            working = [
                algo for algo in CHECKSUM_ALGORITHMS if algo != self.checksum and self._probe_algorithm(algo, probe_id)
            ]
            if working:
                best = "sha256" if "sha256" in working else working[-1]
                messages.append(
                    f"The secret is right, but the server does not accept {self.checksum}; it "
                    f"accepts {', '.join(working)}. Set MEDIENWERK_BBB_CHECKSUM={best}."
                )
            else:
                messages.append(
                    "The secret is probably wrong (compare with `bbb-conf --secret` on the BBB "
                    "server, or LOADBALANCER_SECRET on Scalelite; watch for copied spaces), or "
                    "the server restricts supportedChecksumAlgorithms."
                )
            if self.checksum == "sha384" and info.looks_like_load_balancer:
                messages.append("This server looks like Scalelite, which accepts no sha384: use sha256.")
            return CheckReport(False, version, messages)
        except BBBUnavailable as exc:
            messages.append(f"A signed call failed: {exc.message}")
            return CheckReport(False, version, messages)
        except BBBError as exc:
            messages.append(f"A signed call failed: {exc}")
            return CheckReport(False, version, messages)
        messages.append(f"Secret and checksum algorithm {self.checksum} are accepted.")
        if self.checksum == "sha384" and info.looks_like_load_balancer:
            messages.append("Note: Scalelite accepts no sha384; if this is Scalelite, prefer sha256.")
        if self.checksum == "sha1":
            messages.append("sha1 works, but sha256 is supported everywhere and stronger.")
        return CheckReport(True, version, messages)

    def _probe_algorithm(self, algorithm: str, probe_id: str) -> bool:
        other = replace_client(self, checksum=algorithm, retries=0)
        try:
            other.is_meeting_running(probe_id)
        except BBBError:
            return False
        return True


def replace_client(client: BBBClient, **changes: Any) -> BBBClient:
    """A copy of ``client`` with some constructor arguments changed (same session)."""
    kwargs: dict[str, Any] = {
        "base_url": client.base_url,
        "secret": client._secret,
        "checksum": client.checksum,
        "timeout": client.timeout,
        "session": client.session,
        "retries": client.retries,
        "sleep": client._sleep,
    }
    kwargs.update(changes)
    return BBBClient(**kwargs)


def _is_local(host: str) -> bool:
    if host in ("localhost",) or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# --------------------------------------------------------------------------------------------
# Callbacks (§5)
# --------------------------------------------------------------------------------------------


class _LenientHMAC(HMACAlgorithm):
    """BBB signs with its shared secret, whatever its length: no key-length warning."""

    def check_key_length(self, key: bytes) -> str | None:
        return None


def _make_jwt() -> jwt.PyJWT:
    codec = jwt.PyJWT()
    jws = getattr(codec, "_jws", None)
    if jws is not None and hasattr(jws, "register_algorithm"):
        for name, hash_alg in (
            ("HS256", HMACAlgorithm.SHA256),
            ("HS384", HMACAlgorithm.SHA384),
            ("HS512", HMACAlgorithm.SHA512),
        ):
            jws.unregister_algorithm(name)
            jws.register_algorithm(name, _LenientHMAC(hash_alg))
    return codec


_JWT = _make_jwt()


def verify_analytics_callback(authorization_header: str | None, secret: str, *, leeway: float = 60.0) -> dict[str, Any]:
    """Check the ``Authorization: Bearer <JWT>`` of an analytics callback (§5.3).

    BBB signs ``{"exp": now + 24h}`` with HS512 and the shared secret (behind Scalelite: the
    load balancer's secret). The token does not cover the body; it only proves the sender knows
    the secret. Returns the claims; raises :class:`CallbackAuthError`.
    """
    if not authorization_header:
        raise CallbackAuthError("missingAuthorization", "The callback has no Authorization header.")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise CallbackAuthError("invalidAuthorization", "The callback's Authorization header is not a Bearer token.")
    try:
        claims: dict[str, Any] = _JWT.decode(
            token,
            secret.strip(),
            algorithms=["HS512"],
            options={"require": ["exp"]},
            leeway=leeway,
        )
    except jwt.ExpiredSignatureError:
        raise CallbackAuthError("expiredToken", "The callback's token has expired.") from None
    except jwt.InvalidTokenError:
        raise CallbackAuthError(
            "invalidToken", "The callback's token is not valid (wrong secret or algorithm?)."
        ) from None
    return claims


def verify_recording_ready_callback(signed_parameters: str | None, secret: str) -> RecordingReady:
    """Decode the ``signed_parameters`` form field of a recording-ready callback (§5.2).

    BBB uses HS256 with no ``exp``; Scalelite re-signs with HS256 or HS512. The callback can
    arrive more than once (once per playback format): handle it idempotently.
    """
    if not signed_parameters:
        raise CallbackAuthError("missingToken", "The callback has no signed_parameters.")
    try:
        claims = _JWT.decode(signed_parameters.strip(), secret.strip(), algorithms=["HS256", "HS512"])
    except jwt.ExpiredSignatureError:
        raise CallbackAuthError("expiredToken", "The callback's token has expired.") from None
    except jwt.InvalidTokenError:
        raise CallbackAuthError(
            "invalidToken", "The callback's token is not valid (wrong secret or algorithm?)."
        ) from None
    meeting_id, record_id = claims.get("meeting_id"), claims.get("record_id")
    if not isinstance(meeting_id, str) or not isinstance(record_id, str):
        raise CallbackAuthError("invalidToken", "The callback's token lacks meeting_id/record_id.")
    return RecordingReady(meeting_id=meeting_id, record_id=record_id)


_END_SIG_PARAM = "mwsig"


def _end_signature(meeting_id: str, key: str | bytes) -> str:
    raw = key.encode("utf-8") if isinstance(key, str) else key
    return hmac.new(raw, b"bbb-end-callback:" + meeting_id.encode("utf-8"), "sha256").hexdigest()


def end_callback_url(url: str, meeting_id: str, key: str | bytes) -> str:
    """The URL to pass as ``end_callback_url``: BBB does not sign end callbacks (§5.1), so we
    add our own HMAC of the meeting ID (``mwsig``); BBB appends ``meetingID`` and
    ``recordingmarks`` and keeps existing parameters. Check it with :func:`verify_end_callback`.
    """
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in query if k != _END_SIG_PARAM]
    query.append((_END_SIG_PARAM, _end_signature(meeting_id, key)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def verify_end_callback(args: Mapping[str, str], key: str | bytes) -> EndCallback:
    """Check an end callback's query parameters (``meetingID``, ``recordingmarks``, ``mwsig``).

    Even when valid, treat it as a hint and confirm with ``is_meeting_running``."""
    meeting_id = args.get("meetingID") or ""
    given = args.get(_END_SIG_PARAM) or ""
    if not meeting_id:
        raise CallbackAuthError("missingParamMeetingID", "The end callback has no meetingID.")
    if not given or not hmac.compare_digest(given, _end_signature(meeting_id, key)):
        raise CallbackAuthError("invalidSignature", "The end callback's signature is not valid.")
    return EndCallback(
        meeting_id=meeting_id,
        recording_marks=(args.get("recordingmarks") or "").lower() == "true",
    )


def _as_str_tuple(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(v) for v in value if isinstance(v, str | int | float))


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def parse_analytics_payload(payload: Mapping[str, Any]) -> AnalyticsReport:
    """Read the JSON body of an analytics callback (§5.3) defensively: missing keys are empty."""
    data = payload.get("data")
    if not isinstance(data, Mapping):
        data = {}
    attendees = []
    for item in data.get("attendees") or []:
        if not isinstance(item, Mapping):
            continue
        attendees.append(
            AnalyticsAttendee(
                user_id=str(item.get("ext_user_id") or ""),
                name=str(item.get("name") or ""),
                moderator=item.get("moderator") is True,
                duration=_as_int(item.get("duration")),
                joins=_as_str_tuple(item.get("joins")),
                leaves=_as_str_tuple(item.get("leaves")),
            )
        )
    metadata = data.get("metadata")
    return AnalyticsReport(
        meeting_id=str(payload.get("meeting_id") or ""),
        internal_meeting_id=str(payload.get("internal_meeting_id") or ""),
        start=str(data.get("start") or ""),
        finish=str(data.get("finish") or ""),
        duration=_as_int(data.get("duration")),
        attendees=tuple(attendees),
        metadata=({str(k): str(v) for k, v in metadata.items()} if isinstance(metadata, Mapping) else {}),
    )


def parse_iso_time(value: str) -> datetime | None:
    """Analytics timestamps (``2024-05-09T13:35:40.000+00:00``) as aware datetimes."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
