"""An LTI 1.3 platform double: what Moodle does for a tool, small and over real HTTP.

Used by ``medienwerk demo`` (mounted at ``/demo``) and by the tests (on its own loopback port). It has its
own RSA key pair and JWKS, an OIDC authorization endpoint that checks the tool's authentication request
and answers with an RS256-signed id_token posted to the tool's redirect URI, and a course page that launches
the tool as a volunteer, a trainer or a coordinator inside an iframe.

It also does what Moodle does around a tool (the parts medienwerk relies on):

* **Deep linking** ("Inhalt hinzufügen" for the trainer): an LtiDeepLinkingRequest with
  ``deep_linking_settings`` and opaque ``data``; ``/deep-link-return`` verifies the LtiDeepLinkingResponse
  against the tool's JWKS fetched over HTTP (signature, kid, iss/aud, deployment, message type, version,
  ``data`` echo, ``accept_multiple``, item type and URL) and keeps the chosen items as course links, whose
  launches carry the items' custom parameters.
* **Dynamic registration** (Moodle 4.x "Tool URL"): ``/start-registration`` opens the tool's registration URL
  with ``openid_configuration`` and a one-time ``registration_token``; ``/openid-configuration`` (needs the
  token as Bearer) and ``/openid-registration`` (validates like Moodle's ``registration_helper``: 400 with
  Moodle's messages, 401 for a missing or re-used token) answer with a client_id and a deployment_id.
* **Client-side storage** (1EdTech LTI postMessage storage): with ``storage_target`` set, logins carry
  ``lti_storage_target`` and the course page answers ``lti.put_data`` / ``lti.get_data`` (static JS).

It says loudly that it is a double: every page it serves is marked "Demo-LMS".
"""

from __future__ import annotations

import functools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jwt
import requests
from cryptography.hazmat.primitives import serialization
from flask import Flask, Response, abort, redirect, render_template, request, send_from_directory
from jwcrypto.jwk import JWK

from lms.core.resources import TEMPLATES_DIR
from lms.demo.personas import LTI, PERSONAS
from lms.demo.platform_services import register_services
from lms.platforms.services import add_platform
from lti.keys import ToolKey, generate_key, public_jwk


@functools.lru_cache(maxsize=16)
def _signing_key(private_pem: str) -> Any:
    """The loaded private key (loading a PEM checks the RSA key: tens of milliseconds for every id_token)."""
    return serialization.load_pem_private_key(private_pem.encode(), password=None)


