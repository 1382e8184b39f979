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
``invalid_redirect_uris`` …) and 401 for a missing or re-used token — surfaced in :class:`RegistrationError`
when it is one of the known codes (:data:`KNOWN_PLATFORM_ERRORS`); nothing else of an answer is passed on.

The configuration URL comes from whoever opens the registration URL: with a :class:`lti.urlpolicy.UrlPolicy`
it, and the endpoints the configuration names (token, JWKS, registration), must not point into the tool's own
network (``url_refused``), and no redirect is followed. What passes is stored and trusted later.
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
from lti.urlpolicy import UrlPolicy, UrlRefused, UrlUnresolvable

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
    """Dynamic registration failed. ``code`` is stable; ``platform_message`` is the platform's error code when
    it is a known one (:data:`KNOWN_PLATFORM_ERRORS`): never free text from the answer."""

    status = 400

    def __init__(
        self, code: str, detail: str = "", *, platform_message: str | None = None, status: int | None = None
    ) -> None:
        super().__init__(code, detail)
        self.platform_message = platform_message
        if status is not None:
            self.status = status


# codes: config_unreachable, config_invalid, issuer_mismatch, registration_refused, registration_invalid,
# url_refused (the URL points into a private network and is not on the operator's allow-list)

# Error codes of Moodle's registration endpoint and of OpenID Connect / RFC 7591 §3.2.2: the only part of a
# platform's error answer shown to people (the answer itself could come from anywhere and is never shown).
KNOWN_PLATFORM_ERRORS = frozenset(
    {
        "missing_registration_token",
        "invalid_registration_token",
        "token_already_used",
        "invalid_registration_request",
        "missing_domain",
        "domain_targetlinkuri_mismatch",
        "invalid_redirect_uris",
        "invalid_redirect_uri",
        "invalid_client_metadata",
        "invalid_software_statement",
        "unapproved_software_statement",
        "invalid_token",
        "invalid_request",
        "unauthorized_client",
        "access_denied",
    }
)


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


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class NormalisedUrl:
    """An http(s) URL reduced to what decides where it points (RFC 3986 §6.2.2): scheme and host in lower
    case, the default port made explicit, unreserved characters decoded, dot segments removed."""

    scheme: str
    host: str
    port: int
    segments: tuple[str, ...]

    @property
    def origin(self) -> tuple[str, str, int]:
        return self.scheme, self.host, self.port

    def is_below(self, other: NormalisedUrl) -> bool:
        """Same origin, and ``other``'s path is a prefix of this path by whole segments."""
        prefix = tuple(s for s in other.segments if s)
        mine = tuple(s for s in self.segments if s)
        return self.origin == other.origin and mine[: len(prefix)] == prefix


def _decode_unreserved(path: str) -> str:
    out, i = [], 0
    while i < len(path):
        if path[i] != "%":
            out.append(path[i])
            i += 1
            continue
        code = path[i + 1 : i + 3]
        if len(code) != 2 or any(c not in "0123456789abcdefABCDEF" for c in code):
            raise ValueError("bad percent-encoding")
        char = chr(int(code, 16))
        out.append(char if char in _UNRESERVED else "%" + code.upper())
        i += 3
    return "".join(out)


def _remove_dot_segments(segments: list[str]) -> tuple[str, ...]:
    """RFC 3986 §5.2.4 on a split path."""
    out: list[str] = []
    for segment in segments:
        if segment == "..":
            if out:
                out.pop()
        elif segment != ".":
            out.append(segment)
    return tuple(out)


def normalise_url(url: str) -> NormalisedUrl:
    """The :class:`NormalisedUrl` of an http(s) URL; ValueError for anything ambiguous (user info, encoded
    slashes or backslashes, a bad port)."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("not an http(s) URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError("user info in URL")
    path = parts.path
    if "\\" in path or "%2f" in path.lower() or "%5c" in path.lower():
        raise ValueError("ambiguous path")
    port = parts.port or _DEFAULT_PORTS[scheme]  # raises ValueError for a bad port
    segments = _decode_unreserved(path).split("/")[1:] if path else []
    return NormalisedUrl(scheme, parts.hostname.lower().rstrip("."), port, _remove_dot_segments(segments))


def same_issuer(a: str, b: str) -> bool:
    """Whether two issuer strings name the same place (a trailing slash or case in the host aside)."""
    try:
        x, y = normalise_url(a), normalise_url(b)
    except ValueError:
        return a == b
    return x.origin == y.origin and tuple(s for s in x.segments if s) == tuple(s for s in y.segments if s)


def check_issuer(configuration_url: str, issuer: str) -> None:
    """§3.5.1: the issuer must match the configuration URL: same origin, and the configuration URL lies below
    the issuer by whole path segments, after normalising both (so ``/moodle/../other`` is not below
    ``/moodle``). Moodle's issuer is its site URL, its configuration ``/mod/lti/openid-configuration.php``."""
    try:
        config, iss = normalise_url(configuration_url), normalise_url(issuer)
    except ValueError as exc:
        raise RegistrationError("issuer_mismatch", f"URL cannot be compared: {exc}") from exc
    if config.origin != iss.origin:
        raise RegistrationError("issuer_mismatch", "issuer and openid_configuration URL differ in origin")
    if not config.is_below(iss):
        raise RegistrationError("issuer_mismatch", "openid_configuration URL is not below the issuer")


