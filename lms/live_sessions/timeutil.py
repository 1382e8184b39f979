"""Local wall time ⇄ UTC instants with zoneinfo, and display helpers (Babel, in the page's language).

A session is planned as a local wall time in a zone (the browser's, else MEDIENWERK_TIMEZONE). Weekly repeats
keep the wall time (18:00 stays 18:00 after the switch to winter time), so the UTC instants move by an hour.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_datetime, format_time


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


def _locale(locale: str | None) -> str:
    """The given locale, else the request's (or the job's, see lms.app), else German."""
    if locale:
        return locale
    try:
        from flask_babel import get_locale

        found = get_locale()
    except Exception:  # outside an app context (tests of this module, scripts)
        found = None
    return str(found or "de")


def _zone_abbreviation(local: dt.datetime, locale: str) -> str:
    """ "MEZ"/"MESZ" in German, "CET"/"CEST" in English; the zone's own abbreviation where Babel has no name."""
    name = str(format_datetime(local, "zzz", locale=locale))
    return name if name[:1].isalpha() and not name.startswith("GMT") else str(local.tzname() or "")


def live_when(instant: dt.datetime | None, tz: str, locale: str | None = None) -> str:
    """A session's start in its own zone, in the page's language: "Do. 03.12.2026, 18:00 Uhr (MEZ)",
    "Thu Dec 3, 2026, 6:00 PM (CET)". "Uhr" only in German."""
    if instant is None:
        return ""
    loc = _locale(locale)
    local = utc_to_local(instant, tz)
    day = f"{format_date(local, 'EEE', locale=loc)} {format_date(local, 'medium', locale=loc)}"
    return f"{day}, {live_time(instant, tz, loc)} ({_zone_abbreviation(local, loc)})"


def live_time(instant: dt.datetime | None, tz: str, locale: str | None = None, *, suffix: bool = True) -> str:
    """The clock time in the session's zone: "18:00 Uhr" in German (without "Uhr" when ``suffix`` is off),
    "6:00 PM" in English."""
    if instant is None:
        return ""
    loc = _locale(locale)
    clock = str(format_time(utc_to_local(instant, tz), "short", locale=loc))
    return f"{clock} Uhr" if suffix and loc.startswith("de") else clock


def live_date(instant: dt.datetime | None, tz: str, locale: str | None = None) -> str:
    """The weekday and date in the session's zone: "Donnerstag, 03.12.2026", "Thursday, Dec 3, 2026"."""
    if instant is None:
        return ""
    loc = _locale(locale)
    local = utc_to_local(instant, tz)
    return f"{format_date(local, 'EEEE', locale=loc)}, {format_date(local, 'medium', locale=loc)}"
