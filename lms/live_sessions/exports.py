"""Downloads of live-tutorial data: the attendance list as CSV (labels and values in the page's language, for
spreadsheets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from lms.live_sessions.models import SIGNUP_CONFIRMED, SIGNUP_WAITLISTED, SIGNUP_WITHDRAWN
from lms.live_sessions.queries import AttendanceRow

HEADER = (
    _l("Name"),
    _l("Rolle"),
    _l("Anmeldung"),
    _l("Minuten im Raum"),
    _l("Teilgenommen (berechnet)"),
    _l("Korrektur"),
    _l("Teilgenommen"),
)
SIGNUP_LABELS = {
    SIGNUP_CONFIRMED: _l("angemeldet"),
    SIGNUP_WAITLISTED: _l("auf der Warteliste"),
    SIGNUP_WITHDRAWN: _l("abgemeldet"),
    None: _l("nicht angemeldet"),
}


def csv_cell(value: object) -> str:
    """A cell that no spreadsheet runs as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(header: Iterable[object], rows: Iterable[Iterable[object]]) -> str:
    """Semicolon-separated (what German spreadsheet programs open directly), CRLF, with a BOM for Excel."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([csv_cell(c) for c in header])
    for row in rows:
        writer.writerow([csv_cell(c) for c in row])
    return "\ufeff" + out.getvalue()


def person_label(row: AttendanceRow) -> str:
    """The name; the BBB pseudonym only for someone without a name, and then said so."""
    if row.user.display_name:
        return str(row.user.display_name)
    return _("ohne Namen (Pseudonym %(p)s)", p=row.pseudonym) if row.pseudonym else _("ohne Namen")


def _yes_no(value: bool | None) -> str:
    return "" if value is None else (_("ja") if value else _("nein"))


def attendance_csv(rows: Iterable[AttendanceRow]) -> str:
    """Participants first, then the moderation; moderators' attendance does not count, so it stays empty."""
    rows = list(rows)
    lines = []
    for row in [r for r in rows if not r.moderator] + [r for r in rows if r.moderator]:
        counts = not row.moderator
        lines.append(
            (
                person_label(row),
                _("Moderator*in") if row.moderator else _("Teilnehmer*in"),
                SIGNUP_LABELS.get(row.signup_status, row.signup_status),
                row.minutes,
                _yes_no(row.computed) if counts else "",
                _yes_no(row.override) if counts else "",
                _yes_no(row.attended) if counts else "",
            )
        )
    return csv_text(HEADER, lines)
