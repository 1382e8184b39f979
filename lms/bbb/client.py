"""The client for one BBB server (or a load balancer such as Scalelite).

* Every call has a time budget (``timeout``: all attempts together) so a person sees a clear message within
  a few seconds; only idempotent calls are retried, and only on connection errors, timeouts and HTTP 5xx.
* No error message ever contains the secret or a checksum (they sit in the request URL, so ``requests``
  exceptions are never shown or chained).
* Only the calls the tool makes: create, join URLs, getMeetingInfo, isMeetingRunning, getRecordings,
  publishRecordings, deleteRecordings, and the operator's check (``medienwerk bbb check``).
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import time
import xml.etree.ElementTree as ET  # noqa: S405 - only the type; parsing is in lms.bbb.parsing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import requests

from lms.bbb import parsing
from lms.bbb.checksums import CHECKSUM_ALGORITHMS, ParamValue, signed_query
from lms.bbb.errors import BBBError, BBBUnavailable, ChecksumError, InvalidResponse
from lms.bbb.parsing import CreatedMeeting, MeetingInfo, Recording

Role = Literal["MODERATOR", "VIEWER"]
GUEST_POLICIES = ("ALWAYS_ACCEPT", "ALWAYS_DENY", "ASK_MODERATOR", "ALWAYS_ACCEPT_AUTH")

# §3.1: meta_ names BBB keeps; anything else is dropped silently by the server.
_META_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*\Z")
_BACKOFF_SECONDS = 0.2


@dataclass(frozen=True)
class CheckReport:
    ok: bool
    version: str | None
    messages: list[str]


@dataclass(frozen=True)
class _ApiVersion:
    version: str | None
    api_version: str | None
    bbb_version: str | None

    @property
    def looks_like_load_balancer(self) -> bool:
        """Scalelite/bbblb answer without ``apiVersion`` (§3.0)."""
        return self.api_version is None


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


def _check_meeting_id(meeting_id: str) -> None:
    if not 2 <= len(meeting_id) <= 256 or "," in meeting_id:
        raise ValueError("a BBB meeting ID has 2 to 256 characters and no comma")


def _meta_params(meta: Mapping[str, str]) -> dict[str, ParamValue]:
    params: dict[str, ParamValue] = {}
    for key, value in meta.items():
        if not _META_NAME.match(key):
            raise ValueError(f"BBB drops meta names like {key!r}: use letters, digits and '-' (no '_')")
        params[f"meta_{key}"] = value
    return params


def _is_local(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BBBClient:
    """Client for one BBB server (or Scalelite). Thread-safe as far as ``requests`` is."""

    #: calls that may be repeated safely (create is idempotent in BBB, §3.1)
    IDEMPOTENT_CALLS = frozenset({"", "create", "getMeetingInfo", "isMeetingRunning", "getRecordings"})

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

    def _api_url(self, call: str, params: Mapping[str, ParamValue]) -> str:
        """The signed URL of an API call (contains a checksum: never log it)."""
        return f"{self.base_url}api/{call}?{signed_query(call, params, self._secret, self.checksum)}"

    def join_url(
        self, meeting_id: str, full_name: str, role: Role | str, user_id: str, create_time: int | None = None
    ) -> str:
        """Signed join URL for the person's browser (§3.2). No HTTP.

        Uses ``role`` (BBB ≥ 2.4) instead of passwords; ``create_time`` (from :meth:`create` or
        :meth:`get_meeting_info`) stops the URL from working for a later meeting with the same meeting ID.
        The URL carries a checksum: do not log it.
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
        return self._api_url("join", params)

    # -- transport ----------------------------------------------------------------------------

    def _call(self, call: str, params: Mapping[str, ParamValue] | None = None, *, signed: bool = True) -> ET.Element:
        url = self._api_url(call, params or {}) if signed else f"{self.base_url}api" + (f"/{call}" if call else "")
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
                    "timeout", f"BigBlueButton at {self._host()} did not answer within {self.timeout:g} s ({label})."
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
                        "httpError", f"BigBlueButton at {self._host()} answered HTTP {response.status_code} ({label})."
                    )
                    continue
                return self._interpret(label, response)
            finally:
                response.close()
        raise last or BBBUnavailable(
            "timeout", f"BigBlueButton at {self._host()} did not answer within {self.timeout:g} s ({label})."
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
            root = parsing.parse_response_xml(response.content)
        except InvalidResponse as exc:
            raise InvalidResponse(
                exc.message_key,
                f"{self._host()} does not answer like BigBlueButton ({label}, HTTP {status}): {exc.message}",
            ) from None
        returncode = parsing.text(root, "returncode")
        if returncode == "SUCCESS":
            return root
        if returncode == "FAILED":
            error = parsing.error_from_response(root)
            error.message = self._scrub(error.message)
            error.args = (error.message_key, error.message)
            raise error
        raise InvalidResponse(
            "invalidResponse", f"{self._host()} answered without a BigBlueButton returncode ({label}, HTTP {status})."
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    # -- calls --------------------------------------------------------------------------------

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
        duration: int | None = None,
        logout_url: str | None = None,
        meta: Mapping[str, str] | None = None,
        end_callback_url: str | None = None,
        recording_ready_url: str | None = None,
        analytics_callback_url: str | None = None,
        lock_settings_disable_cam: bool | None = None,
        lock_settings_disable_mic: bool | None = None,
        lock_settings_disable_private_chat: bool | None = None,
        lock_settings_disable_public_chat: bool | None = None,
        lock_settings_lock_on_join: bool | None = None,
    ) -> CreatedMeeting:
        """Create the meeting, or get the existing one (§3.1).

        Idempotent: with the same ``meeting_id`` BBB answers ``duplicateWarning`` with the existing meeting
        (``CreatedMeeting.duplicate``) and ignores the other parameters. No passwords are sent, which keeps
        repeated creates idempotent. ``logout_url`` is where BBB sends everyone who leaves (one URL for the
        whole meeting). Create just before the first join: an empty meeting vanishes after 5 minutes.
        """
        _check_meeting_id(meeting_id)
        if not 2 <= len(name.strip()) <= 256:
            raise ValueError("a BBB meeting name has 2 to 256 characters")
        if guest_policy is not None and guest_policy not in GUEST_POLICIES:
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
            "duration": duration,
            "logoutURL": logout_url,
            "lockSettingsDisableCam": lock_settings_disable_cam,
            "lockSettingsDisableMic": lock_settings_disable_mic,
            "lockSettingsDisablePrivateChat": lock_settings_disable_private_chat,
            "lockSettingsDisablePublicChat": lock_settings_disable_public_chat,
            "lockSettingsLockOnJoin": lock_settings_lock_on_join,
        }
        all_meta = dict(meta or {})
        if end_callback_url:
            all_meta["endCallbackUrl"] = end_callback_url
        if recording_ready_url:
            all_meta["bbb-recording-ready-url"] = recording_ready_url
        if analytics_callback_url:
            all_meta["analytics-callback-url"] = analytics_callback_url
            params["meetingKeepEvents"] = True  # §5.3: no events.xml, no callback
        params.update(_meta_params(all_meta))
        return parsing.created_meeting(self._call("create", params), meeting_id)

    def is_meeting_running(self, meeting_id: str) -> bool:
        """True while at least one person is in the meeting; unknown meetings are not running."""
        return parsing.flag(self._call("isMeetingRunning", {"meetingID": meeting_id}), "running")

    def get_meeting_info(self, meeting_id: str) -> MeetingInfo:
        """Raises :class:`lms.bbb.errors.NotFoundError` for unknown (or already removed) meetings."""
        return parsing.meeting_info(self._call("getMeetingInfo", {"meetingID": meeting_id}))

    def get_recordings(self, meeting_id: str) -> list[Recording]:
        """The meeting's recordings (§3.7), published and unpublished."""
        root = self._call("getRecordings", {"meetingID": meeting_id})
        return [parsing.recording(r) for r in root.iterfind("recordings/recording")]

    def publish_recordings(self, record_id: str, publish: bool) -> bool:
        """Publish or unpublish one recording (never retried); returns BBB's ``published``."""
        if not record_id:
            raise ValueError("record_id must not be empty")
        return parsing.flag(self._call("publishRecordings", {"recordID": record_id, "publish": publish}), "published")

    def delete_recordings(self, record_id: str) -> bool:
        """Delete one recording (never retried); :class:`lms.bbb.errors.NotFoundError` when it is gone already."""
        if not record_id:
            raise ValueError("record_id must not be empty")
        return parsing.flag(self._call("deleteRecordings", {"recordID": record_id}), "deleted")

    # -- operator check -----------------------------------------------------------------------

    def _get_api_version(self) -> _ApiVersion:
        """The API root (§3.0): no checksum needed; a cheap reachability check."""
        values = parsing.children_text(self._call("", signed=False))
        return _ApiVersion(
            version=values.get("version") or None,
            api_version=values.get("apiVersion") or None,
            bbb_version=values.get("bbbVersion") or None,
        )

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
            info = self._get_api_version()
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

        probe_id = f"medienwerk-check-{secrets.token_hex(6)}"
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
        except BBBError as exc:
            messages.append(f"A signed call failed: {exc.message if isinstance(exc, BBBUnavailable) else exc}")
            return CheckReport(False, version, messages)
        messages.append(f"Secret and checksum algorithm {self.checksum} are accepted.")
        if self.checksum == "sha384" and info.looks_like_load_balancer:
            messages.append("Note: Scalelite accepts no sha384; if this is Scalelite, prefer sha256.")
        if self.checksum == "sha1":
            messages.append("sha1 works, but sha256 is supported everywhere and stronger.")
        return CheckReport(True, version, messages)

    def _probe_algorithm(self, algorithm: str, probe_id: str) -> bool:
        other = BBBClient(
            self.base_url, self._secret, checksum=algorithm, timeout=self.timeout, session=self.session, retries=0
        )
        try:
            other.is_meeting_running(probe_id)
        except BBBError:
            return False
        return True
