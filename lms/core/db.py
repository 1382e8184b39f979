"""Database helpers: timezone-aware UTC times, text cut to its column, race-safe get-or-create, upserts and the
one explicit intermediate commit. The declarative base and ``db`` live in :mod:`lms.core.extensions`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import DateTime, TypeDecorator, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from lms.core.extensions import db


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC; SQLite drops the zone, so it is put back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use lms.core.db.utcnow()")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _length(column: Any) -> int:
    length = getattr(column.property.columns[0].type, "length", None)
    assert length, f"{column} has no length"
    return int(length)


def clip(text: str | None, column: Any) -> str | None:
    """Display text from outside (an LMS claim) cut to fit its column, with an ellipsis where cut."""
    if text is None:
        return None
    limit = _length(column)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def fits(text: str | None, column: Any) -> bool:
    """Whether a value that must not be cut (an e-mail address, an id) fits its column."""
    return text is not None and len(text) <= _length(column)


def get_or_create(model: Any, defaults: dict[str, Any] | None = None, **keys: Any) -> tuple[Any, bool]:
    """The row with these unique key values, inserted if missing; (row, created). Safe when two requests
    create the same row at once (a double click, two tabs): the insert runs in a savepoint, and the one that
    loses the race reads the winner's row."""
    query = select(model).filter_by(**keys)
    row = db.session.execute(query).scalar_one_or_none()
    if row is not None:
        return row, False
    try:
        with db.session.begin_nested():
            row = model(**keys, **(defaults or {}))
            db.session.add(row)
        return row, True
    except IntegrityError:
        return db.session.execute(query).scalar_one(), False


def dialect_insert() -> Any:
    """The database's INSERT with ON CONFLICT (both databases the tool supports have it)."""
    return postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert


def commit_now() -> None:
    """An intermediate commit inside a request, for the few places that must publish a row before the request
    ends (the BigBlueButton create lock: the others waiting for it must find the meeting). Everything else is
    committed once, after the view succeeded (:func:`lms.app.create_app`, the unit of work)."""
    db.session.commit()
