"""id_token launch validation (LTI 1.3 core §5, Security Framework §5.1.3).

Stricter than pylti1p3's defaults: ``exp``, ``iat`` and ``nonce`` are required (with a small leeway for
clock skew), ``aud``/``azp`` are checked as the Security Framework says, each nonce is used once, an unknown
``kid`` makes us re-fetch the platform's key set (rate-limited), and every failure is a typed
:class:`lti.errors.LaunchError` instead of a bare exception.

Where the state cookie does not come back (third-party cookies blocked), :func:`launch_step` says which page
the browser needs first; the checks themselves never get weaker:

* the login kept the state in the platform's storage (see :mod:`lti.login`): a page reads it back with
  ``lti.get_data`` from the platform frame (only the platform window that ran the login has it, and only
  answers our origin) and re-posts id_token + state + the value read + a one-time check token. That re-post
  must come from our own origin (``Origin`` / ``Sec-Fetch-Site``), the check token must be the one issued for
  this state, and the value read must equal the state; it then replaces the cookie comparison. Nonce, token,
  registration and deployment checks run as for every launch.
* a cross-site POST without the cookie (a new window over plain HTTP, where ``SameSite=Lax`` cookies are not
  sent on cross-site POSTs): a page that re-posts the same fields from our own origin, once. The state
  cookie must then match as usual.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import request as flask_request
from jwcrypto.jwk import JWK
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.exception import LtiException

from lti.claims import DATA_PRIVACY_REQUEST, DEEP_LINKING_REQUEST, LTI, RESOURCE_LINK_REQUEST, Launch, parse_launch
from lti.errors import LaunchError, LtiError
from lti.http import TimeoutSession
from lti.login import CookielessStorage, CookieService, storage_record_key
from lti.registry import PlatformRegistry, RegistryToolConf
from lti.storage import StateStore, StoreLaunchDataStorage

LEEWAY_SECONDS = 60
KEYSET_TTL = 3600
KEYSET_REFETCH_INTERVAL = 60
KEYSET_PROCESS_TTL = 300  # how long a process trusts its own copy before it reads the shared one again
SUPPORTED_MESSAGES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST, DATA_PRIVACY_REQUEST)


@dataclass
class _KeySet:
    keys: Mapping[str, Any]
    expires: float  # time.monotonic()
    parsed: dict[str, Any] = field(default_factory=dict)  # kid -> public key object


class KeySetCache:
    """The platforms' key sets in this process, in front of the shared state store, with each key parsed once.

    The shared store stays the source that every process reads and the rate-limited re-fetch writes: a kid this
    process does not know is looked up there first (another process may have re-fetched after a rotation), then
    fetched. A copy is trusted for :data:`KEYSET_PROCESS_TTL` seconds.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sets: dict[str, _KeySet] = {}

    def key(self, url: str, kid: str) -> Any | None:
        """The parsed public key with this kid, if this process has a fresh copy of the set that holds it."""
        with self._lock:
            entry = self._sets.get(url)
        if entry is None or entry.expires <= time.monotonic():
            return None
        return _parsed_key(entry, kid)

    def put(self, url: str, keyset: Mapping[str, Any], kid: str) -> Any | None:
        """Keep this copy of the set; the parsed key with ``kid`` if the set has it."""
        entry = _KeySet(keys=keyset, expires=time.monotonic() + KEYSET_PROCESS_TTL)
        with self._lock:
            self._sets[url] = entry
        return _parsed_key(entry, kid)

    def clear(self) -> None:
        with self._lock:
            self._sets.clear()


def _parsed_key(entry: _KeySet, kid: str) -> Any | None:
    if kid in entry.parsed:
        return entry.parsed[kid]
    jwk = _find_key(entry.keys, kid)
    if jwk is None:
        return None
    try:
        key = load_pem_public_key(JWK.from_json(json.dumps(jwk)).export_to_pem())
    except (ValueError, TypeError) as exc:
        raise LaunchError("invalid_token", "platform key cannot be read") from exc
    entry.parsed[kid] = key
    return key


KEYSETS = KeySetCache()  # one per process


