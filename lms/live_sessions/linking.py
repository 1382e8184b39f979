"""Live tutorials in the deep-linking picker: the tutorials overview and each upcoming tutorial of the chamber.

A link's custom parameter ``live`` is ``overview`` or a tutorial's id; the launch opens that page (a tutorial
of another chamber is not found there, so links never cross chambers).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import gettext as _

from lms.deep_linking.catalog import CatalogEntry


def live_entries(launch_session: Any) -> Iterable[CatalogEntry]:
    from lms.live_sessions import queries
    from lms.live_sessions.views import live_when

    group = _("Live-Tutorials")
    yield CatalogEntry(
        id="live:overview",
        title=_("Live-Tutorials: Übersicht und Anmeldung"),
        group=group,
        custom={"live": "overview"},
        description=_("Alle kommenden Live-Tutorials, Anmeldung und Beitritt."),
    )
    for live in queries.linkable_sessions(launch_session.user.chamber_id, launch_session.course_id):
        yield CatalogEntry(
            id=f"live:{live.id}",
            title=f"{live.title} ({live_when(live.starts_at, live.timezone)})",
            group=group,
            custom={"live": str(live.id)},
            indent=True,
        )