@dataclass
class PlatformDouble:
    issuer: str
    client_id: str = "medienwerk-demo"
    deployment_id: str = "1"
    tool_login_url: str = ""
    tool_launch_url: str = ""
    key: ToolKey = field(default_factory=generate_key)
    context: Mapping[str, Any] = field(
        default_factory=lambda: {
            "id": "demo-course-1",
            "label": "BdH-Digital",
            "title": "Botschafter*innen des Handwerks – Digital-Qualifizierung (Demo)",
            "type": ["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
        }
    )
    resource_link: Mapping[str, Any] = field(default_factory=lambda: {"id": "demo-link-1", "title": "medienwerk"})
    locale: str = "de"
    return_url: str | None = None
    issued: list[dict[str, Any]] = field(default_factory=list)
    # callables (double, persona_key, claims) -> None that add claims to every launch (AGS, NRPS, ...)
    claim_providers: list[Any] = field(default_factory=list)
    # -- client-side storage: the frame name sent as lti_storage_target (None: not offered, like Moodle)
    storage_target: str | None = None
    # -- deep linking
    tool_jwks_url: str = ""  # default: next to tool_login_url (…/lti/jwks)
    dl_accept_multiple: bool = True
    dl_send_data: bool = True
    dl_data_sent: list[str] = field(default_factory=list)
    deep_link_responses: list[dict[str, Any]] = field(default_factory=list)  # verified response claims
    deep_link_errors: list[str] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)  # course links created by deep linking
    # -- dynamic registration
    tool_registration_url: str = ""  # prefilled on the course page
    openid_issuer: str | None = None  # what the openid-configuration claims as issuer (tests: a mismatch)
    registration_error: str | None = None  # answer every registration with this Moodle error (tests)
    registration_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    registrations: dict[str, dict[str, Any]] = field(default_factory=dict)  # client_id -> tool registration
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def with_key_file(cls, path: Path, **kwargs: Any) -> PlatformDouble:
        """A double whose key survives restarts (the demo keeps it in the instance folder)."""
        if path.exists():
            pem = path.read_text()
            jwk = public_jwk(pem)
            key = ToolKey(kid=jwk["kid"], private_pem=pem, public_jwk=jwk)
        else:
            key = generate_key()
            path.write_text(key.private_pem)
            path.chmod(0o600)
        return cls(key=key, **kwargs)

    # -- what a platform publishes -----------------------------------------------------------------
    @property
    def auth_login_url(self) -> str:
        return self.issuer + "/auth"

    @property
    def auth_token_url(self) -> str:
        return self.issuer + "/token"

    @property
    def key_set_url(self) -> str:
        return self.issuer + "/jwks"

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.public_jwk]}

    # -- launching ---------------------------------------------------------------------------------
    def login_params(
        self,
        persona: str,
        *,
        client_id: bool = True,
        deployment: bool = True,
        deep_linking: bool = False,
        link: str | None = None,
    ) -> dict[str, str]:
        """Parameters of a third-party-initiated login (LTI 1.3 core §4.1).

        ``deep_linking``: the login of an LtiDeepLinkingRequest; ``link``: the launch of a course link made
        by deep linking (its id in :attr:`links`).
        """
        target = "dl" if deep_linking else (link or self.resource_link["id"])
        params = {
            "iss": self.issuer,
            "login_hint": persona,
            "target_link_uri": self.tool_launch_url,
            "lti_message_hint": f"{persona}:{target}",
        }
        if client_id:
            params["client_id"] = self.client_id
        if deployment:
            params["lti_deployment_id"] = self.deployment_id
        if self.storage_target:
            params["lti_storage_target"] = self.storage_target
        return params

    def link(self, link_id: str) -> dict[str, Any] | None:
        return next((lk for lk in self.links if lk["id"] == link_id), None)

    def deep_linking_claims(self, persona_key: str, nonce: str, /, **overrides: Any) -> dict[str, Any]:
        """An LtiDeepLinkingRequest as Moodle sends it when a teacher adds the tool (no resource_link)."""
        settings: dict[str, Any] = {
            "deep_link_return_url": self.issuer + "/deep-link-return",
            "accept_types": ["ltiResourceLink"],
            "accept_presentation_document_targets": ["iframe", "window"],
            "accept_multiple": self.dl_accept_multiple,
            "auto_create": False,
            "title": "medienwerk",
            "text": "",
        }
        if self.dl_send_data:
            data = json.dumps({"launchid": uuid.uuid4().hex})
            with self._lock:
                self.dl_data_sent.append(data)
            settings["data"] = data
        body = self.claims(
            persona_key,
            nonce,
            **{
                LTI + "message_type": "LtiDeepLinkingRequest",
                LTI + "resource_link": _DROP,
                DL_SETTINGS: settings,
            },
        )
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not _DROP}

    def link_claims(self, persona_key: str, nonce: str, link: Mapping[str, Any]) -> dict[str, Any]:
        """The launch of a course link created by deep linking: its resource link id and custom parameters."""
        return self.claims(
            persona_key,
            nonce,
            **{
                LTI + "resource_link": {"id": link["id"], "title": link["title"]},
                LTI + "custom": dict(link.get("custom") or {}),
                LTI + "target_link_uri": link["url"],
            },
        )

    def claims(self, persona_key: str, nonce: str, /, **overrides: Any) -> dict[str, Any]:
        persona = PERSONAS[persona_key]
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": persona.sub,
            "nonce": nonce,
            "iat": now,
            "exp": now + 300,
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "version": "1.3.0",
            LTI + "deployment_id": self.deployment_id,
            LTI + "target_link_uri": self.tool_launch_url,
            LTI + "roles": list(persona.roles),
            LTI + "context": dict(self.context),
            LTI + "resource_link": dict(self.resource_link),
            LTI + "launch_presentation": {
                "locale": self.locale,
                "document_target": "iframe",
                **({"return_url": self.return_url} if self.return_url else {}),
            },
            LTI + "tool_platform": {
                "guid": "demo-lms",
                "name": "Demo-LMS",
                "product_family_code": "medienwerk-demo",
            },
            LTI + "custom": {},
        }
        for name in ("name", "given_name", "family_name", "email"):
            value = getattr(persona, name)
            if value:
                body[name] = value
        # the providers see the launch's own resource link (a deep-linked link's, not the course's first one:
        # otherwise its AGS claim names the first link's grade column); the overrides still have the last word
        body.update(overrides)
        for provider in self.claim_providers:
            provider(self, persona_key, body)
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not _DROP}

    def sign(
        self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None, key: ToolKey | None = None
    ) -> str:
        key = key or self.key
        hdr = {"kid": key.kid} if headers is None else dict(headers)
        return jwt.encode(dict(claims), _signing_key(key.private_pem), algorithm="RS256", headers=hdr)

    def authorize(self, params: Mapping[str, str]) -> tuple[str, dict[str, str]]:
        """Check an OIDC authentication request and answer it: (redirect_uri, form fields)."""
        problems = []
        if params.get("scope") != "openid":
            problems.append("scope must be openid")
        if params.get("response_type") != "id_token":
            problems.append("response_type must be id_token")
        if params.get("response_mode") != "form_post":
            problems.append("response_mode must be form_post")
        if params.get("client_id") != self.client_id:
            problems.append("unknown client_id")
        if params.get("redirect_uri") != self.tool_launch_url:
            problems.append("redirect_uri is not registered")
        if not params.get("nonce") or not params.get("state"):
            problems.append("nonce and state are required")
        persona = params.get("login_hint", "")
        if persona not in PERSONAS:
            problems.append("unknown login_hint")
        hint = params.get("lti_message_hint", "")
        target = hint.split(":", 1)[1] if ":" in hint else ""
        link = self.link(target) if target not in ("", "dl", self.resource_link["id"]) else None
        if target not in ("", "dl", self.resource_link["id"]) and link is None:
            problems.append("unknown lti_message_hint")
        if problems:
            raise ValueError("; ".join(problems))
        if target == "dl":
            claims = self.deep_linking_claims(persona, params["nonce"])
        elif link is not None:
            claims = self.link_claims(persona, params["nonce"], link)
        else:
            claims = self.claims(persona, params["nonce"])
        token = self.sign(claims)
        with self._lock:
            self.issued.append(claims)
        fields = {"id_token": token, "state": params["state"]}
        if params.get("lti_storage_target"):
            fields["lti_storage_target"] = params["lti_storage_target"]
        return params["redirect_uri"], fields

    # -- deep linking response (Deep Linking 2.0 §4.2) ---------------------------------------------
    def tool_keyset_url(self) -> str:
        if self.tool_jwks_url:
            return self.tool_jwks_url
        return self.tool_login_url.rsplit("/lti/login", 1)[0] + "/lti/jwks"

    def verify_deep_link_response(self, token: str, http: requests.Session | None = None) -> dict[str, Any]:
        """Check the tool's LtiDeepLinkingResponse like a platform must; raise ValueError with the problems."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise ValueError(f"not a JWT: {exc}") from exc
        kid = header.get("kid")
        if not kid:
            raise ValueError("no kid in the JWT header")
        if header.get("alg") != "RS256":
            raise ValueError("alg must be RS256")
        keyset = (http or requests).get(self.tool_keyset_url(), timeout=10).json()
        jwk = next((k for k in keyset.get("keys", []) if k.get("kid") == kid), None)
        if jwk is None:
            raise ValueError("kid not in the tool's JWKS")
        pem = JWK.from_json(json.dumps(jwk)).export_to_pem()
        try:
            claims = jwt.decode(
                token,
                pem,
                algorithms=["RS256"],
                audience=self.issuer,
                issuer=self.client_id,
                options={"require": ["iat", "exp", "nonce", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as exc:
            raise ValueError(f"JWT rejected: {exc}") from exc
        problems = []
        if claims.get(LTI + "message_type") != "LtiDeepLinkingResponse":
            problems.append("message_type must be LtiDeepLinkingResponse")
        if claims.get(LTI + "version") != "1.3.0":
            problems.append("version must be 1.3.0")
        if claims.get(LTI + "deployment_id") != self.deployment_id:
            problems.append("deployment_id does not match")
        data = claims.get(DL_CLAIM + "data", _DROP)
        if data is _DROP:
            if self.dl_send_data:
                problems.append("data was sent but not echoed")
        elif data not in self.dl_data_sent:
            problems.append("data does not match any deep-linking request")
        items = claims.get(DL_CLAIM + "content_items")
        if not isinstance(items, list):
            problems.append("content_items missing")
            items = []
        if len(items) > 1 and not self.dl_accept_multiple:
            problems.append("several items, but accept_multiple was false")
        for item in items:
            if item.get("type") != "ltiResourceLink":
                problems.append("only ltiResourceLink items are accepted")
            if item.get("url") and urlsplit(item["url"]).netloc != urlsplit(self.tool_launch_url).netloc:
                problems.append("item url is not on the tool's domain")
            if item.get("url") and item["url"] != self.tool_launch_url:
                problems.append("item url is not a registered redirect URI")
        if problems:
            raise ValueError("; ".join(problems))
        return claims

    def add_links(self, claims: Mapping[str, Any]) -> list[dict[str, Any]]:
        added = []
        with self._lock:
            self.deep_link_responses.append(dict(claims))
            for item in claims.get(DL_CLAIM + "content_items") or []:
                link = {
                    "id": f"link-{len(self.links) + 1}",
                    "title": item.get("title") or "medienwerk",
                    "url": item.get("url") or self.tool_launch_url,
                    "custom": dict(item.get("custom") or {}),
                    "lineItem": item.get("lineItem"),
                }
                self.links.append(link)
                added.append(link)
        services = getattr(self, "services", None)  # lms.demo.platform_services, where mounted
        for link in added:
            if services is not None and isinstance(link["lineItem"], Mapping):
                # like Moodle: a content item with a lineItem gets a grade column of its own
                services.link_lineitem(str(self.context["id"]), link["id"], line_item=link["lineItem"])
        return added

    # -- dynamic registration (LTI Dynamic Registration 1.0; Moodle's openid-registration.php) ----------
    @property
    def openid_configuration_url(self) -> str:
        return self.issuer + "/openid-configuration"

    @property
    def registration_endpoint(self) -> str:
        return self.issuer + "/openid-registration"

    def start_registration(self, tool_url: str, *, update_client_id: str | None = None) -> str:
        """The URL Moodle opens for "Add LTI Advantage": the tool URL plus openid_configuration and a token."""
        now = int(time.time())
        client_id = update_client_id or secrets.token_urlsafe(11)[:15]
        scope = "reg-update" if update_client_id else "reg"
        token = jwt.encode(
            {"sub": client_id, "scope": scope, "iat": now, "exp": now + 3600},
            self.key.private_pem,
            algorithm="RS256",
            headers={"kid": self.key.kid},
        )
        with self._lock:
            self.registration_tokens[token] = {"client_id": client_id, "scope": scope, "used": False}
        sep = "&" if "?" in tool_url else "?"
        return (
            tool_url
            + sep
            + urlencode({"openid_configuration": self.openid_configuration_url, "registration_token": token})
        )

    def openid_configuration(self) -> dict[str, Any]:
        """Like Moodle's mod/lti/openid-configuration.php."""
        return {
            "issuer": self.openid_issuer or self.issuer,
            "token_endpoint": self.auth_token_url,
            "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            "token_endpoint_auth_signing_alg_values_supported": ["RS256"],
            "jwks_uri": self.key_set_url,
            "authorization_endpoint": self.auth_login_url,
            "registration_endpoint": self.registration_endpoint,
            "scopes_supported": [
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
                "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
                "https://purl.imsglobal.org/spec/lti-ags/scope/score",
                "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
                "openid",
            ],
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public", "pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "iss", "name", "given_name", "family_name", "email"],
            "https://purl.imsglobal.org/spec/lti-platform-configuration": {
                "product_family_code": "moodle",
                "version": "4.5 (Demo-LMS)",
                "messages_supported": [{"type": "LtiResourceLinkRequest"}, {"type": "LtiDeepLinkingRequest"}],
                "placements": ["AddContentMenu"],
                "variables": ["ResourceLink.id", "Context.id", "User.id"],
            },
        }

    def check_registration_token(self, authorization: str | None, *, consume: bool) -> dict[str, Any]:
        """The token's record; raises PermissionError with Moodle's message (HTTP 401)."""
        if not authorization or not authorization.startswith("Bearer "):
            raise PermissionError("missing_registration_token")
        token = authorization[7:].strip()
        with self._lock:
            record = self.registration_tokens.get(token)
            if record is None:
                raise PermissionError("invalid_registration_token")
            if record["used"]:
                raise PermissionError("token_already_used")
            if consume:
                record["used"] = True
        return record

    def register(self, payload: Any, record: Mapping[str, Any]) -> dict[str, Any]:
        """Validate a client registration like Moodle's registration_helper; raise ValueError (HTTP 400)."""
        if self.registration_error:
            raise ValueError(self.registration_error)
        if not isinstance(payload, dict):
            raise ValueError("invalid_registration_request")
        for name in (
            "response_types",
            "initiate_login_uri",
            "redirect_uris",
            "client_name",
            "jwks_uri",
            "token_endpoint_auth_method",
        ):
            if name not in payload:
                raise ValueError(f"missing required attribute {name}")
        config = payload.get("https://purl.imsglobal.org/spec/lti-tool-configuration") or {}
        domain = config.get("domain")
        if not domain:
            raise ValueError("missing_domain")
        target = config.get("target_link_uri") or "https://" + domain
        if _domain(domain) != _domain(target):
            raise ValueError("domain_targetlinkuri_mismatch")
        if "id_token" not in (payload.get("response_types") or []):
            raise ValueError("invalid_response_types")
        if not isinstance(payload.get("redirect_uris"), list):
            raise ValueError("invalid_redirect_uris")
        if payload.get("token_endpoint_auth_method") != "private_key_jwt":
            raise ValueError("invalid_token_endpoint_auth_method")
        if payload.get("application_type", "web") not in ("", "web"):
            raise ValueError("invalid_application_type")
        client_id = record["client_id"]
        with self._lock:
            existing = self.registrations.get(client_id)
            deployment_id = existing["deployment_id"] if existing else str(len(self.registrations) + 2)
            self.registrations[client_id] = {"payload": payload, "deployment_id": deployment_id, "state": "pending"}
        answer = {k: v for k, v in payload.items() if k != "https://purl.imsglobal.org/spec/lti-tool-configuration"}
        answer["client_id"] = client_id
        answer["https://purl.imsglobal.org/spec/lti-tool-configuration"] = {
            **config,
            "version": "1.3.0",
            "deployment_id": deployment_id,
            "target_link_uri": target,
        }
        return answer