class HardenedLaunch(FlaskMessageLaunch):
    def __init__(
        self,
        request: FlaskRequest,
        tool_conf: RegistryToolConf,
        store: StateStore,
        http: requests.Session,
        *,
        storage_verified_state: str | None = None,
        keysets: KeySetCache = KEYSETS,
    ) -> None:
        self._state_store = store
        self._keysets = keysets
        self._storage_verified_state = storage_verified_state
        self.storage_login = store.get(storage_record_key(str(request.get_param("state") or ""))) is not None
        self._storage = CookielessStorage(store) if self.storage_login else StoreLaunchDataStorage(store)
        super().__init__(
            request,
            tool_conf,
            cookie_service=CookieService(request),
            launch_data_storage=self._storage,
            requests_session=http,
        )

    # -- the pipeline -------------------------------------------------------------------------------
    def validate(self) -> HardenedLaunch:
        self._validated = True
        try:
            self._step(self.validate_state, "state_mismatch")
            self._step(self.validate_jwt_format, "invalid_token")
            self._check_required_claims()
            self.validate_nonce()
            self._step(self.validate_registration, "invalid_audience")
            self._step(self.validate_jwt_signature, "invalid_token")
            self._step(self.validate_deployment, "unknown_deployment")
            self._step(self.validate_message, "invalid_message")
        except Exception:
            self._validated = False
            raise
        return self

    @staticmethod
    def _step(fn: Any, code: str) -> None:
        try:
            fn()
        except LtiError:
            raise
        except LtiException as exc:
            raise LaunchError(code, str(exc)) from exc

    def _check_required_claims(self) -> None:
        body: Any = self._jwt.get("body")
        if not isinstance(body, Mapping):
            raise LaunchError("invalid_message", "id_token body is not a JSON object")
        for claim in ("iss", "aud", "sub", "nonce"):
            if not body.get(claim):
                raise LaunchError("invalid_message", f"claim {claim} is missing")
        for claim in ("exp", "iat"):
            if not isinstance(body.get(claim), int | float):
                raise LaunchError("invalid_token", f"claim {claim} is missing")
        if body.get(LTI + "version") != "1.3.0":
            raise LaunchError("invalid_message", "LTI version is not 1.3.0")
        message_type = body.get(LTI + "message_type")
        if not message_type:
            raise LaunchError("invalid_message", "message_type is missing")
        if message_type not in SUPPORTED_MESSAGES:
            raise LaunchError("unsupported_message", "message type is not supported")
        for claim in ("deployment_id", "roles"):
            if LTI + claim not in body:
                raise LaunchError("invalid_message", f"claim {claim} is missing")
        if not isinstance(body[LTI + "roles"], list):
            raise LaunchError("invalid_message", "roles is not a list")
        if message_type == RESOURCE_LINK_REQUEST:
            link = body.get(LTI + "resource_link")
            if not isinstance(link, Mapping) or not link.get("id"):
                raise LaunchError("invalid_message", "resource_link id is missing")
        if message_type == DATA_PRIVACY_REQUEST and LTI + "for_user" in body:
            for_user = body[LTI + "for_user"]
            if not isinstance(for_user, Mapping) or not isinstance(for_user.get("user_id"), str):
                raise LaunchError("invalid_message", "for_user has no user_id")
        _check_id_lengths(body)

    # -- overrides ----------------------------------------------------------------------------------
    def validate_state(self) -> HardenedLaunch:
        if self._storage_verified_state is not None:
            # verified in validate_launch against the platform's storage, instead of the cookie
            if self._get_request_param("state") != self._storage_verified_state:
                raise LaunchError("state_mismatch", "state does not match the platform storage")
            return self
        # the state cookie set at the login must come back with the same value (pylti1p3 first looks for a state
        # marked valid by its launch-data cache, which this tool does not keep: no look-up in the store for it)
        state = self._get_request_param("state")
        if not state or self._cookie_service.get_cookie(state) != state:
            raise LaunchError("state_mismatch", "State not found")
        return self

    def validate_nonce(self) -> HardenedLaunch:
        """Consume the nonce: a replayed id_token finds it gone."""
        nonce = str(self._jwt["body"]["nonce"])
        key = self._session_service._get_key("nonce", nonce)
        if not self._storage.pop_value(key):
            raise LaunchError("invalid_nonce", "nonce unknown or already used")
        return self

    def validate_message(self) -> HardenedLaunch:
        """pylti1p3 knows the data privacy launch only as "DataPrivacyLaunchRequest" (not the spec's
        LtiDataPrivacyLaunchRequest) and would refuse it; its claims are checked in _check_required_claims (the
        common ones, and for_user when present; context and resource link are optional and unused)."""
        if self._jwt.get("body", {}).get(LTI + "message_type") == DATA_PRIVACY_REQUEST:
            return self
        super().validate_message()
        return self

    def get_client_id(self) -> str:
        body = self._jwt.get("body", {})
        aud = body.get("aud")
        if isinstance(aud, list):
            azp = body.get("azp")
            return str(azp) if azp else str(aud[0]) if aud else ""
        return str(aud or "")

    def validate_registration(self) -> HardenedLaunch:
        body = self._jwt["body"]
        aud = body.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if not all(isinstance(a, str) for a in auds):
            raise LaunchError("invalid_audience", "aud is not a string or list of strings")
        azp = body.get("azp")
        if len(auds) > 1 and not azp:
            raise LaunchError("invalid_audience", "azp is required when aud has several values")
        if azp and azp not in auds:
            raise LaunchError("invalid_audience", "azp is not among aud")
        super().validate_registration()
        return self

    def validate_jwt_signature(self) -> HardenedLaunch:
        header = self._jwt.get("header", {})
        if header.get("alg") != "RS256":
            raise LaunchError("invalid_token", "alg must be RS256")
        try:
            jwt.decode(
                self._get_id_token(),
                self._platform_key(),
                algorithms=["RS256"],
                leeway=LEEWAY_SECONDS,
                options={"verify_aud": False, "require": ["exp", "iat", "nonce", "sub", "iss"]},
            )
        except jwt.InvalidTokenError as exc:
            raise LaunchError("invalid_token", f"id_token rejected: {exc}") from exc
        return self

    def _platform_key(self) -> Any:
        """The platform's public key named by the token's kid: this process's copy of the key set, else the
        shared one, else fetched; an unknown kid re-fetches the set (rate-limited)."""
        kid = self._jwt.get("header", {}).get("kid")
        if not kid or not isinstance(kid, str):
            raise LaunchError("invalid_token", "JWT header has no kid")
        assert self._registration is not None
        url = self._registration.get_key_set_url() or ""
        key = self._keysets.key(url, kid)
        if key is None:
            key = self._keysets.put(url, self._key_set(url, refresh=False), kid)
        if key is None and self._may_refetch(url):
            key = self._keysets.put(url, self._key_set(url, refresh=True), kid)
        if key is None:
            raise LaunchError("invalid_token", "kid not found in the platform key set")
        return key

    def _key_set(self, url: str, refresh: bool) -> Mapping[str, Any]:
        cache_key = "keyset:" + hashlib.sha256(url.encode()).hexdigest()
        if not refresh:
            cached = self._state_store.get(cache_key)
            if isinstance(cached, Mapping):
                return cached
        if not url.startswith(("https://", "http://")):
            raise LaunchError("invalid_token", "platform key set URL is not http(s)")
        try:
            resp = self._requests_session.get(url)
            resp.raise_for_status()
            keyset = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise LaunchError("platform_unreachable", f"key set fetch failed: {type(exc).__name__}") from exc
        if not isinstance(keyset, Mapping) or not isinstance(keyset.get("keys"), list):
            raise LaunchError("platform_unreachable", "key set is not a JWKS")
        self._state_store.set(cache_key, dict(keyset), KEYSET_TTL)
        return keyset

    def _may_refetch(self, url: str) -> bool:
        """At most one re-fetch per key set URL and minute, so forged kids cannot hammer a platform."""
        guard = "keyset-refetch:" + hashlib.sha256(url.encode()).hexdigest()
        if self._state_store.get(guard):
            return False
        self._state_store.set(guard, int(time.time()), KEYSET_REFETCH_INTERVAL)
        return True

    def save_launch_data(self) -> HardenedLaunch:
        # The application keeps what it needs; no copy of the id_token body (names, e-mails) is cached.
        return self


