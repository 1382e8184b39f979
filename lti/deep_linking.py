"""The LtiDeepLinkingResponse message (LTI Deep Linking 2.0 §4.2 "Deep linking response message").

The tool answers a deep-linking request with a JWT signed by its active key (``kid`` in the header) and
POSTed by the browser to the platform's ``deep_link_return_url``. Items are ``ltiResourceLink`` content items
whose ``url`` is the tool's one launch URL; what to open travels in ``custom`` parameters, because Moodle only
accepts registered redirect URIs (pylti1.3-flask-example#28). A gradable item carries a ``lineItem``
(§3.3 "Line item") so the platform creates a grade column for it.

Unlike pylti1p3's ``DeepLink``, the request's ``data`` is echoed only when it was sent (never ``null``),
``custom`` is left out when empty, and ``accept_types`` / ``accept_multiple`` are enforced here.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jwt

from lti.claims import DL, LTI, DeepLinkingSettings
from lti.errors import LtiError
from lti.keys import ToolKey

DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
RESPONSE_MESSAGE = "LtiDeepLinkingResponse"
RESOURCE_LINK = "ltiResourceLink"
RESPONSE_TTL = 600

__all__ = ["DL", "ContentItem", "DeepLinkingError", "LineItem", "build_response", "check_selection"]


class DeepLinkingError(LtiError):
    """The selection cannot be sent to this platform (type not accepted, several items where one is allowed)."""

    status = 400


@dataclass(frozen=True)
class LineItem:
    """Deep Linking §3.3: the grade column the platform creates for a gradable link."""

    label: str
    resource_id: str
    tag: str
    score_maximum: int = 100

    def to_claim(self) -> dict[str, Any]:
        return {
            "scoreMaximum": self.score_maximum,
            "label": self.label,
            "resourceId": self.resource_id,
            "tag": self.tag,
        }


@dataclass(frozen=True)
class ContentItem:
    """An ``ltiResourceLink`` content item (Deep Linking §3.1)."""

    title: str
    url: str
    custom: Mapping[str, str] = field(default_factory=dict)
    text: str | None = None
    line_item: LineItem | None = None

    def to_claim(self) -> dict[str, Any]:
        item: dict[str, Any] = {"type": RESOURCE_LINK, "title": self.title, "url": self.url}
        if self.text:
            item["text"] = self.text
        if self.custom:
            item["custom"] = {str(k): str(v) for k, v in self.custom.items()}
        if self.line_item is not None:
            item["lineItem"] = self.line_item.to_claim()
        return item


def check_selection(settings: DeepLinkingSettings, items: Sequence[ContentItem]) -> None:
    """Raise :class:`DeepLinkingError` unless the platform accepts these items (empty = cancel, always fine)."""
    if not items:
        return
    if RESOURCE_LINK not in settings.accept_types:
        raise DeepLinkingError("type_not_accepted", "the platform does not accept ltiResourceLink items")
    if len(items) > 1 and not settings.accept_multiple:
        raise DeepLinkingError("single_item_only", "the platform accepts one item only")


def build_response(
    *,
    issuer: str,
    client_id: str,
    deployment_id: str,
    settings: DeepLinkingSettings,
    items: Sequence[ContentItem],
    key: ToolKey,
    message: str | None = None,
    now: int | None = None,
) -> str:
    """The signed LtiDeepLinkingResponse JWT (Deep Linking §4.2; Security Framework §5.2 tool-originating)."""
    check_selection(settings, items)
    iat = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "aud": issuer,
        "iat": iat,
        "exp": iat + RESPONSE_TTL,
        "nonce": uuid.uuid4().hex,
        LTI + "deployment_id": deployment_id,
        LTI + "message_type": RESPONSE_MESSAGE,
        LTI + "version": "1.3.0",
        DL_CLAIM + "content_items": [item.to_claim() for item in items],
    }
    if settings.data is not None:
        claims[DL_CLAIM + "data"] = settings.data
    if message:
        claims[DL_CLAIM + "msg"] = message
    return jwt.encode(claims, key.private_pem, algorithm="RS256", headers={"kid": key.kid, "typ": "JWT"})


def settings_to_dict(settings: DeepLinkingSettings) -> dict[str, Any]:
    """A JSON-safe copy, for keeping the request's settings until the teacher has chosen."""
    return {
        "return_url": settings.return_url,
        "accept_types": list(settings.accept_types),
        "accept_presentation_document_targets": list(settings.accept_presentation_document_targets),
        "accept_multiple": settings.accept_multiple,
        "data": settings.data,
        "title": settings.title,
        "text": settings.text,
    }


def settings_from_dict(data: Mapping[str, Any]) -> DeepLinkingSettings:
    return DeepLinkingSettings(
        return_url=str(data["return_url"]),
        accept_types=tuple(data.get("accept_types") or ()),
        accept_presentation_document_targets=tuple(data.get("accept_presentation_document_targets") or ()),
        accept_multiple=bool(data.get("accept_multiple")),
        data=data.get("data") if isinstance(data.get("data"), str) else None,
        title=data.get("title"),
        text=data.get("text"),
    )
