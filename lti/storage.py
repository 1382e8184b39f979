"""Launch state (nonces, OIDC state) in a store shared by every process of an installation.

pylti1p3 keeps this in a cache; with several workers a per-process cache causes intermittent "invalid
nonce" errors. The application supplies a :class:`StateStore` (its database or Redis).
"""

from __future__ import annotations

from typing import Any, Protocol

from pylti1p3.launch_data_storage.base import LaunchDataStorage


class StateStore(Protocol):
    def get(self, key: str) -> Any | None: ...

    def set(self, key: str, value: Any, ttl: int) -> None: ...

    def pop(self, key: str) -> Any | None:
        """Return the value and delete it, atomically: of two concurrent callers only one gets it."""
        ...


class StoreLaunchDataStorage(LaunchDataStorage[Any]):
    """pylti1p3 storage over a :class:`StateStore`.

    Like pylti1p3's cache storage it keys values by a session-id cookie over HTTPS, and not over plain
    HTTP (the local demo), where browsers would drop a ``SameSite=None`` cookie without ``Secure``.
    """

    DEFAULT_TTL = 600

    def __init__(self, store: StateStore) -> None:
        super().__init__()
        self._store = store

    def get_session_cookie_name(self) -> str | None:
        assert self._request is not None
        if not self._request.is_secure():
            return None
        return super().get_session_cookie_name()

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        return self._store.get(self._prepare_key(key))

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        self._store.set(self._prepare_key(key), value, exp or self.DEFAULT_TTL)

    def check_value(self, key: str) -> bool:
        return self._store.get(self._prepare_key(key)) is not None

    def pop_value(self, key: str) -> Any:
        return self._store.pop(self._prepare_key(key))