MAX_ID_LENGTH = 255


def _check_id_lengths(body: Mapping[str, Any]) -> None:
    """LTI 1.3 core §5.3.6, §5.3.3, §5.4.1, §5.3.5: sub, deployment_id, context id and resource link id
    "MUST NOT exceed 255 ASCII characters". Longer ones are refused, never cut: an id cut to fit could name
    someone else."""
    ids: dict[str, Any] = {"sub": body.get("sub"), "deployment_id": body.get(LTI + "deployment_id")}
    for_user = body.get(LTI + "for_user")
    if isinstance(for_user, Mapping):
        ids["for_user user_id"] = for_user.get("user_id")
    for claim in ("context", "resource_link"):
        value = body.get(LTI + claim)
        if isinstance(value, Mapping):
            ids[f"{claim} id"] = value.get("id")
    for name, value in ids.items():
        if value is not None and len(str(value)) > MAX_ID_LENGTH:
            raise LaunchError("invalid_claim", f"{name} is longer than {MAX_ID_LENGTH} characters")


def _find_key(keyset: Mapping[str, Any], kid: str) -> Mapping[str, Any] | None:
    for key in keyset.get("keys", []):
        if isinstance(key, Mapping) and key.get("kid") == kid and key.get("alg", "RS256") == "RS256":
            return key
    return None


