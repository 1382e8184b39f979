"""Keeping a deep-linking request's settings until the teacher has chosen, and answering it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_babel import lazy_gettext as _l

from lms.core.errors import Conflict
from lms.core.launch_session import LaunchSession
from lms.core.state import get_state_store
from lms.deep_linking.catalog import CatalogEntry
from lms.platforms.services import active_key
from lti.claims import DeepLinkingSettings
from lti.deep_linking import ContentItem, LineItem, build_response, settings_from_dict, settings_to_dict
from lti.keys import ToolKey

PENDING_TTL = 3 * 3600  # as long as a teacher may take to choose
ALREADY_ANSWERED = _l(
    "Diese Auswahl wurde schon an die Lernplattform geschickt. Wähle in der Lernplattform noch einmal "
    "„Inhalt auswählen“, um weitere Inhalte hinzuzufügen."
)


def _key(launch_session: LaunchSession) -> str:
    return f"deep-linking:{launch_session.id}"


def _answered_key(launch_session: LaunchSession) -> str:
    return f"deep-linking-answered:{launch_session.id}"


def remember_request(launch_session: LaunchSession, settings: DeepLinkingSettings) -> None:
    get_state_store().set(_key(launch_session), settings_to_dict(settings), PENDING_TTL)


def pending_request(launch_session: LaunchSession) -> DeepLinkingSettings | None:
    """The request waiting for an answer; None when there is none, or it was answered (see
    :func:`was_answered`)."""
    data: Any = get_state_store().get(_key(launch_session))
    return settings_from_dict(data) if isinstance(data, dict) else None


def was_answered(launch_session: LaunchSession) -> bool:
    return get_state_store().get(_answered_key(launch_session)) is not None


def consume_request(launch_session: LaunchSession) -> None:
    """Take the request, once: of two submits (a double click, two tabs) only one answers the platform, the
    other gets :class:`Conflict`. The state store's pop decides atomically (Redis GETDEL, or one DELETE in the
    request's transaction, which a failed answer rolls back)."""
    store = get_state_store()
    if store.pop(_key(launch_session)) is None:
        raise Conflict(ALREADY_ANSWERED)
    store.set(_answered_key(launch_session), 1, PENDING_TTL)


def content_item(entry: CatalogEntry, launch_url: str) -> ContentItem:
    line_item = None
    if entry.gradable:
        line_item = LineItem(label=entry.title, resource_id=entry.resource_id or entry.id, tag=entry.tag or "")
    return ContentItem(
        title=entry.title, url=launch_url, custom=dict(entry.custom), text=entry.description, line_item=line_item
    )


def respond(
    launch_session: LaunchSession, settings: DeepLinkingSettings, entries: Sequence[CatalogEntry], launch_url: str
) -> str:
    """The signed LtiDeepLinkingResponse for the chosen entries (none: the teacher cancelled)."""
    key = active_key()
    platform = launch_session.platform
    return build_response(
        issuer=platform.issuer,
        client_id=platform.client_id,
        deployment_id=launch_session.deployment_id,
        settings=settings,
        items=[content_item(e, launch_url) for e in entries],
        key=ToolKey(kid=key.kid, private_pem=key.private_pem, public_jwk=dict(key.public_jwk)),
    )
