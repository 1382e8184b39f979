"""The typed view of a validated launch (LTI 1.3 core §5, LTI Advantage claims).

Only what the platform sent: optional claims stay ``None`` (Moodle withholds names and e-mails when its
privacy settings say so).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from lti.errors import LaunchError
from lti.roles import Role, map_role

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DL = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
# LTI Data Privacy Launch: the platform (often an administrator) asks for the tool's privacy notice
DATA_PRIVACY_REQUEST = "LtiDataPrivacyLaunchRequest"


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


@dataclass(frozen=True)
class LaunchUser:
    sub: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None

    @property
    def display_name(self) -> str | None:
        if self.name:
            return self.name
        joined = " ".join(p for p in (self.given_name, self.family_name) if p)
        return joined or None


@dataclass(frozen=True)
class LaunchContext:
    id: str
    title: str | None = None
    label: str | None = None
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResourceLink:
    id: str
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class AgsEndpoint:
    scopes: tuple[str, ...]
    lineitems: str | None
    lineitem: str | None


@dataclass(frozen=True)
class NrpsEndpoint:
    context_memberships_url: str
    service_versions: tuple[str, ...]


@dataclass(frozen=True)
class DeepLinkingSettings:
    return_url: str
    accept_types: tuple[str, ...]
    accept_presentation_document_targets: tuple[str, ...]
    accept_multiple: bool
    data: str | None
    title: str | None
    text: str | None


@dataclass(frozen=True)
class Launch:
    """A validated LTI 1.3 launch message."""

    issuer: str
    client_id: str
    deployment_id: str
    message_type: str
    user: LaunchUser
    roles: tuple[str, ...]
    role: Role
    context: LaunchContext | None
    resource_link: ResourceLink | None
    custom: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    return_url: str | None = None
    document_target: str | None = None
    locale: str | None = None
    target_link_uri: str | None = None
    ags: AgsEndpoint | None = None
    nrps: NrpsEndpoint | None = None
    deep_linking: DeepLinkingSettings | None = None
    platform_name: str | None = None
    platform_guid: str | None = None
    for_user: str | None = None  # data privacy launch: the user id the request is made on behalf of, if any

    @property
    def is_deep_linking(self) -> bool:
        return self.message_type == DEEP_LINKING_REQUEST

    @property
    def is_privacy(self) -> bool:
        """An LtiDataPrivacyLaunchRequest: answer with the privacy notice, record nothing."""
        return self.message_type == DATA_PRIVACY_REQUEST


MAX_URL_LENGTH = 2048


def _safe_url(value: Any) -> str | None:
    """An http(s) URL of sensible length, else None (as if the platform had not sent it)."""
    url = _str(value)
    if url and url.lower().startswith(("https://", "http://")) and len(url) <= MAX_URL_LENGTH:
        return url
    return None


def normalise_locale(value: Any) -> str | None:
    """A BCP 47 tag reduced to language and region (``zh-Hant-TW-u-nu-hanidec`` → ``zh-TW``, ``de_DE`` →
    ``de-DE``); None when it does not start with a language subtag."""
    text = _str(value)
    if not text:
        return None
    subtags = text.replace("_", "-").split("-")
    language = subtags[0].lower()
    if not (2 <= len(language) <= 3 and language.isascii() and language.isalpha()):
        return None
    for tag in subtags[1:]:
        if len(tag) <= 1:  # an extension or private-use singleton: no region follows
            break
        if tag.isascii() and ((len(tag) == 2 and tag.isalpha()) or (len(tag) == 3 and tag.isdigit())):
            return f"{language}-{tag.upper()}"
    return language


def _tuple_of_str(value: Any) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(v for v in value if isinstance(v, str))
    return ()


def _required(body: Mapping[str, Any], claim: str) -> str:
    """A claim the launch cannot do without, as text: a non-empty string (or a number, which some platforms
    send for ids); else :class:`LaunchError`."""
    value = body.get(claim)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    text = _str(value)
    if text is None:
        raise LaunchError("invalid_message", f"claim {claim.rsplit('/', 1)[-1]} is missing or not a string")
    return text


def parse_launch(body: Mapping[str, Any], client_id: str) -> Launch:
    """Build a :class:`Launch` from a validated id_token body; :class:`LaunchError` for a body that is no
    launch (whatever a platform sends, never another exception)."""
    if not isinstance(body, Mapping):
        raise LaunchError("invalid_message", "id_token body is not a JSON object")
    issuer, sub = _required(body, "iss"), _required(body, "sub")
    deployment_id, message_type = _required(body, LTI + "deployment_id"), _required(body, LTI + "message_type")
    roles = _tuple_of_str(body.get(LTI + "roles"))
    ctx = body.get(LTI + "context") or {}
    context = None
    if isinstance(ctx, Mapping) and _str(ctx.get("id")):
        context = LaunchContext(
            id=str(ctx["id"]),
            title=_str(ctx.get("title")),
            label=_str(ctx.get("label")),
            types=_tuple_of_str(ctx.get("type")),
        )
    rl = body.get(LTI + "resource_link") or {}
    resource_link = None
    if isinstance(rl, Mapping) and _str(rl.get("id")):
        resource_link = ResourceLink(
            id=str(rl["id"]), title=_str(rl.get("title")), description=_str(rl.get("description"))
        )
    custom_claim = body.get(LTI + "custom") or {}
    custom = {
        str(k): str(v)
        for k, v in (custom_claim.items() if isinstance(custom_claim, Mapping) else [])
        if isinstance(v, str | int | float | bool)
    }
    pres = body.get(LTI + "launch_presentation") or {}
    pres = pres if isinstance(pres, Mapping) else {}
    ags_claim = body.get(AGS)
    ags = None
    if isinstance(ags_claim, Mapping):
        ags = AgsEndpoint(
            scopes=_tuple_of_str(ags_claim.get("scope")),
            lineitems=_safe_url(ags_claim.get("lineitems")),
            lineitem=_safe_url(ags_claim.get("lineitem")),
        )
    nrps_claim = body.get(NRPS)
    nrps = None
    if isinstance(nrps_claim, Mapping) and _safe_url(nrps_claim.get("context_memberships_url")):
        nrps = NrpsEndpoint(
            context_memberships_url=str(nrps_claim["context_memberships_url"]),
            service_versions=_tuple_of_str(nrps_claim.get("service_versions")),
        )
    dl_claim = body.get(DL)
    deep_linking = None
    if isinstance(dl_claim, Mapping) and _safe_url(dl_claim.get("deep_link_return_url")):
        deep_linking = DeepLinkingSettings(
            return_url=str(dl_claim["deep_link_return_url"]),
            accept_types=_tuple_of_str(dl_claim.get("accept_types")),
            accept_presentation_document_targets=_tuple_of_str(dl_claim.get("accept_presentation_document_targets")),
            accept_multiple=bool(dl_claim.get("accept_multiple", False)),
            data=dl_claim.get("data") if isinstance(dl_claim.get("data"), str) else None,
            title=_str(dl_claim.get("title")),
            text=_str(dl_claim.get("text")),
        )
    platform = body.get(LTI + "tool_platform") or {}
    platform = platform if isinstance(platform, Mapping) else {}
    for_user = body.get(LTI + "for_user")
    for_user_id = _str(for_user.get("user_id")) if isinstance(for_user, Mapping) else None
    return Launch(
        issuer=issuer,
        client_id=client_id,
        deployment_id=deployment_id,
        message_type=message_type,
        user=LaunchUser(
            sub=sub,
            name=_str(body.get("name")),
            given_name=_str(body.get("given_name")),
            family_name=_str(body.get("family_name")),
            email=_str(body.get("email")),
        ),
        roles=roles,
        role=map_role(roles),
        context=context,
        resource_link=resource_link,
        custom=MappingProxyType(custom),
        return_url=_safe_url(pres.get("return_url")),
        document_target=_str(pres.get("document_target")),
        locale=normalise_locale(pres.get("locale")),
        target_link_uri=_str(body.get(LTI + "target_link_uri")),
        ags=ags,
        nrps=nrps,
        deep_linking=deep_linking,
        platform_name=_str(platform.get("name")),
        platform_guid=_str(platform.get("guid")),
        for_user=for_user_id,
    )
