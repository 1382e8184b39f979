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

    def set_now(self, key: str, value: Any, ttl: int) -> None:
        """Like :meth:`set`, but committed at once on a connection of its own, so that other processes see it
        while this transaction still runs (see :meth:`publishes_now`)."""
        if self.publishes_now():
            self.publish(key, value, ttl)
        else:
            self.set(key, value, ttl)

    def delete_now(self, key: str) -> None:
        """Remove the key, committed at once (see :meth:`set_now`)."""
        if not self.publishes_now():
            self.pop(key)
            return
        with db.engine.begin() as conn:
            conn.execute(delete(StateEntry).where(StateEntry.key == key))

    def publishes_now(self) -> bool:
        """Whether a write on a connection of its own can happen now: not on SQLite while this session holds
        the write lock (that connection would wait for it); such writes go into the session instead."""
        if db.engine.dialect.name != "sqlite" or not db.session().in_transaction():
            return True
        raw = db.session.connection().connection.dbapi_connection
        return not getattr(raw, "in_transaction", False)

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
        # one DELETE … RETURNING decides: of two concurrent transactions only one deletes (and gets) the row
        row = db.session.execute(
            delete(StateEntry)
            .where(StateEntry.key == key)
            .returning(StateEntry.value, StateEntry.expires_at)
            .execution_options(synchronize_session=False)
        ).first()
        if row is None or row.expires_at <= utcnow():
            return None
        return json.loads(row.value)

    def publish(self, key: str, value: Any, ttl: int) -> None:
        """Set the key at once, outside the request's transaction (for values other processes must see now,
        e.g. after the request's commit)."""
        values = {"key": key, "value": json.dumps(value), "expires_at": utcnow() + dt.timedelta(seconds=ttl)}
        stmt = dialect_insert()(StateEntry).values(**values)
        with db.engine.begin() as conn:
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[StateEntry.key], set_={"value": values["value"], "expires_at": values["expires_at"]}
                )
            )

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

    def publish(self, key: str, value: Any, ttl: int) -> None:
        self.set(key, value, ttl)  # Redis has no transaction of the request: visible at once anyway

    def set_now(self, key: str, value: Any, ttl: int) -> None:
        self.set(key, value, ttl)

    def delete_now(self, key: str) -> None:
        self._redis.delete(self._prefix + key)

    def publishes_now(self) -> bool:
        return True

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
