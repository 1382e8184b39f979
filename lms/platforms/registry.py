"""The registrations as OIDC logins and launches see them, kept per process.

Every login and launch needs its issuer's registrations (client ids, URLs, enabled flags, deployments); they change
rarely (``medienwerk platform add/enable/disable``, dynamic registration, a deployment switched off). Each process
keeps what it loaded and asks the shared state store for one small version key per request: a commit that changes
a platform or a deployment writes a new version right after the commit (the session hooks below), so every process
reloads at its next request and a disabled registration is refused at once by every worker. Changes made around
the application (SQL by hand) are picked up after :data:`MAX_AGE` seconds.

Only what validation needs is kept: no tool key (logins and launches sign nothing; :meth:`signing_key` reads it when
a service asks) and no ORM objects (the launch carries the platform's id and chamber id on).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from lms.core.extensions import db
from lms.platforms.models import Deployment, Platform
from lms.platforms.services import active_key, published_public_keys, to_lti_key
from lti.keys import ToolKey as LtiToolKey
from lti.registry import PlatformRecord

log = logging.getLogger(__name__)

VERSION_KEY = "platforms:version"
VERSION_TTL = 30 * 24 * 3600  # an expired version reads as None: every process reloads once
MAX_AGE = 60.0  # seconds a process trusts what it loaded without a version change
_CHANGED = "platforms_changed"  # session.info flag: a platform or deployment was written in this transaction


@dataclass(frozen=True)
class RegisteredPlatform:
    """A registration as a launch uses it: the LTI adapter's record and where it belongs."""

    id: int
    chamber_id: int
    name: str
    record: PlatformRecord


@dataclass
class _Issuer:
    platforms: tuple[RegisteredPlatform, ...]
    loaded_at: float


@dataclass
class RegistryCache:
    """One per application and process (``app.extensions["medienwerk"]["platform_registry"]``)."""

    version: Any = None
    issuers: dict[str, _Issuer] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, issuer: str, version: Any) -> tuple[RegisteredPlatform, ...] | None:
        with self.lock:
            if version != self.version:
                self.version = version
                self.issuers.clear()
                return None
            entry = self.issuers.get(issuer)
        if entry is None or time.monotonic() - entry.loaded_at > MAX_AGE:
            return None
        return entry.platforms

    def put(self, issuer: str, version: Any, platforms: tuple[RegisteredPlatform, ...]) -> None:
        with self.lock:
            if version == self.version:  # loaded under a version that is still current
                self.issuers[issuer] = _Issuer(platforms, time.monotonic())


def _load(issuer: str) -> tuple[RegisteredPlatform, ...]:
    """The issuer's registrations with their deployments: one statement."""
    rows = db.session.execute(
        select(
            Platform.id,
            Platform.chamber_id,
            Platform.name,
            Platform.client_id,
            Platform.auth_login_url,
            Platform.auth_token_url,
            Platform.key_set_url,
            Platform.auth_audience,
            Platform.enabled,
            Deployment.deployment_id,
            Deployment.enabled.label("deployment_enabled"),
        )
        .outerjoin(Deployment, Deployment.platform_id == Platform.id)
        .where(Platform.issuer == issuer)
        .order_by(Platform.id, Deployment.id)
    ).all()
    platforms: dict[int, tuple[Any, dict[str, bool]]] = {}
    for row in rows:
        _, deployments = platforms.setdefault(row.id, (row, {}))
        if row.deployment_id is not None:
            deployments[row.deployment_id] = bool(row.deployment_enabled)
    return tuple(
        RegisteredPlatform(
            id=row.id,
            chamber_id=row.chamber_id,
            name=row.name,
            record=PlatformRecord(
                issuer=issuer,
                client_id=row.client_id,
                auth_login_url=row.auth_login_url,
                auth_token_url=row.auth_token_url,
                key_set_url=row.key_set_url,
                auth_audience=row.auth_audience,
                enabled=bool(row.enabled),
                deployments=deployments,
            ),
        )
        for row, deployments in platforms.values()
    )


class CachedPlatformRegistry:
    """The LTI adapter's view of the registrations (:class:`lti.registry.PlatformRegistry`) for one request:
    the version is read once, the registrations come from the process's cache or one statement."""

    def __init__(self) -> None:
        ext = current_app.extensions["medienwerk"]
        self._cache: RegistryCache = ext["platform_registry"]
        self._store = ext["state_store"]
        self._version: Any = None
        self._version_read = False

    def _current_version(self) -> Any:
        if not self._version_read:
            self._version = self._store.get(VERSION_KEY)
            self._version_read = True
        return self._version

    def registered(self, issuer: str) -> tuple[RegisteredPlatform, ...]:
        version = self._current_version()
        platforms = self._cache.get(issuer, version)
        if platforms is None:
            platforms = _load(issuer)
            self._cache.put(issuer, version, platforms)
        return platforms

    def platform(self, issuer: str, client_id: str) -> RegisteredPlatform | None:
        return next((p for p in self.registered(issuer) if p.record.client_id == client_id), None)

    def platforms_for_issuer(self, issuer: str) -> Sequence[PlatformRecord]:
        return [p.record for p in self.registered(issuer)]

    def signing_key(self) -> LtiToolKey:
        return to_lti_key(active_key())

    def public_keys(self) -> Sequence[LtiToolKey]:
        return published_public_keys()


# -- invalidation: a new version after every commit that wrote a platform or a deployment -------------------------


def _note_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in (*session.new, *session.deleted, *session.dirty):
        if isinstance(obj, Platform | Deployment) and (obj not in session.dirty or session.is_modified(obj)):
            session.info[_CHANGED] = True
            return


def _note_bulk_changes(state: Any) -> None:
    if (state.is_update or state.is_delete) and any(m.class_ in (Platform, Deployment) for m in state.all_mappers):
        state.session.info[_CHANGED] = True


def _publish_version(session: Session) -> None:
    # a savepoint's release fires after_commit too, while the outer transaction still holds its locks (SQLite's
    # write lock: a write on another connection would wait for it): publish after the outermost commit only
    if session.in_nested_transaction() or not session.info.pop(_CHANGED, False):
        return
    if not has_app_context():  # pragma: no cover - the application writes platforms only inside its context
        log.warning("platforms changed outside an application context: processes reload within %ss", MAX_AGE)
        return
    ext = current_app.extensions["medienwerk"]
    ext["platform_registry"].issuers.clear()  # this process at once, without waiting for its next version read
    try:
        ext["state_store"].publish(VERSION_KEY, uuid.uuid4().hex, VERSION_TTL)
    except Exception:  # committed already: never turn that into an error; the others reload within MAX_AGE
        log.warning("could not publish the new registrations version; other processes reload within %ss", MAX_AGE)


_wired = {"done": False}


def init_app(app: Any) -> None:
    app.extensions["medienwerk"]["platform_registry"] = RegistryCache()
    if _wired["done"]:
        return
    _wired["done"] = True
    event.listen(Session, "before_flush", _note_changes)
    event.listen(Session, "do_orm_execute", _note_bulk_changes)
    event.listen(Session, "after_commit", _publish_version)
