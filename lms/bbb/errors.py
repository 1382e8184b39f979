"""The errors of the BigBlueButton client. Branch on the class or on ``message_key`` (BBB's stable key), never
on the message text. No message ever contains the shared secret or a checksum."""

from __future__ import annotations

from collections.abc import Sequence


class BBBError(Exception):
    """A BigBlueButton call failed. ``message_key`` is BBB's stable key (§2 of the reference)."""

    def __init__(self, message_key: str, message: str, *, errors: Sequence[tuple[str, str]] = ()) -> None:
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


ERRORS_BY_KEY: dict[str, type[BBBError]] = {
    "checksumError": ChecksumError,
    "notFound": NotFoundError,
    "invalidMeetingIdentifier": NotFoundError,
    # Scalelite relays backend HTTP failures like this (§6.1).
    "internalError": BBBUnavailable,
    "serverUnavailable": BBBUnavailable,
}
