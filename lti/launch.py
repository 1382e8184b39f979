"""id_token launch validation (LTI 1.3 core §5, Security Framework §5.1.3).

Stricter than pylti1p3's defaults: ``exp``, ``iat`` and ``nonce`` are required (with a small leeway for
clock skew), ``aud``/``azp`` are checked as the Security Framework says, each nonce is used once, an unknown
``kid`` makes us re-fetch the platform's key set (rate-limited), and every failure is a typed
:class:`lti.errors.LaunchError` instead of a bare exception.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from typing import Any

import jwt
import requests
from jwcrypto.jwk import JWK
from pylti1p3.contrib.flask import FlaskMessageLaunch, FlaskRequest
from pylti1p3.exception import LtiException

from lti.claims import DEEP_LINKING_REQUEST, LTI, RESOURCE_LINK_REQUEST, Launch, parse_launch
from lti.errors import LaunchError, LtiError
from lti.http import TimeoutSession
from lti.login import CookieService
from lti.registry import PlatformRegistry, RegistryToolConf
from lti.storage import StateStore, StoreLaunchDataStorage

LEEWAY_SECONDS = 60
KEYSET_TTL = 3600
KEYSET_REFETCH_INTERVAL = 60
SUPPORTED_MESSAGES = (RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST)


class HardenedLaunch(FlaskMessageLaunch):
    def __init__(
        self,
        request: FlaskRequest,
        tool_conf: RegistryToolConf,
        store: StateStore,
        http: requests.Session,
    ) -> None:
        self._state_store = store
        self._storage = StoreLaunchDataStorage(store)
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
        body = self._jwt.get("body")
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

    # -- overrides ----------------------------------------------------------------------------------
    def validate_nonce(self) -> HardenedLaunch:
        """Consume the nonce: a replayed id_token finds it gone."""
        nonce = str(self._jwt["body"]["nonce"])
        key = self._session_service._get_key("nonce", nonce)
        if not self._storage.pop_value(key):
            raise LaunchError("invalid_nonce", "nonce unknown or already used")
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
        public_key, alg = self.get_public_key()
        try:
            jwt.decode(
                self._get_id_token(),
                public_key,
                algorithms=[alg],
                leeway=LEEWAY_SECONDS,
                options={"verify_aud": False, "require": ["exp", "iat", "nonce", "sub", "iss"]},
            )
        except jwt.InvalidTokenError as exc:
            raise LaunchError("invalid_token", f"id_token rejected: {exc}") from exc
        return self

    def get_public_key(self) -> tuple[str, str]:
        kid = self._jwt.get("header", {}).get("kid")
        if not kid:
            raise LaunchError("invalid_token", "JWT header has no kid")
        assert self._registration is not None
        url = self._registration.get_key_set_url() or ""
        keyset = self._key_set(url, refresh=False)
        key = _find_key(keyset, kid)
        if key is None and self._may_refetch(url):
            key = _find_key(self._key_set(url, refresh=True), kid)
        if key is None:
            raise LaunchError("invalid_token", "kid not found in the platform key set")
        try:
            pem = JWK.from_json(json.dumps(key)).export_to_pem()
        except (ValueError, TypeError) as exc:
            raise LaunchError("invalid_token", "platform key cannot be read") from exc
        return pem.decode() if isinstance(pem, bytes) else pem, "RS256"

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
    conf = RegistryToolConf(registry)
    try:
        launch = HardenedLaunch(request, conf, store, http or TimeoutSession())
    except LtiException as exc:  # the session cookie of the login step did not come back
        raise LaunchError("state_mismatch", str(exc)) from exc
    launch.validate()
    return parse_launch(launch._jwt["body"], launch.get_client_id())
