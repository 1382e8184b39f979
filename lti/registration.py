"""LTI Dynamic Registration 1.0 (https://www.imsglobal.org/spec/lti-dr/v1p0), the tool's side.

1. The platform opens the tool's registration URL with ``openid_configuration`` and ``registration_token``.
2. :func:`fetch_platform_configuration` GETs the configuration with ``Authorization: Bearer <token>`` (Canvas
   requires it, Moodle ignores it) and checks that its ``issuer`` is the origin (and a path prefix) of the
   configuration URL (§3.5.1: "the issuer ... MUST match").
3. :func:`register_tool` POSTs the client registration (§3.6: OpenID Connect Dynamic Client Registration
   plus ``https://purl.imsglobal.org/spec/lti-tool-configuration``) and returns the ``client_id`` and
   ``deployment_id`` the platform assigned.
4. The application stores both and answers a page that posts ``{subject: "org.imsglobal.lti.close"}`` to
   ``window.opener || window.parent`` (§3.7).

Moodle (``registration_helper::registration_to_config``) derives the tool's privacy settings from the
``claims`` and its services from ``scope``; it answers 400 with a short message (``missing_domain``,
``invalid_redirect_uris`` …) and 401 for a missing or re-used token — surfaced in :class:`RegistrationError`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from lti.errors import LtiError
from lti.http import TimeoutSession

TOOL_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-tool-configuration"
PLATFORM_CONFIGURATION = "https://purl.imsglobal.org/spec/lti-platform-configuration"
SCOPES = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
)
CLAIMS = ("iss", "sub", "name", "given_name", "family_name", "email")


class RegistrationError(LtiError):
    """Dynamic registration failed. ``code`` is stable; ``platform_message`` is what the platform said."""

    status = 400

    def __init__(self, code: str, detail: str = "", *, platform_message: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(code, detail)
        self.platform_message = platform_message
        if status is not None:
            self.status = status


# codes: config_unreachable, config_invalid, issuer_mismatch, registration_refused, registration_invalid


@dataclass(frozen=True)
class PlatformConfiguration:
    """The parts of the platform's OpenID configuration (§3.4) the tool uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    product_family_code: str | None = None
    version: str | None = None
    messages_supported: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolDescription:
    """What the tool tells the platform about itself."""

    client_name: str
    initiate_login_uri: str
    redirect_uris: tuple[str, ...]
    jwks_uri: str
    target_link_uri: str
    description: str = ""
    deep_linking_label: str = ""
    logo_uri: str | None = None
    scopes: tuple[str, ...] = SCOPES
    claims: tuple[str, ...] = CLAIMS
    custom_parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return urlsplit(self.target_link_uri).netloc


@dataclass(frozen=True)
class RegistrationResult:
    platform: PlatformConfiguration
    client_id: str
    deployment_id: str | None
    update: bool  # the platform's token was for updating an existing registration (Moodle "reg-update")


def _url(value: Any, name: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("https", "http") or not urlsplit(value).netloc:
        raise RegistrationError("config_invalid", f"{name} is missing or not an http(s) URL")
    return value


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_issuer(configuration_url: str, issuer: str) -> None:
    """§3.5.1: the issuer must match the configuration URL: same origin, and the URL lies below the issuer."""
    if _origin(configuration_url) != _origin(issuer):
        raise RegistrationError("issuer_mismatch", "issuer and openid_configuration URL differ in origin")
    issuer_path = urlsplit(issuer).path.rstrip("/")
    if not (urlsplit(configuration_url).path + "/").startswith(issuer_path + "/"):
        raise RegistrationError("issuer_mismatch", "openid_configuration URL is not below the issuer")


def fetch_platform_configuration(
    configuration_url: str, registration_token: str | None, *, http: requests.Session | None = None
) -> PlatformConfiguration:
    _url(configuration_url, "openid_configuration")
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        resp = (http or TimeoutSession()).get(configuration_url, headers=headers)
    except requests.RequestException as exc:
        raise RegistrationError("config_unreachable", type(exc).__name__) from exc
    if resp.status_code != 200:
        raise RegistrationError("config_unreachable", f"HTTP {resp.status_code}",
                                platform_message=resp.text[:300] or None)
    try:
        doc = resp.json()
    except ValueError as exc:
        raise RegistrationError("config_invalid", "openid configuration is not JSON") from exc
    if not isinstance(doc, Mapping):
        raise RegistrationError("config_invalid", "openid configuration is not a JSON object")
    issuer = _url(doc.get("issuer"), "issuer")
    check_issuer(configuration_url, issuer)
    platform = doc.get(PLATFORM_CONFIGURATION)
    platform = platform if isinstance(platform, Mapping) else {}
    messages = platform.get("messages_supported")
    message_types = tuple(
        str(m.get("type")) for m in (messages if isinstance(messages, list) else []) if isinstance(m, Mapping)
    )
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=_url(doc.get("authorization_endpoint"), "authorization_endpoint"),
        token_endpoint=_url(doc.get("token_endpoint"), "token_endpoint"),
        jwks_uri=_url(doc.get("jwks_uri"), "jwks_uri"),
        registration_endpoint=_url(doc.get("registration_endpoint"), "registration_endpoint"),
        product_family_code=platform.get("product_family_code") or None,
        version=platform.get("version") or None,
        messages_supported=message_types,
    )