def validate_launch(
    registry: PlatformRegistry,
    store: StateStore,
    *,
    http: requests.Session | None = None,
    secure: bool | None = None,
) -> Launch:
    """Validate the id_token POSTed to the launch URL in the current Flask request."""
    request = FlaskRequest(request_is_secure=secure)
    if not request.get_param("id_token"):
        raise LaunchError("invalid_message", "id_token is missing")
    if not request.get_param("state"):
        raise LaunchError("state_mismatch", "state is missing")
    state = str(request.get_param("state"))
    verified = _verify_storage_repost(store, state) if request.get_param(STORAGE_CHECK_PARAM) else None
    conf = RegistryToolConf(registry)
    try:
        launch = HardenedLaunch(request, conf, store, http or TimeoutSession(), storage_verified_state=verified)
    except LtiException as exc:  # the session cookie of the login step did not come back
        raise LaunchError("state_mismatch", str(exc)) from exc
    launch.validate()
    if launch.storage_login:
        store.pop(storage_record_key(state))
    return parse_launch(launch._jwt["body"], launch.get_client_id())


# -- launches without the state cookie ---------------------------------------------------------------------
STORAGE_CHECK_PARAM = "lti_storage_check"
STORAGE_VALUE_PARAM = "lti_storage_state"
REPOST_PARAM = "lti_repost"
STORAGE_CHECK_TTL = 120


@dataclass(frozen=True)
class LaunchStep:
    """A page the browser needs before the launch can be validated.

    ``kind`` ``"platform_storage"``: read the state with ``lti.get_data`` (key ``state_<state>``) from
    ``storage_target`` at ``platform_origin``, then POST ``fields`` plus ``lti_storage_state`` (the value
    read) back to the launch URL. ``kind`` ``"repost"``: POST ``fields`` back to the launch URL from our page.
    """

    kind: str
    fields: Mapping[str, str]
    state: str = ""
    storage_target: str = ""
    platform_origin: str = ""


def _state_cookie_present(state: str) -> bool:
    return bool(flask_request.cookies.get("lti1p3-" + state))


def launch_step(store: StateStore) -> LaunchStep | None:
    """The page to answer first when the state cookie is missing, or None to validate right away."""
    form = flask_request.form
    id_token, state = form.get("id_token", ""), form.get("state", "")
    if not id_token or not state or _state_cookie_present(state):
        return None
    if form.get(STORAGE_CHECK_PARAM) or form.get(REPOST_PARAM):
        return None  # already the second round: validate (and fail clearly if still no proof)
    record = store.get(storage_record_key(state))
    if isinstance(record, Mapping) and record.get("target") and record.get("origin"):
        check = secrets.token_urlsafe(24)
        store.set(_check_key(check), state, STORAGE_CHECK_TTL)
        return LaunchStep(
            kind="platform_storage",
            fields={"id_token": id_token, "state": state, STORAGE_CHECK_PARAM: check},
            state=state,
            storage_target=str(record["target"]),
            platform_origin=str(record["origin"]),
        )
    if flask_request.headers.get("Sec-Fetch-Site") == "cross-site":
        return LaunchStep(kind="repost", fields={"id_token": id_token, "state": state, REPOST_PARAM: "1"})
    return None


def _check_key(check: str) -> str:
    return "lti-storage-check:" + hashlib.sha256(check.encode()).hexdigest()


def _same_origin_post() -> bool:
    """The POST came from a page of our own origin (not an auto-posting form on another site)."""
    origin = flask_request.headers.get("Origin")
    own = flask_request.host_url.rstrip("/")
    if origin is not None:
        return origin == own
    return flask_request.headers.get("Sec-Fetch-Site") == "same-origin"


def _verify_storage_repost(store: StateStore, state: str) -> str:
    check = str(flask_request.form.get(STORAGE_CHECK_PARAM, ""))
    issued_for = store.pop(_check_key(check))
    if issued_for != state:
        raise LaunchError("state_mismatch", "storage check token unknown, used or for another state")
    if not _same_origin_post():
        raise LaunchError("state_mismatch", "storage re-post did not come from the tool's own page")
    if flask_request.form.get(STORAGE_VALUE_PARAM) != state:
        raise LaunchError("state_mismatch", "state not found in the platform storage")
    if store.get(storage_record_key(state)) is None:
        raise LaunchError("state_mismatch", "state was not issued for platform storage")
    return state
