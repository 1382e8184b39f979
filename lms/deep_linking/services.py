"""Keeping a deep-linking request's settings until the teacher has chosen, and answering it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lms.core.launch_session import LaunchSession
from lms.core.state import get_state_store
from lms.deep_linking.catalog import CatalogEntry
from lms.platforms.services import active_key
from lti.claims import DeepLinkingSettings
from lti.deep_linking import ContentItem, LineItem, build_response, settings_from_dict, settings_to_dict
from lti.keys import ToolKey

PENDING_TTL = 3 * 3600  # as long as a teacher may take to choose


def _key(launch_session: LaunchSession) -> str:
    return f"deep-linking:{launch_session.id}"


def remember_request(launch_session: LaunchSession, settings: DeepLinkingSettings) -> None:
    get_state_store().set(_key(launch_session), settings_to_dict(settings), PENDING_TTL)


def pending_request(launch_session: LaunchSession) -> DeepLinkingSettings | None:
    data: Any = get_state_store().get(_key(launch_session))
    return settings_from_dict(data) if isinstance(data, dict) else None


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
