"""OAuth 2.0 access tokens for LTI Advantage services (LTI Security Framework §4.1, RFC 7523).

The tool asks the platform's token endpoint for a bearer token with the ``client_credentials`` grant,
authenticating with a JWT it signs with its own key (``iss`` = ``sub`` = client id, ``aud`` = the platform's
``auth_audience`` or token URL, a fresh ``jti``, valid for 60 s, ``kid`` in the header).

Tokens are cached per registration and scope set in a :class:`TokenCache` the application provides (shared by
all its processes) until shortly before they expire; a 401 from a service asks for one new token. With a
:class:`SharedTokenCache`, one process at a time asks the platform and the others take its token.

Also home of the typed errors every service client (AGS, NRPS) raises.
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import jwt
import requests

from lti.errors import LtiError
from lti.http import TimeoutSession
from lti.keys import ToolKey
from lti.urlpolicy import UrlRefused, UrlUnresolvable

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ASSERTION_LIFETIME = 60
# a cached token is dropped this long before the platform says it expires (clock skew, slow requests)
EXPIRY_MARGIN = 60
DEFAULT_EXPIRES_IN = 3600


# -- errors ------------------------------------------------------------------------------------------------


class ServiceError(LtiError):
    """A call to a platform service failed. ``retryable`` says whether trying again later may help.

    ``detail`` is English for logs and status pages; it never contains personal data (platform messages are
    cut short and only kept from the error body).
    """

    retryable = False

    def __init__(self, code: str, detail: str = "", *, status: int | None = None) -> None:
        super().__init__(code, detail)
        self.http_status = status


class RetryableServiceError(ServiceError):
    """Timeouts, connection errors, 5xx, 429: the platform may answer later."""

    retryable = True


class PermanentServiceError(ServiceError):
    """The platform refused the request (4xx): sending it again unchanged will not help."""


class UnauthorizedError(RetryableServiceError):
    """401 even with a fresh token (service switched off, or a proxy strips the Authorization header)."""


class ConflictError(ServiceError):
    """409: for scores, the platform already has one with the same or a later timestamp."""


class TokenError(ServiceError):
    """The token endpoint refused to issue a token (or could not be reached: then ``retryable``)."""

    def __init__(self, code: str, detail: str = "", *, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(code, detail, status=status)
        self.retryable = retryable


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def error_for_response(response: requests.Response, what: str) -> ServiceError:
    """The typed error for a non-2xx answer of a service."""
    status = response.status_code
    detail = f"{what}: HTTP {status}"
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        parts = [body.get("error_description") or body.get("message") or body.get("error"), body.get("reason")]
        message = "; ".join(p for p in parts if isinstance(p, str) and p)
        if message:
            detail += f" ({_short(message)})"
    if status == 401:
        return UnauthorizedError("unauthorized", detail, status=status)
    if status == 409:
        return ConflictError("conflict", detail, status=status)
    if status in (408, 425, 429) or status >= 500:
        return RetryableServiceError("unavailable", detail, status=status)
    return PermanentServiceError("rejected", detail, status=status)


def error_for_exception(exc: requests.RequestException, what: str) -> RetryableServiceError:
    kind = "timeout" if isinstance(exc, requests.Timeout) else "unreachable"
    return RetryableServiceError(kind, f"{what}: {type(exc).__name__}")


# -- the registration and the cache ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceRegistration:
    """What the tool needs to get tokens from one platform registration."""

    issuer: str
    client_id: str
    token_url: str
    key: ToolKey
    audience: str | None = None

    @property
    def ident(self) -> str:
        return f"{self.issuer}\n{self.client_id}"


class TokenCache(Protocol):
    """Where the application keeps tokens: shared by all its processes (database or Redis)."""

    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl: int) -> None: ...


@runtime_checkable
class SharedTokenCache(TokenCache, Protocol):
    """A token cache that also lets one process at a time ask the platform: when many processes need a token at
    once (a restart, an expiry), one requests it and the others take it from the cache."""

    def lock(self, key: str, ttl: int) -> bool:
        """Take the right to request the token for ``key`` (shared by all processes); False: another has it."""
        ...

    def unlock(self, key: str) -> None: ...

    def forget_local(self, key: str) -> None:
        """Drop what this process remembers of ``key``, so the next ``get`` reads the shared store."""
        ...


@dataclass(frozen=True)
class AccessToken:
    value: str
    scopes: tuple[str, ...]
    expires_at: float  # epoch seconds


def cache_key(registration: ServiceRegistration, scopes: Iterable[str]) -> str:
    scope_set = " ".join(sorted(set(scopes)))
    digest = hashlib.sha256(f"{registration.ident}\n{registration.token_url}\n{scope_set}".encode()).hexdigest()
    return f"lti-token:{digest[:40]}"


# how long a process waits for another process's token request before it asks the platform itself, and how long
# the right to ask lasts (longer than a token request may take)
FETCH_WAIT = 10.0
FETCH_LOCK_TTL = 30

# one lock per cache key and process, so that threads of one process ask the platform once, not each
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def _lock_for(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


class TokenClient:
    """Gets (and caches) access tokens for one registration."""

    def __init__(
        self,
        registration: ServiceRegistration,
        cache: TokenCache | None = None,
        http: requests.Session | None = None,
    ) -> None:
        self.registration = registration
        self.cache = cache
        self.http = http or TimeoutSession()

    def client_assertion(self) -> str:
        """The signed JWT that authenticates the tool at the token endpoint."""
        reg = self.registration
        now = int(time.time())
        claims = {
            "iss": reg.client_id,
            "sub": reg.client_id,
            "aud": reg.audience or reg.token_url,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, reg.key.private_pem, algorithm="RS256", headers={"kid": reg.key.kid})

    def token(self, scopes: Iterable[str], *, refresh: bool = False, stale: str | None = None) -> str:
        """A bearer token for ``scopes``: from the cache, else from the platform.

        ``refresh`` (after a 401) asks for a new one, unless another thread already replaced ``stale``.
        """
        scope_tuple = tuple(sorted(set(scopes)))
        key = cache_key(self.registration, scope_tuple)

        def usable(value: str | None) -> bool:
            return value is not None and not (refresh and value == stale)

        with _lock_for(key):
            cached = self._cached(key)
            if cached is not None and usable(cached):
                return cached
            if not isinstance(self.cache, SharedTokenCache):
                return self._request_and_cache(key, scope_tuple)
            # one process asks the platform; the others wait for its token in the shared cache
            shared = self.cache
            shared.forget_local(key)
            deadline = time.monotonic() + FETCH_WAIT
            pause = 0.02
            while True:
                cached = self._cached(key)
                if cached is not None and usable(cached):
                    return cached
                if shared.lock(key, FETCH_LOCK_TTL):
                    try:
                        cached = self._cached(key)  # stored between our look and the lock
                        if cached is not None and usable(cached):
                            return cached
                        return self._request_and_cache(key, scope_tuple)
                    finally:
                        shared.unlock(key)
                if time.monotonic() >= deadline:  # the other process is gone or stuck: ask ourselves
                    return self._request_and_cache(key, scope_tuple)
                time.sleep(pause)
                pause = min(pause * 2, 0.2)

    def _request_and_cache(self, key: str, scopes: tuple[str, ...]) -> str:
        access = self.request_token(scopes)
        if self.cache is not None:
            ttl = int(access.expires_at - time.time()) - EXPIRY_MARGIN
            if ttl > 0:
                self.cache.set(key, {"token": access.value, "expires_at": access.expires_at}, ttl)
        return access.value

    def _cached(self, key: str) -> str | None:
        if self.cache is None:
            return None
        entry = self.cache.get(key)
        if not isinstance(entry, Mapping):
            return None
        if float(entry.get("expires_at", 0)) - EXPIRY_MARGIN <= time.time():
            return None
        value = entry.get("token")
        return value if isinstance(value, str) and value else None

    def request_token(self, scopes: tuple[str, ...]) -> AccessToken:
        """Ask the token endpoint (client_credentials with a JWT client assertion)."""
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": self.client_assertion(),
            "scope": " ".join(scopes),
        }
        try:
            response = self.http.post(self.registration.token_url, data=data, headers={"Accept": "application/json"})
        except requests.RequestException as exc:
            raise TokenError("token_unreachable", f"token endpoint: {type(exc).__name__}", retryable=True) from exc
        if response.status_code != 200:
            err = error_for_response(response, "token endpoint")
            raise TokenError("token_refused", err.detail, status=response.status_code, retryable=err.retryable)
        try:
            body = response.json()
        except ValueError as exc:
            raise TokenError("token_refused", "token endpoint: answer is not JSON", retryable=True) from exc
        value = body.get("access_token") if isinstance(body, Mapping) else None
        if not isinstance(value, str) or not value:
            raise TokenError("token_refused", "token endpoint: no access_token in the answer", retryable=True)
        try:
            expires_in = int(body.get("expires_in", DEFAULT_EXPIRES_IN))
        except (TypeError, ValueError):
            expires_in = DEFAULT_EXPIRES_IN
        granted = body.get("scope")
        granted_scopes = tuple(granted.split()) if isinstance(granted, str) and granted else scopes
        return AccessToken(value=value, scopes=granted_scopes, expires_at=time.time() + max(expires_in, 0))


class ServiceSession:
    """Authorized calls to a platform service: bearer token, timeouts, one token refresh on 401.

    The service URLs come from launch claims and from the services' answers, so ``http`` (when given) is a
    session with a :class:`lti.urlpolicy.UrlPolicy` (:class:`lti.http.TimeoutSession`): a refused URL raises
    :class:`PermanentServiceError` ``url_refused`` before anything is sent to it. Redirects are never
    followed: the bearer token goes only to the URL asked for. Tokens come from ``tokens.http`` (the
    registration's token URL, which the operator or the checked dynamic registration stored).
    """

    def __init__(self, tokens: TokenClient, scopes: Iterable[str], *, http: requests.Session | None = None) -> None:
        self.tokens = tokens
        self.scopes = tuple(sorted(set(scopes)))
        self._http = http

    @property
    def http(self) -> requests.Session:
        return self._http if self._http is not None else self.tokens.http

    def request(self, method: str, url: str, what: str, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        kwargs["allow_redirects"] = False
        token = self.tokens.token(self.scopes)
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {token}"
            try:
                response = self.http.request(method, url, headers=headers, **kwargs)
            except UrlRefused as exc:
                raise PermanentServiceError("url_refused", f"{what}: {exc.detail}") from exc
            except UrlUnresolvable as exc:
                raise RetryableServiceError("unreachable", f"{what}: {exc.detail}") from exc
            except requests.RequestException as exc:
                raise error_for_exception(exc, what) from exc
            if response.status_code == 401 and attempt == 1:
                token = self.tokens.token(self.scopes, refresh=True, stale=token)
                continue
            if response.status_code >= 300:
                raise error_for_response(response, what)
            return response
        raise AssertionError("unreachable")  # pragma: no cover
