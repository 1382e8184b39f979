"""Wiring of the platforms domain: its tables, the per-process registry for launches, and the start-up check of the
encrypted private keys."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from lms.core.extensions import db
from lms.platforms import keycrypt, models, registry  # noqa: F401 - the tables (models)
from lms.platforms.services import undecryptable_keys

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """No pages of its own. A serving process refuses to start when stored private keys cannot be decrypted with
    MEDIENWERK_KEY_ENCRYPTION_KEY (the command line starts anyway: ``medienwerk keys list`` shows which).
    The registrations that logins and launches read are kept per process (lms/platforms/registry.py)."""
    registry.init_app(app)
    if not (app.config.get("TESTING") or app.config.get("CLI")):
        check_stored_keys(app)


def check_stored_keys(app: Flask) -> None:
    """Raise :class:`~lms.platforms.keycrypt.KeyEncryptionError` when a stored private key cannot be decrypted. A
    database that cannot be read yet (not migrated, not reachable) is left to the readiness check."""
    with app.app_context():
        try:
            kids = undecryptable_keys()
        except SQLAlchemyError:
            db.session.rollback()
            log.info("start-up key check skipped: the database cannot be read yet")
            kids = []
        finally:
            db.session.remove()
            db.engine.dispose()  # no pooled connection outlives the start-up (forking servers)
    if kids:
        raise keycrypt.KeyEncryptionError(
            f"The tool's private key(s) {', '.join(kids)} are stored encrypted, and no key in "
            f"{keycrypt.SETTING} decrypts them. Set {keycrypt.SETTING} to the key they were encrypted with "
            "(several keys: comma-separated, the new one first)."
        )
