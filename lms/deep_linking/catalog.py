"""What a trainer can link into an LMS course: the overview, each module (gradable), each lesson, and whatever
other domains offer through :func:`register_provider` (live tutorial series, later).

A provider is a callable ``(launch_session) -> Iterable[CatalogEntry]``; it is asked each time the picker is
shown, so it sees the chamber and course of the launch. Entry ids must be unique and stable; prefix them with
the domain (``"series:<id>"``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _

from lms.courses.content import Course
from lms.courses.setup import current_course
from lms.live_sessions.queries import linkable_sessions
from lms.live_sessions.timeutil import live_when

MODULE_TAG = "module"  # lineItem tag of module links (AGS finds a link's column by resourceId + tag)


@dataclass(frozen=True)
class CatalogEntry:
    id: str
    title: str
    group: str  # heading the entry is listed under
    custom: Mapping[str, str] = field(default_factory=dict)
    description: str | None = None
    gradable: bool = False
    resource_id: str | None = None  # gradable entries: the lineItem resourceId
    tag: str | None = None  # gradable entries: the lineItem tag
    indent: bool = False  # listed under the entry before it (a lesson under its module)


Provider = Callable[[Any], Iterable[CatalogEntry]]
_providers: list[Provider] = []


def register_provider(fn: Provider) -> Provider:
    """Offer more entries in the picker (usable as a decorator). Registering the same function twice is a no-op."""
    if fn not in _providers:
        _providers.append(fn)
    return fn


def unregister_provider(fn: Provider) -> None:
    if fn in _providers:
        _providers.remove(fn)


def course_content() -> Course:
    """The course content the app serves (loaded at start-up by lms.courses.setup)."""
    return current_course()


def _kind_label(kind: str) -> str:
    if kind == "quiz":
        return _("Selbstcheck")
    if kind == "task":
        return _("Praxisaufgabe")
    return _("Lektion")


def _titled(kind: str, title: str) -> str:
    """ "Lektion: Phishing erkennen"; a title that names its kind already stays as it is ("Selbstcheck: Sicher
    im Netz", not "Selbstcheck: Selbstcheck: Sicher im Netz"), in German and in English."""
    label = _kind_label(kind)
    german = {"quiz": "Selbstcheck", "task": "Praxisaufgabe"}.get(kind, "Lektion")
    if title.startswith((label, german)):
        return title
    return f"{label}: {title}"


def content_entries() -> list[CatalogEntry]:
    entries = [
        CatalogEntry(
            id="overview",
            title=_("medienwerk: Übersicht für Botschafter*innen"),
            group=_("Übersicht"),
            custom={"view": "overview"},
            description=_("Alle Module, der eigene Fortschritt und die Live-Tutorials auf einer Seite."),
        )
    ]
    for module in course_content().modules:
        group = _("Module")
        entries.append(
            CatalogEntry(
                id=f"module:{module.id}",
                title=module.title,
                group=group,
                custom={"module": module.id},
                description=module.summary or None,
                gradable=True,
                resource_id=module.id,
                tag=MODULE_TAG,
            )
        )
        for item in module.items:
            entries.append(
                CatalogEntry(
                    id=f"item:{module.id}:{item.id}",
                    title=_titled(item.kind, item.title),
                    group=group,
                    custom={"module": module.id, "item": item.id},
                    indent=True,
                )
            )
    return entries


def live_entries(launch_session: Any) -> list[CatalogEntry]:
    """The live tutorials overview and each upcoming tutorial the course's volunteers may see. A link's custom
    parameter ``live`` is ``overview`` or a tutorial's id; a tutorial of another chamber is not found when the
    link is launched, so links never cross chambers."""
    group = _("Live-Tutorials")
    entries = [
        CatalogEntry(
            id="live:overview",
            title=_("Live-Tutorials: Übersicht und Anmeldung"),
            group=group,
            custom={"live": "overview"},
            description=_("Alle kommenden Live-Tutorials, Anmeldung und Beitritt."),
        )
    ]
    for live in linkable_sessions(launch_session.user.chamber_id, launch_session.course_id):
        entries.append(
            CatalogEntry(
                id=f"live:{live.id}",
                title=f"{live.title} ({live_when(live.starts_at, live.timezone)})",
                group=group,
                custom={"live": str(live.id)},
                indent=True,
            )
        )
    return entries


def catalog(launch_session: Any) -> list[CatalogEntry]:
    """Everything the picker offers for this launch: content, live tutorials, then the providers' entries."""
    entries = content_entries() + live_entries(launch_session)
    seen = {e.id for e in entries}
    for provider in list(_providers):
        for entry in provider(launch_session):
            if entry.id not in seen:
                seen.add(entry.id)
                entries.append(entry)
    return entries
