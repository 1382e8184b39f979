"""The app's side of the LTI service clients: registrations, the shared token cache, HTTP sessions.

Used by grades (AGS) and rosters (NRPS). Tokens are cached per registration and scope set in the shared state
store (database or Redis), so every process of an installation uses the same token until it expires (one token
per registration, scope set and hour); a small per-process memo in front saves a store read per call.

The service URLs come from launch claims and from the services' answers: they are called through a session with
the URL policy (public addresses only, or those in ``MEDIENWERK_ALLOWED_PRIVATE_HOSTS``; no redirects). Tokens
come from the registration's token URL, which an operator typed or the checked dynamic registration stored.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from typing import Any

from flask import current_app

from lms.core.state import get_state_store
from lms.platforms.models import Platform
from lms.platforms.services import active_key
from lti.ags import AgsClient
from lti.http import TimeoutSession
from lti.keys import ToolKey
from lti.nrps import NrpsClient
from lti.tokens import ServiceRegistration, TokenClient
from lti.urlpolicy import UrlPolicy

_local = threading.local()


def http_session() -> TimeoutSession:
    """One keep-alive session per thread (requests sessions are not meant to be shared between threads)."""
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = TimeoutSession()
    return session


def url_policy() -> UrlPolicy:
    """The rule for URLs from outside, with this installation's allow-list."""
    return UrlPolicy(allow=tuple(current_app.config.get("ALLOWED_PRIVATE_HOSTS") or ()))


def service_http_session() -> TimeoutSession:
    """The session for service URLs from claims (checked, pinned, no redirects); one per thread and policy."""
    policy = url_policy()
    session = getattr(_local, "service_session", None)
    if session is None or session.url_policy != policy:
        session = _local.service_session = TimeoutSession(policy=policy)
    return session


class StoreTokenCache:
    """lti.tokens.SharedTokenCache over the shared state store, with a per-process memo of unexpired entries.

    A new token is published at once (committed on a connection of its own), and the right to request one is a
    key in the store: of all processes that need a token at the same moment, one asks the platform."""

    _memo: dict[str, tuple[float, Any]] = {}
    _memo_lock = threading.Lock()

    def get(self, key: str) -> Any | None:
        with self._memo_lock:
            hit = self._memo.get(key)
        if hit is not None and hit[0] > time.time():
            return hit[1]
        value = get_state_store().get(key)
        if value is not None:
            with self._memo_lock:
                self._memo[key] = (time.time() + 60, value)  # re-read the shared store at least every minute
        return value

    def set(self, key: str, value: Any, ttl: int) -> None:
        get_state_store().set_now(key, value, ttl)
        with self._memo_lock:
            self._memo[key] = (time.time() + min(ttl, 60), value)

    def lock(self, key: str, ttl: int) -> bool:
        store = get_state_store()
        if not store.publishes_now():
            return True  # SQLite while this transaction writes: no other process could see the lock anyway
        return store.add(f"{key}:requesting", 1, ttl)

    def unlock(self, key: str) -> None:
        get_state_store().delete_now(f"{key}:requesting")

    def forget_local(self, key: str) -> None:
        with self._memo_lock:
            self._memo.pop(key, None)

    @classmethod
    def forget(cls) -> None:
        with cls._memo_lock:
            cls._memo.clear()


def service_registration(platform: Platform) -> ServiceRegistration:
    key = active_key()
    return ServiceRegistration(
        issuer=platform.issuer,
        client_id=platform.client_id,
        token_url=platform.auth_token_url,
        audience=platform.auth_audience,
        key=ToolKey(kid=key.kid, private_pem=key.private_pem, public_jwk=dict(key.public_jwk)),
    )


def token_client(platform: Platform) -> TokenClient:
    return TokenClient(service_registration(platform), StoreTokenCache(), http_session())


def ags_client(platform: Platform, scopes: Iterable[str]) -> AgsClient:
    return AgsClient(token_client(platform), scopes, http=service_http_session())


def nrps_client(platform: Platform) -> NrpsClient:
    return NrpsClient(token_client(platform), http=service_http_session())