def register_double(double: PlatformDouble, *, name: str = "Demo-LMS", chamber_slug: str = "demo-kammer") -> None:
    """Register the double with the tool, as `medienwerk platform add` would (flushes; the caller commits)."""
    add_platform(
        issuer=double.issuer,
        client_id=double.client_id,
        deployment_id=double.deployment_id,
        auth_login_url=double.auth_login_url,
        auth_token_url=double.auth_token_url,
        key_set_url=double.key_set_url,
        name=name,
        chamber_slug=chamber_slug,
    )


_DROP = object()
DROP: Any = _DROP  # pass as an override value to leave a claim out
DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
DL_CLAIM = "https://purl.imsglobal.org/spec/lti-dl/claim/"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def _domain(url_or_host: str) -> str:
    """Moodle's lti_get_domain_from_url: host (and port), lower case, without a leading www."""
    netloc = urlsplit(url_or_host if "//" in url_or_host else "//" + url_or_host).netloc.lower()
    return netloc[4:] if netloc.startswith("www.") else netloc


def create_platform_app(double: PlatformDouble) -> Flask:
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR), static_folder=None)
    app.config["SECRET_KEY"] = secrets.token_urlsafe(16)
    app.extensions["platform_double"] = double

    @app.get("/")
    def course() -> str:
        return render_template("demo/course.html", personas=PERSONAS.values(), double=double)

    @app.get("/storage-frame")
    def storage_frame() -> Any:
        """The platform's storage frame (named ``lti-storage`` on the course page), like Canvas's
        ``post_message_forwarding`` frame: answers lti.put_data / lti.get_data for tools in the page."""
        return render_template("demo/storage_frame.html")

    @app.get("/double-static/<path:filename>")
    def double_static(filename: str) -> Any:
        # its own script, and the tool's style sheet, so that the course page looks the same on its own port (tests)
        if not filename.startswith("demo-platform") and filename != "medienwerk.css":
            abort(404)
        return send_from_directory(STATIC_DIR, filename)

    @app.get("/launch/<persona>")
    def launch(persona: str) -> Any:
        if persona not in PERSONAS:
            abort(404)
        link = request.args.get("link")
        if link and double.link(link) is None:
            abort(404)
        params = double.login_params(persona, deep_linking=request.args.get("message") == "dl", link=link)
        if request.args.get("method") == "post":
            return render_template("demo/autopost.html", action=double.tool_login_url, fields=params, title="Demo-LMS")
        return redirect(double.tool_login_url + "?" + urlencode(params))

    @app.route("/auth", methods=["GET", "POST"])
    def auth() -> Any:
        params = request.values.to_dict()
        try:
            target, fields = double.authorize(params)
        except ValueError as exc:
            return render_template("demo/platform_error.html", message=str(exc)), 400
        return render_template("demo/autopost.html", action=target, fields=fields, title="Demo-LMS")

    @app.get("/jwks")
    def jwks() -> Any:
        return double.jwks()

    @app.post("/deep-link-return")
    def deep_link_return() -> Any:
        try:
            claims = double.verify_deep_link_response(request.form.get("JWT", ""))
        except (ValueError, requests.RequestException) as exc:
            with double._lock:
                double.deep_link_errors.append(str(exc))
            return render_template("demo/platform_error.html", message=str(exc)), 400
        added = double.add_links(claims)
        return render_template("demo/deep_link_done.html", added=added, double=double)

    @app.get("/openid-configuration")
    def openid_configuration() -> Any:
        try:
            double.check_registration_token(request.headers.get("Authorization"), consume=False)
        except PermissionError as exc:
            return Response(str(exc), status=401, mimetype="text/plain")
        return double.openid_configuration()

    @app.post("/openid-registration")
    def openid_registration() -> Any:
        try:
            record = double.check_registration_token(request.headers.get("Authorization"), consume=True)
        except PermissionError as exc:
            return Response(str(exc), status=401, mimetype="text/plain")
        try:
            payload = json.loads(request.get_data(as_text=True) or "null")
            answer = double.register(payload, record)
        except ValueError as exc:
            with double._lock:
                record["used"] = False  # Moodle deletes the token only after a successful registration
            message = str(exc) if not isinstance(exc, json.JSONDecodeError) else "invalid_registration_request"
            return Response(message, status=400, mimetype="text/plain")
        return answer

    @app.get("/start-registration")
    def start_registration() -> Any:
        tool_url = request.args.get("url", "").strip()
        if not tool_url.startswith(("http://", "https://")):
            message = "Tool-URL fehlt oder ist keine http(s)-Adresse."
            return render_template("demo/platform_error.html", message=message), 400
        return redirect(double.start_registration(tool_url, update_client_id=request.args.get("update") or None))

    # LTI Advantage services of the double (token, AGS, NRPS)
    register_services(app, double)

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok", "double": "lti-platform", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, double.issuer))}

    return app
