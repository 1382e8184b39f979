"""The callbacks BBB makes (§5 of the reference), checked with the shared secret.

* Recording ready (§5.2): a form field ``signed_parameters``, an HS256 JWT (Scalelite re-signs with HS256 or
  HS512) with ``meeting_id`` and ``record_id``; no ``exp``; may arrive more than once.
* Analytics (§5.3): a JSON body with ``Authorization: Bearer <JWT>`` (HS512, ``exp`` = now + 24 h). The token
  does not cover the body; it only proves the sender knows the secret.
* The end callback (§5.1) is not signed by BBB: the tool authenticates it by an unguessable token in its path
  and confirms with ``isMeetingRunning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import jwt
from jwt.algorithms import HMACAlgorithm

from lms.bbb.errors import CallbackAuthError


@dataclass(frozen=True)
class RecordingReady:
    meeting_id: str
    record_id: str


@dataclass(frozen=True)
class AnalyticsAttendee:
    #: the ``userID`` given at join (``ext_user_id``)
    user_id: str
    moderator: bool
    #: seconds
    duration: int
    joins: tuple[str, ...] = ()
    leaves: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnalyticsReport:
    meeting_id: str
    finish: str
    attendees: tuple[AnalyticsAttendee, ...]


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


def _invalid() -> CallbackAuthError:
    return CallbackAuthError("invalidToken", "The callback's token is not valid (wrong secret or algorithm?).")


def verify_analytics_callback(authorization_header: str | None, secret: str, *, leeway: float = 60.0) -> dict[str, Any]:
    """Check the ``Authorization: Bearer <JWT>`` of an analytics callback; returns the claims or raises
    :class:`CallbackAuthError`. Behind Scalelite the secret is the load balancer's."""
    if not authorization_header:
        raise CallbackAuthError("missingAuthorization", "The callback has no Authorization header.")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise CallbackAuthError("invalidAuthorization", "The callback's Authorization header is not a Bearer token.")
    try:
        claims: dict[str, Any] = _JWT.decode(
            token, secret.strip(), algorithms=["HS512"], options={"require": ["exp"]}, leeway=leeway
        )
    except jwt.ExpiredSignatureError:
        raise CallbackAuthError("expiredToken", "The callback's token has expired.") from None
    except jwt.InvalidTokenError:
        raise _invalid() from None
    return claims


def verify_recording_ready_callback(signed_parameters: str | None, secret: str) -> RecordingReady:
    """Decode the ``signed_parameters`` form field of a recording-ready callback. Handle it idempotently: it
    can arrive once per playback format."""
    if not signed_parameters:
        raise CallbackAuthError("missingToken", "The callback has no signed_parameters.")
    try:
        claims = _JWT.decode(signed_parameters.strip(), secret.strip(), algorithms=["HS256", "HS512"])
    except jwt.ExpiredSignatureError:
        raise CallbackAuthError("expiredToken", "The callback's token has expired.") from None
    except jwt.InvalidTokenError:
        raise _invalid() from None
    meeting_id, record_id = claims.get("meeting_id"), claims.get("record_id")
    if not isinstance(meeting_id, str) or not isinstance(record_id, str):
        raise CallbackAuthError("invalidToken", "The callback's token lacks meeting_id/record_id.")
    return RecordingReady(meeting_id=meeting_id, record_id=record_id)


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
    """Read the JSON body of an analytics callback defensively: missing keys are empty. Names are not kept."""
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
                moderator=item.get("moderator") is True,
                duration=_as_int(item.get("duration")),
                joins=_as_str_tuple(item.get("joins")),
                leaves=_as_str_tuple(item.get("leaves")),
            )
        )
    return AnalyticsReport(
        meeting_id=str(payload.get("meeting_id") or ""),
        finish=str(data.get("finish") or ""),
        attendees=tuple(attendees),
    )


def parse_iso_time(value: str) -> datetime | None:
    """Analytics timestamps (``2024-05-09T13:35:40.000+00:00``) as aware datetimes."""
    try:
        return datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