def _check(policy: UrlPolicy | None, url: str, name: str) -> None:
    """``url_refused`` when the policy forbids the URL (nothing has been sent to it)."""
    if policy is None:
        return
    try:
        policy.check(url)
    except UrlRefused as exc:
        raise RegistrationError("url_refused", f"{name}: {exc.detail}") from exc
    except UrlUnresolvable as exc:
        raise RegistrationError("config_unreachable", f"{name}: {exc.detail}") from exc


def _session(http: requests.Session | None, policy: UrlPolicy | None) -> requests.Session:
    return http if http is not None else TimeoutSession(policy=policy)


def _send(session: requests.Session, method: str, url: str, name: str, **kwargs: Any) -> requests.Response:
    try:
        return session.request(method, url, allow_redirects=False, **kwargs)
    except UrlRefused as exc:  # the checked session refused the address it was about to connect to
        raise RegistrationError("url_refused", f"{name}: {exc.detail}") from exc
    except UrlUnresolvable as exc:
        raise RegistrationError("config_unreachable", f"{name}: {exc.detail}") from exc
    except requests.RequestException as exc:
        raise RegistrationError("config_unreachable", type(exc).__name__) from exc


def fetch_platform_configuration(
    configuration_url: str,
    registration_token: str | None,
    *,
    http: requests.Session | None = None,
    policy: UrlPolicy | None = None,
) -> PlatformConfiguration:
    """GET and check the platform's configuration. With ``policy``, the configuration URL and the endpoints it
    names must be allowed by it (checked before the request, and again when connecting)."""
    _url(configuration_url, "openid_configuration")
    _check(policy, configuration_url, "openid_configuration")
    headers = {"Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    resp = _send(_session(http, policy), "GET", configuration_url, "openid_configuration", headers=headers)
    if resp.status_code != 200:
        # the body is not shown: the URL came from outside and could point anywhere
        raise RegistrationError("config_unreachable", f"HTTP {resp.status_code}")
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
    # the tool calls these (the token and key set URLs are stored and trusted from now on): checked now; the
    # authorization endpoint is only where browsers are sent
    endpoints = {name: _url(doc.get(name), name) for name in ("token_endpoint", "jwks_uri", "registration_endpoint")}
    for name, url in endpoints.items():
        _check(policy, url, name)
    return PlatformConfiguration(
        issuer=issuer,
        authorization_endpoint=_url(doc.get("authorization_endpoint"), "authorization_endpoint"),
        token_endpoint=endpoints["token_endpoint"],
        jwks_uri=endpoints["jwks_uri"],
        registration_endpoint=endpoints["registration_endpoint"],
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
        # LTI Data Privacy Launch: the platform may open the tool's privacy notice (answered without storing)
        {"type": "LtiDataPrivacyLaunchRequest", "target_link_uri": tool.target_link_uri},
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


def known_platform_error(resp: requests.Response) -> str | None:
    """The platform's error code when it is one of :data:`KNOWN_PLATFORM_ERRORS` (a plain-text body such as
    Moodle's, or ``error`` in a JSON body), else None. Never any other text of the answer."""
    candidates = [resp.text.strip()[:100]]
    try:
        doc = resp.json()
    except ValueError:
        doc = None
    if isinstance(doc, Mapping):
        candidates.insert(0, str(doc.get("error") or ""))
    if candidates[-1].startswith("missing required attribute "):
        attribute = candidates[-1].removeprefix("missing required attribute ")
        return f"missing required attribute {attribute}" if attribute in _REGISTRATION_FIELDS else None
    return next((c for c in candidates if c in KNOWN_PLATFORM_ERRORS), None)


_REGISTRATION_FIELDS = frozenset(
    {
        "application_type",
        "response_types",
        "grant_types",
        "initiate_login_uri",
        "redirect_uris",
        "client_name",
        "jwks_uri",
        "token_endpoint_auth_method",
        "scope",
        TOOL_CONFIGURATION,
    }
)


def register_tool(
    platform: PlatformConfiguration,
    registration_token: str | None,
    tool: ToolDescription,
    *,
    http: requests.Session | None = None,
    policy: UrlPolicy | None = None,
) -> RegistrationResult:
    """POST the client registration to the platform's registration endpoint (checked with ``policy``)."""
    _check(policy, platform.registration_endpoint, "registration_endpoint")
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if registration_token:
        headers["Authorization"] = f"Bearer {registration_token}"
    resp = _send(
        _session(http, policy),
        "POST",
        platform.registration_endpoint,
        "registration_endpoint",
        data=json.dumps(client_registration(tool)),
        headers=headers,
    )
    if resp.status_code not in (200, 201):
        raise RegistrationError(
            "registration_refused",
            f"HTTP {resp.status_code}",
            platform_message=known_platform_error(resp),
            status=400 if resp.status_code < 500 else 502,
        )
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
