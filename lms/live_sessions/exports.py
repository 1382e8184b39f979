"""Downloads of live-tutorial data: the attendance list as CSV (German labels, for spreadsheets)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from lms.live_sessions.models import SIGNUP_CONFIRMED, SIGNUP_WAITLISTED, SIGNUP_WITHDRAWN
from lms.live_sessions.queries import AttendanceRow

HEADER = ("Name", "Rolle", "Anmeldung", "Minuten im Raum", "Teilgenommen (berechnet)", "Korrektur", "Teilgenommen")
SIGNUP_LABELS = {
    SIGNUP_CONFIRMED: "angemeldet",
    SIGNUP_WAITLISTED: "auf der Warteliste",
    SIGNUP_WITHDRAWN: "abgemeldet",
    None: "nicht angemeldet",
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
    return f"ohne Namen (Pseudonym {row.pseudonym})" if row.pseudonym else "ohne Namen"


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("ja" if value else "nein")


def attendance_csv(rows: Iterable[AttendanceRow]) -> str:
    """Participants first, then the moderation; moderators' attendance does not count, so it stays empty."""
    rows = list(rows)
    lines = []
    for row in [r for r in rows if not r.moderator] + [r for r in rows if r.moderator]:
        counts = not row.moderator
        lines.append(
            (
                person_label(row),
                "Moderation" if row.moderator else "Teilnahme",
                SIGNUP_LABELS.get(row.signup_status, row.signup_status),
                row.minutes,
                _yes_no(row.computed) if counts else "",
                _yes_no(row.override) if counts else "",
                _yes_no(row.attended) if counts else "",
            )
        )
    return csv_text(HEADER, lines)
