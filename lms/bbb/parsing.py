"""BBB's XML answers (§2, §3 of the reference), read defensively: no DTDs at all, single-vs-list elements,
empty elements, both error forms, HTML pages from proxies. Only what the tool uses is kept of each answer."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET  # noqa: S405 - DTDs are rejected before parsing, see parse_response_xml
from dataclasses import dataclass

from lms.bbb.errors import ERRORS_BY_KEY, BBBError, InvalidResponse

# §1.4: never let a DTD reach the parser (billion laughs, external entities).
_DTD = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)


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
    cls = ERRORS_BY_KEY.get(key, BBBError)
    return cls(key or "unknownError", message or "BigBlueButton reported an error without a message.", errors=errors)


def text(el: ET.Element | None, tag: str, default: str = "") -> str:
    if el is None:
        return default
    value = el.findtext(tag)
    return default if value is None else value.strip()


def flag(el: ET.Element, tag: str) -> bool:
    return text(el, tag).lower() == "true"


def number(el: ET.Element, tag: str) -> int:
    try:
        return int(text(el, tag))
    except ValueError:
        return 0


def children_text(el: ET.Element | None) -> dict[str, str]:
    if el is None:
        return {}
    return {child.tag: (child.text or "").strip() for child in el}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedMeeting:
    meeting_id: str
    internal_meeting_id: str
    create_time: int
    #: True when BBB answered ``duplicateWarning``: the meeting already existed (and the other
    #: parameters of this call were ignored)
    duplicate: bool


@dataclass(frozen=True)
class Attendee:
    user_id: str
    full_name: str
    role: str

    @property
    def is_moderator(self) -> bool:
        return self.role == "MODERATOR"


@dataclass(frozen=True)
class MeetingInfo:
    meeting_id: str
    internal_meeting_id: str
    name: str
    create_time: int
    running: bool
    has_user_joined: bool
    participant_count: int
    moderator_count: int
    attendees: tuple[Attendee, ...]
    metadata: dict[str, str]


@dataclass(frozen=True)
class PlaybackFormat:
    type: str
    url: str
    #: minutes
    length: int = 0


@dataclass(frozen=True)
class Recording:
    record_id: str
    meeting_id: str
    name: str
    published: bool
    state: str
    metadata: dict[str, str]
    playback: tuple[PlaybackFormat, ...]

    def url(self, format_type: str = "presentation") -> str | None:
        for fmt in self.playback:
            if fmt.type == format_type:
                return fmt.url
        return self.playback[0].url if self.playback else None


def created_meeting(root: ET.Element, meeting_id: str) -> CreatedMeeting:
    return CreatedMeeting(
        meeting_id=text(root, "meetingID") or meeting_id,
        internal_meeting_id=text(root, "internalMeetingID"),
        create_time=number(root, "createTime"),
        duplicate=text(root, "messageKey") == "duplicateWarning",
    )


def meeting_info(el: ET.Element) -> MeetingInfo:
    return MeetingInfo(
        meeting_id=text(el, "meetingID"),
        internal_meeting_id=text(el, "internalMeetingID"),
        name=text(el, "meetingName"),
        create_time=number(el, "createTime"),
        running=flag(el, "running"),
        has_user_joined=flag(el, "hasUserJoined"),
        participant_count=number(el, "participantCount"),
        moderator_count=number(el, "moderatorCount"),
        attendees=tuple(
            Attendee(user_id=text(a, "userID"), full_name=text(a, "fullName"), role=text(a, "role").upper())
            for a in el.iterfind("attendees/attendee")
        ),
        metadata=children_text(el.find("metadata")),
    )


def recording(el: ET.Element) -> Recording:
    state = text(el, "state")
    published = flag(el, "published")
    return Recording(
        record_id=text(el, "recordID"),
        meeting_id=text(el, "meetingID"),
        name=text(el, "name"),
        published=published,
        state=state or ("published" if published else "unpublished"),
        metadata=children_text(el.find("metadata")),
        playback=tuple(
            PlaybackFormat(type=text(f, "type"), url=text(f, "url"), length=number(f, "length"))
            for f in el.iterfind("playback/format")
        ),
    )
