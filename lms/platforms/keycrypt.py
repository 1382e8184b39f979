"""The tool's private keys at rest: encrypted with ``MEDIENWERK_KEY_ENCRYPTION_KEY`` when it is set.

The setting holds one or more comma-separated Fernet keys (``cryptography.fernet``): the first encrypts, every one
decrypts (:class:`~cryptography.fernet.MultiFernet`), which is the rotation path: put the new key first, keep the old
one behind it, run ``medienwerk keys encrypt``, then drop the old one.

Stored form: ``fernet:`` + the Fernet token of the PEM. A value without the prefix is a plain PEM (stored before the
setting was made) and keeps working as it is; ``medienwerk keys encrypt`` converts it.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_app_context

from lms.core.config import ConfigError

PREFIX = "fernet:"
SETTING = "MEDIENWERK_KEY_ENCRYPTION_KEY"


class KeyEncryptionError(ConfigError):
    """A stored private key cannot be decrypted with the configured keys; the message says what to fix."""


def configured_keys() -> tuple[str, ...]:
    if not has_app_context():
        return ()
    return tuple(current_app.config.get("KEY_ENCRYPTION_KEYS") or ())


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX)


def seal(pem: str) -> str:
    """The form to store: encrypted with the first configured key, or the PEM itself when none is set."""
    keys = configured_keys()
    if not keys:
        return pem
    return PREFIX + Fernet(keys[0]).encrypt(pem.encode()).decode("ascii")


def unseal(stored: str, kid: str) -> str:
    """The PEM of a stored value (plain or encrypted with any configured key)."""
    if not is_encrypted(stored):
        return stored
    keys = configured_keys()
    if not keys:
        raise KeyEncryptionError(
            f"The tool's private key {kid} is stored encrypted, but {SETTING} is not set. "
            f"Set {SETTING} to the key it was encrypted with."
        )
    try:
        return MultiFernet([Fernet(k) for k in keys]).decrypt(stored[len(PREFIX) :].encode("ascii")).decode()
    except (InvalidToken, ValueError, UnicodeError):
        raise KeyEncryptionError(
            f"None of the keys in {SETTING} decrypts the tool's private key {kid}. Was the key it was encrypted with "
            f"removed from {SETTING} before 'medienwerk keys encrypt' ran? Put it back (behind the new one)."
        ) from None


def is_current(stored: str) -> bool:
    """Stored the way :func:`seal` would store it now: encrypted with the first key, or plain when none is set."""
    keys = configured_keys()
    if not keys:
        return not is_encrypted(stored)
    if not is_encrypted(stored):
        return False
    try:
        Fernet(keys[0]).decrypt(stored[len(PREFIX) :].encode("ascii"))
    except (InvalidToken, ValueError, UnicodeError):
        return False
    return True


def can_unseal(stored: str) -> bool:
    if not is_encrypted(stored):
        return True
    try:
        unseal(stored, "")
    except KeyEncryptionError:
        return False
    return True
