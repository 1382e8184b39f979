"""An LTI 1.3 platform double: what Moodle does for a tool, small and over real HTTP.

Used by ``medienwerk demo`` (mounted at ``/demo``) and by the tests (on its own loopback port). It has its
own RSA key pair and JWKS, an OIDC authorization endpoint that checks the tool's authentication request
and answers with an RS256-signed id_token posted to the tool's redirect URI, and a course page that launches
the tool as a volunteer, a trainer or a coordinator inside an iframe.

It says loudly that it is a double: every page it serves is marked "Demo-LMS".
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import Flask, abort, redirect, render_template, request

from lms.resources import TEMPLATES_DIR
from lti.keys import ToolKey, generate_key, public_jwk

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
SYSTEM = "http://purl.imsglobal.org/vocab/lis/v2/system/person#"
INSTITUTION = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#"


@dataclass(frozen=True)
class Persona:
    key: str
    label: str
    sub: str
    roles: tuple[str, ...]
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None


PERSONAS: dict[str, Persona] = {
    p.key: p
    for p in (
        Persona("volunteer", "Botschafterin Lena (Lernende)", "demo-lena", (MEMBERSHIP + "Learner",),
                "Lena Schreiner", "Lena", "Schreiner", "lena.schreiner@example.org"),
        Persona("trainer", "Trainer Jonas (Lehrender)", "demo-jonas", (MEMBERSHIP + "Instructor",),
                "Jonas Becker", "Jonas", "Becker", "jonas.becker@example.org"),
        Persona("coordinator", "Koordinatorin Aylin (Admin)", "demo-aylin",
                (MEMBERSHIP + "Instructor", SYSTEM + "Administrator", INSTITUTION + "Administrator"),
                "Aylin Demir", "Aylin", "Demir", "aylin.demir@example.org"),
        Persona("volunteer-private", "Botschafter ohne Namen (Datenschutz)", "demo-timo",
                (MEMBERSHIP + "Learner",)),
    )
}


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
    resource_link: Mapping[str, Any] = field(
        default_factory=lambda: {"id": "demo-link-1", "title": "medienwerk"}
    )
    locale: str = "de"
    return_url: str | None = None
    issued: list[dict[str, Any]] = field(default_factory=list)
    # callables (double, persona_key, claims) -> None that add claims to every launch (AGS, NRPS, ...)
    claim_providers: list[Any] = field(default_factory=list)
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
    def login_params(self, persona: str, *, client_id: bool = True, deployment: bool = True) -> dict[str, str]:
        """Parameters of a third-party-initiated login (LTI 1.3 core §4.1)."""
        params = {
            "iss": self.issuer,
            "login_hint": persona,
            "target_link_uri": self.tool_launch_url,
            "lti_message_hint": f"{persona}:{self.resource_link['id']}",
        }
        if client_id:
            params["client_id"] = self.client_id
        if deployment:
            params["lti_deployment_id"] = self.deployment_id
        return params

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
        for provider in self.claim_providers:
            provider(self, persona_key, body)
        body.update(overrides)
        return {k: v for k, v in body.items() if v is not _DROP}

    def sign(self, claims: Mapping[str, Any], headers: Mapping[str, Any] | None = None,
             key: ToolKey | None = None) -> str:
        key = key or self.key
        hdr = {"kid": key.kid} if headers is None else dict(headers)
        return jwt.encode(dict(claims), key.private_pem, algorithm="RS256", headers=hdr)

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
        if problems:
            raise ValueError("; ".join(problems))
        claims = self.claims(persona, params["nonce"])
        token = self.sign(claims)
        with self._lock:
            self.issued.append(claims)
        return params["redirect_uri"], {"id_token": token, "state": params["state"]}


_DROP = object()
DROP: Any = _DROP  # pass as an override value to leave a claim out


def create_platform_app(double: PlatformDouble) -> Flask:
    app = Flask(__name__, template_folder=str(TEMPLATES_DIR), static_folder=None)
    app.config["SECRET_KEY"] = secrets.token_urlsafe(16)
    app.extensions["platform_double"] = double

    @app.get("/")
    def course() -> str:
        return render_template("demo/course.html", personas=PERSONAS.values(), double=double)

    @app.get("/launch/<persona>")
    def launch(persona: str) -> Any:
        if persona not in PERSONAS:
            abort(404)
        params = double.login_params(persona)
        if request.args.get("method") == "post":
            return render_template("demo/autopost.html", action=double.tool_login_url, fields=params,
                                   title="Demo-LMS")
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

    # LTI Advantage services of the double (token, AGS, NRPS), where that module exists
    try:
        from lms.demo.platform_services import register_services
    except ImportError:
        pass
    else:
        register_services(app, double)

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok", "double": "lti-platform", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, double.issuer))}

    return app
