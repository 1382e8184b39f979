"""The progress report as a table: what the matrix export and ``medienwerk report progress`` write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask_babel import gettext as _

from lms.courses.content import Course
from lms.dashboards import queries
from lms.dashboards.exports import Table
from lms.users.scope import Scope


def progress_table(scope: Scope, course: Course, filters: queries.Filters) -> Table:
    """Every volunteer the filters select (not only one page), one row each, streamed."""
    return Table(_("Fortschritt"), progress_header(course), progress_cells(queries.export_rows(scope, course, filters)))


def progress_header(course: Any) -> list[str]:
    """The export's columns (also ``medienwerk report progress``)."""
    return [
        _("Name"),
        _("Kammer"),
        _("Letzte Aktivität"),
        _("Fortschritt in %"),
        *(m.title for m in course.modules),
        _("Qualifizierungsstufen"),
        _("Besuchte Live-Tutorials"),
    ]


STATE_LABELS_EXPORT = {
    queries.NOT_STARTED: "nicht begonnen",
    queries.IN_PROGRESS: "begonnen",
    queries.QUIZ_PASSED: "Selbstcheck bestanden",
    queries.TASK_WAITING: "Aufgabe wartet",
    queries.DONE: "abgeschlossen",
}


def progress_cells(rows: Any) -> Iterator[list[Any]]:
    for row in rows:
        yield [
            row.name or _("ohne Namen"),
            row.chamber,
            row.last_activity,
            row.percent,
            *(_state_text(c) for c in row.cells),
            ", ".join(row.tiers),
            row.attended,
        ]


def _state_text(cell: queries.Cell) -> str:
    label = _(STATE_LABELS_EXPORT[cell.state])
    return f"{label} ({cell.percent} %)" if cell.state == queries.IN_PROGRESS else label
