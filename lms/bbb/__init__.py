"""A BigBlueButton API client, independent of the app: it imports nothing of ``lms`` and nothing of Flask.

Implements the server API as described in /work/shared/reference/bbb-api.md (docs:
https://docs.bigbluebutton.org/development/api); the § numbers in the modules are those of that note.

* :mod:`lms.bbb.checksums` — signing query strings (§1)
* :mod:`lms.bbb.parsing` — reading BBB's XML answers defensively (§2, §3) into small dataclasses
* :mod:`lms.bbb.client` — :class:`BBBClient`: timeouts, retries of idempotent calls, the operator check
* :mod:`lms.bbb.callbacks` — verifying recording-ready and analytics callbacks (§5)
* :mod:`lms.bbb.errors` — :class:`BBBError` and its family

Its test twin, :mod:`lms.demo.bbb_double`, shares no code with it on purpose (a signing bug cannot hide in
both); import-linter keeps it that way.
"""

from lms.bbb.callbacks import (
    AnalyticsAttendee,
    AnalyticsReport,
    RecordingReady,
    parse_analytics_payload,
    parse_iso_time,
    verify_analytics_callback,
    verify_recording_ready_callback,
)
from lms.bbb.checksums import CHECKSUM_ALGORITHMS, build_query, checksum, signed_query
from lms.bbb.client import BBBClient, CheckReport
from lms.bbb.errors import BBBError, BBBUnavailable, CallbackAuthError, ChecksumError, InvalidResponse, NotFoundError
from lms.bbb.parsing import (
    Attendee,
    CreatedMeeting,
    MeetingInfo,
    PlaybackFormat,
    Recording,
    error_from_response,
    parse_response_xml,
)

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "AnalyticsAttendee",
    "AnalyticsReport",
    "Attendee",
    "BBBClient",
    "BBBError",
    "BBBUnavailable",
    "CallbackAuthError",
    "CheckReport",
    "ChecksumError",
    "CreatedMeeting",
    "InvalidResponse",
    "MeetingInfo",
    "NotFoundError",
    "PlaybackFormat",
    "Recording",
    "RecordingReady",
    "build_query",
    "checksum",
    "error_from_response",
    "parse_analytics_payload",
    "parse_iso_time",
    "parse_response_xml",
    "signed_query",
    "verify_analytics_callback",
    "verify_recording_ready_callback",
]