def client_registration(tool: ToolDescription) -> dict[str, Any]:
    """The client registration request body (§3.6.1)."""
    messages: list[dict[str, Any]] = [
        {"type": "LtiResourceLinkRequest", "target_link_uri": tool.target_link_uri},
        {
            "type": "LtiDeepLinkingRequest",
            "target_link_uri": tool.target_link_uri,
            "label": tool.deep_linking_label or tool.client_name,
        },
    ]
    config: dict[str, Any] = {
        "domain": tool.domain,
        "target_link_uri": tool.target_link_uri,
        "claims": list(tool.claims),
        "messages": messages,
        "description": tool.description,
    }
    if tool.custom_parameters:
        config["custom_parameters"] = dict(tool.custom_parameters)
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.initiate_login_uri,
        "redirect_uris": list(tool.redirect_uris),
        "client_name": tool.client_name,
        "jwks_uri": tool.jwks_uri,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(tool.scopes),
        TOOL_CONFIGURATION: config,
    }
    if tool.logo_uri:
        body["logo_uri"] = tool.logo_uri
    return body


def token_scope(registration_token: str | None) -> str | None:
    """The ``scope`` of a JWT registration token, read without verifying it (Moodle: "reg" or
    "reg-update"); only a hint for finding the registration to update, never for access decisions."""
    parts = (registration_token or "").split(".")
    if len(parts) != 3:
        return None
    try:
        body = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, TypeError):
        return None
    scope = body.get("scope") if isinstance(body, Mapping) else None
    return scope if isinstance(scope, str) else None


def register_tool(
    platform: PlatformConfiguration,
    registration_token: str | None,
    tool: ToolDescription,
    *,
    http: requests.Session | None = None,
) -> RegistrationResult:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    try:
        resp = (http or TimeoutSession()).post(
            platform.registration_endpoint, data=json.dumps(client_registration(tool)), headers=headers
        )
    except requests.RequestException as exc:
        raise RegistrationError("config_unreachable", type(exc).__name__) from exc
    if resp.status_code not in (200, 201):
        message = resp.text.strip()[:300] or None
        try:
            doc = resp.json()
            if isinstance(doc, Mapping):
                message = str(doc.get("error_description") or doc.get("error") or message)
        except ValueError:
            pass
        raise RegistrationError("registration_refused", f"HTTP {resp.status_code}", platform_message=message,
                                status=400 if resp.status_code < 500 else 502)
    try:
        answer = resp.json()
    except ValueError as exc:
        raise RegistrationError("registration_invalid", "registration response is not JSON") from exc
    client_id = answer.get("client_id") if isinstance(answer, Mapping) else None
    if not isinstance(client_id, str | int) or not str(client_id).strip():
        raise RegistrationError("registration_invalid", "registration response has no client_id")
    config = answer.get(TOOL_CONFIGURATION)
    deployment = config.get("deployment_id") if isinstance(config, Mapping) else None
    return RegistrationResult(
        platform=platform,
        client_id=str(client_id),
        deployment_id=str(deployment) if deployment not in (None, "") else None,
        update=token_scope(registration_token) == "reg-update",
    )
