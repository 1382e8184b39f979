"""Local wall time ⇄ UTC instants with zoneinfo, and display helpers.

A session is planned as a local wall time in a zone (the browser's, else MEDIENWERK_TIMEZONE). Weekly repeats
keep the wall time (18:00 stays 18:00 after the switch to winter time), so the UTC instants move by an hour.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class TimeError(ValueError):
    """A local time that does not exist (spring-forward gap) or an unknown zone."""


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise TimeError(f"unknown time zone {name!r}") from exc


def valid_zone(name: str | None) -> bool:
    if not name or len(name) > 64:
        return False
    try:
        zone(name)
    except TimeError:
        return False
    return True


def local_to_utc(wall: dt.datetime, tz: str) -> dt.datetime:
    """The UTC instant of a naive local wall time in ``tz``. Raises TimeError in a DST gap; in the
    autumn overlap (a time that happens twice) the first occurrence counts."""
    zi = zone(tz)
    aware = wall.replace(tzinfo=zi, fold=0)
    instant = aware.astimezone(dt.UTC)
    if instant.astimezone(zi).replace(tzinfo=None) != wall:
        raise TimeError("this local time does not exist (clocks are put forward)")
    return instant


def utc_to_local(instant: dt.datetime, tz: str) -> dt.datetime:
    return instant.astimezone(zone(tz))


def weekly(wall: dt.datetime, tz: str, weeks: int) -> list[dt.datetime]:
    """UTC instants of the same local wall time on ``weeks`` consecutive weeks."""
    return [local_to_utc(wall + dt.timedelta(weeks=i), tz) for i in range(weeks)]


_WEEKDAYS = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")


def live_when(instant: dt.datetime | None, tz: str) -> str:
    """ "Di. 03.12.2026, 18:00 Uhr (CET)": a session's start in its own zone."""
    if instant is None:
        return ""
    local = utc_to_local(instant, tz)
    return f"{_WEEKDAYS[local.weekday()]} {local:%d.%m.%Y, %H:%M} Uhr ({local.tzname()})"


def live_time(instant: dt.datetime | None, tz: str) -> str:
    if instant is None:
        return ""
    return f"{utc_to_local(instant, tz):%H:%M}"
