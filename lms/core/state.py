"""Short-lived state shared by all processes: OIDC nonces, cached key sets, rate-limit guards, slot claims.

The database by default; Redis when MEDIENWERK_REDIS_URL is set. Never a per-process cache.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import current_app
from sqlalchemy import String, Text, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from lms.core.db import UTCDateTime, dialect_insert, utcnow
from lms.core.extensions import db


class StateEntry(db.Model):  # type: ignore[name-defined]
    __tablename__ = "state_entry"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)


class DbStateStore:
    """State in the application database, written in the request's transaction (committed by the view)."""

    def get(self, key: str) -> Any | None:
        row = db.session.execute(
            select(StateEntry.value).where(StateEntry.key == key, StateEntry.expires_at > utcnow())
        ).scalar_one_or_none()
        return None if row is None else json.loads(row)

    def set(self, key: str, value: Any, ttl: int) -> None:
        """Insert or replace in one statement: concurrent requests setting the same key (the first launches
        after a start all cache the platform's key set) must not collide."""
        values = {"key": key, "value": json.dumps(value), "expires_at": utcnow() + dt.timedelta(seconds=ttl)}
        insert = dialect_insert()
        stmt = insert(StateEntry).values(**values)
        db.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[StateEntry.key], set_={"value": values["value"], "expires_at": values["expires_at"]}
            ).execution_options(synchronize_session=False)
        )

    def add(self, key: str, value: Any, ttl: int) -> bool:
        """Set the key only if it is absent (or expired); True if this call set it. Committed at once."""
        now = utcnow()
        with db.engine.begin() as conn:
            conn.execute(delete(StateEntry).where(StateEntry.key == key, StateEntry.expires_at <= now))
            try:
                conn.execute(
                    StateEntry.__table__.insert().values(
                        key=key, value=json.dumps(value), expires_at=now + dt.timedelta(seconds=ttl)
                    )
                )
            except IntegrityError:
                return False
        return True

    def pop(self, key: str) -> Any | None:
        value = self.get(key)
        if value is None:
            return None
        # DELETE decides: of two concurrent transactions only one deletes the row
        result = db.session.execute(
            delete(StateEntry).where(StateEntry.key == key).execution_options(synchronize_session=False)
        )
        return value if result.rowcount == 1 else None  # type: ignore[attr-defined]

    def purge_expired(self) -> int:
        result = db.session.execute(delete(StateEntry).where(StateEntry.expires_at <= utcnow()))
        return int(result.rowcount)  # type: ignore[attr-defined]


class RedisStateStore:
    def __init__(self, url: str, prefix: str = "medienwerk:state:", timeout: float = 5.0) -> None:
        import redis

        # a Redis that is down or hangs fails the request within seconds (an outage page), never blocks it
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)
        self._prefix = prefix

    def ping(self) -> bool:
        return bool(self._redis.ping())

    def get(self, key: str) -> Any | None:
        raw = self._redis.get(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def set(self, key: str, value: Any, ttl: int) -> None:
        self._redis.set(self._prefix + key, json.dumps(value), ex=max(1, int(ttl)))

    def add(self, key: str, value: Any, ttl: int) -> bool:
        return bool(self._redis.set(self._prefix + key, json.dumps(value), ex=max(1, int(ttl)), nx=True))

    def pop(self, key: str) -> Any | None:
        raw = self._redis.getdel(self._prefix + key)
        return None if raw is None else json.loads(raw)

    def purge_expired(self) -> int:
        return 0  # Redis expires keys itself


def get_state_store() -> DbStateStore | RedisStateStore:
    ext = current_app.extensions["medienwerk"]
    store: DbStateStore | RedisStateStore = ext["state_store"]
    return store
