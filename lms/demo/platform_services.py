"""LTI Advantage services of the platform double: token endpoint, AGS and NRPS, with Moodle's rules.

DEMO DOUBLE — not a platform. Mounted on the double's app by :func:`register_services`; its state is an
:class:`PlatformServices` object on ``app.extensions["platform_services"]`` (also ``double.services``) so tests
can look into the gradebook, count token requests, switch the services off or simulate slowness and outages.

- ``POST /token``: client_credentials with a JWT client assertion, verified against the tool's JWKS fetched
  over HTTP (re-fetched when an unknown ``kid`` appears); ``jti`` single use; bearer tokens with expiry.
- ``GET/POST /ags/lineitems``: the container (filters ``resource_link_id``, ``resource_id``, ``tag``; paging
  with ``limit``/``from`` and ``Link: <…>; rel="next"``); ``GET …/lineitem``; ``POST …/lineitem/scores`` with
  Moodle's rules (``mod/lti/service/gradebookservices/classes/local/resources/scores.php``).
- ``GET /nrps/CourseSection/<context>/bindings/<deployment>/memberships``: membership container with paging.
- a claim provider that adds the AGS and NRPS claims to launches (``ags_mode``: "lineitem", "lineitems",
  "off"; ``nrps_enabled``).
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import jwt
import requests
from flask import Flask, Response, jsonify, request

from lms.demo.personas import MEMBERSHIP, PERSONAS

if TYPE_CHECKING:
    from lms.demo.platform import PlatformDouble

AGS_CLAIM = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
ALL_AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TYPE_ID = "1"  # Moodle puts the tool type into every service URL


@dataclass
class StoredGrade:
    score_given: float | None
    score_maximum: float
    activity_progress: str
    grading_progress: str
    timestamp: str
    timemodified: int  # seconds, as Moodle keeps it
    comment: str | None


@dataclass
class Membership:
    user_id: str
    roles: list[str]
    status: str = "Active"
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    email: str | None = None

    def to_json(self, share_names: bool, share_email: bool) -> dict[str, Any]:
        body: dict[str, Any] = {"user_id": self.user_id, "roles": list(self.roles), "status": self.status}
        if share_names:
            for key in ("name", "given_name", "family_name"):
                if getattr(self, key):
                    body[key] = getattr(self, key)
        if share_email and self.email:
            body["email"] = self.email
        return body


def _default_members() -> list[Membership]:
    short = {"Learner": "Learner", "Instructor": "Instructor"}
    members = []
    for persona in PERSONAS.values():
        if persona.key == "coordinator":
            roles = ["Instructor", "http://purl.imsglobal.org/vocab/lis/v2/person#Administrator"]
        else:
            roles = [short[r.removeprefix(MEMBERSHIP)] for r in persona.roles if r.startswith(MEMBERSHIP)]
        members.append(
            Membership(
                persona.sub, roles, "Active", persona.name, persona.given_name, persona.family_name, persona.email
            )
        )
    return members


@dataclass
class PlatformServices:
    """Everything the double's services know and do; tests change the switches directly."""

    double: PlatformDouble
    tool_jwks_url: str | None = None  # default: derived from the tool's login URL
    token_ttl: int = 3600
    # what launches get: "lineitem" (claim with the link's line item), "lineitems" (container only), "off"
    ags_mode: str = "lineitem"
    ags_scopes: tuple[str, ...] = ALL_AGS_SCOPES
    nrps_enabled: bool = True
    nrps_page_size: int = 50
    lineitems_page_size: int = 0  # 0: all in one page unless the tool asks for a limit
    share_names: bool = True
    share_email: bool = True
    # simulated trouble: seconds of delay per service request, 503 for everything, status codes for the next
    # score POSTs, requests answered 401 although the token is valid
    delay: float = 0.0
    outage: bool = False
    fail_next_scores: list[int] = field(default_factory=list)
    unauthorized_next: int = 0
    # tests of a stopping worker: score POSTs set ``score_arrived`` and wait for ``hold_scores`` before answering
    hold_scores: threading.Event | None = None
    score_arrived: threading.Event = field(default_factory=threading.Event, repr=False)
    # gradable users (Moodle: enrolled and with a gradable role); the rest get 403, unknown users 400
    gradable: set[str] = field(
        default_factory=lambda: {p.sub for p in PERSONAS.values() if any(r.endswith("#Learner") for r in p.roles)}
    )
    known_users: set[str] = field(default_factory=lambda: {p.sub for p in PERSONAS.values()})
    members: list[Membership] = field(default_factory=_default_members)

    token_requests: Counter[str] = field(default_factory=Counter)  # client id -> count
    tokens: dict[str, tuple[str, frozenset[str], float]] = field(default_factory=dict)
    lineitems: dict[str, dict[str, Any]] = field(default_factory=dict)  # id (number) -> line item json
    grades: dict[tuple[str, str], StoredGrade] = field(default_factory=dict)  # (item id, user) -> grade
    score_log: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)  # (item, body, status)
    requests_log: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    _used_jti: dict[str, float] = field(default_factory=dict)
    _jwks: dict[str, Any] = field(default_factory=dict)
    _next_item: int = 1
    _lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    # -- URLs -------------------------------------------------------------------------------------------
    @property
    def base(self) -> str:
        return self.double.issuer

    def lineitems_url(self, context_id: str) -> str:
        return f"{self.base}/ags/{context_id}/lineitems?type_id={TYPE_ID}"

    def lineitem_url(self, item_id: str, context_id: str) -> str:
        return f"{self.base}/ags/{context_id}/lineitems/{item_id}/lineitem?type_id={TYPE_ID}"

    def memberships_url(self, context_id: str) -> str:
        return f"{self.base}/nrps/CourseSection/{context_id}/bindings/{self.double.deployment_id}/memberships"

    def jwks_url(self) -> str:
        if self.tool_jwks_url:
            return self.tool_jwks_url
        if getattr(self.double, "tool_jwks_url", ""):
            return str(self.double.tool_jwks_url)
        login = self.double.tool_login_url
        return login[: -len("/login")] + "/jwks" if login.endswith("/login") else login

    # -- line items and grades (also for tests) --------------------------------------------------------
    def add_lineitem(
        self,
        context_id: str,
        label: str,
        score_maximum: float = 100,
        *,
        resource_link_id: str | None = None,
        resource_id: str | None = None,
        tag: str | None = None,
    ) -> dict[str, Any]:
        with self._lock:
            number = str(self._next_item)
            self._next_item += 1
            item = {
                "id": self.lineitem_url(number, context_id),
                "label": label,
                "scoreMaximum": score_maximum,
                "_context": context_id,
                "_number": number,
            }
            for key, value in (("resourceLinkId", resource_link_id), ("resourceId", resource_id), ("tag", tag)):
                if value:
                    item[key] = value
            self.lineitems[number] = item
            return item

    def link_lineitem(
        self, context_id: str, resource_link_id: str, *, line_item: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The line item coupled with a resource link (Moodle: the activity's grade item), created on demand;
        for a link made by deep linking from its content item's ``lineItem`` (label, maximum, resourceId, tag)."""
        with self._lock:
            for item in self.lineitems.values():
                if (
                    item["_context"] == context_id
                    and item.get("resourceLinkId") == resource_link_id
                    and item.get("_coupled")
                ):
                    return item
            wanted = line_item or {}
            maximum = wanted.get("scoreMaximum")
            item = self.add_lineitem(
                context_id,
                str(wanted.get("label") or "medienwerk"),
                float(maximum) if isinstance(maximum, int | float) and maximum > 0 else 100,
                resource_link_id=resource_link_id,
                resource_id=wanted.get("resourceId"),
                tag=wanted.get("tag"),
            )
            item["_coupled"] = True
            return item

    def grade(self, user_id: str, item: Mapping[str, Any] | str | None = None) -> StoredGrade | None:
        """The stored grade of a user on a line item (default: the only item that has grades)."""
        with self._lock:
            if item is None:
                numbers = {n for (n, u) in self.grades if u == user_id}
                if len(numbers) != 1:
                    return None
                number = numbers.pop()
            else:
                number = item if isinstance(item, str) else str(item["_number"])
            return self.grades.get((number, user_id))

    def public_item(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not k.startswith("_")}

    # -- tokens -----------------------------------------------------------------------------------------
    def _tool_keys(self, refresh: bool) -> dict[str, Any]:
        if refresh or not self._jwks:
            response = requests.get(self.jwks_url(), timeout=5)
            response.raise_for_status()
            self._jwks = {k["kid"]: k for k in response.json().get("keys", []) if "kid" in k}
        return self._jwks

    def issue_token(self, form: Mapping[str, str]) -> tuple[dict[str, Any], int]:
        if form.get("grant_type") != "client_credentials":
            return {"error": "unsupported_grant_type"}, 400
        if form.get("client_assertion_type") != ASSERTION_TYPE or not form.get("client_assertion"):
            return {"error": "invalid_request", "error_description": "client assertion missing"}, 400
        assertion = form["client_assertion"]
        try:
            kid = jwt.get_unverified_header(assertion).get("kid")
        except jwt.InvalidTokenError:
            return {"error": "invalid_client", "error_description": "assertion is not a JWT"}, 401
        with self._lock:
            try:
                keys = self._tool_keys(refresh=False)
                if kid not in keys:
                    keys = self._tool_keys(refresh=True)
            except (requests.RequestException, ValueError):
                return {"error": "invalid_client", "error_description": "tool key set unreachable"}, 401
            jwk = keys.get(kid) if isinstance(kid, str) else None
        if jwk is None:
            return {"error": "invalid_client", "error_description": "unknown kid"}, 401
        try:
            key = jwt.PyJWK(jwk).key
            claims = jwt.decode(
                assertion,
                key,
                algorithms=["RS256"],
                audience=self.double.auth_token_url,
                options={"require": ["iss", "sub", "aud", "exp", "iat", "jti"]},
            )
        except jwt.InvalidTokenError as exc:
            return {"error": "invalid_client", "error_description": f"assertion invalid: {exc}"}, 401
        if claims["iss"] != self.double.client_id or claims["sub"] != self.double.client_id:
            return {"error": "invalid_client", "error_description": "iss and sub must be the client id"}, 401
        requested = set((form.get("scope") or "").split())
        allowed = set(self.ags_scopes) | {SCOPE_NRPS}
        if not requested or not requested <= allowed:
            return {"error": "invalid_scope"}, 400
        now = time.time()
        with self._lock:
            self._used_jti = {j: t for j, t in self._used_jti.items() if t > now}
            if claims["jti"] in self._used_jti:
                return {"error": "invalid_client", "error_description": "jti used before"}, 401
            self._used_jti[claims["jti"]] = float(claims["exp"]) + 60
            self.token_requests[self.double.client_id] += 1
            token = secrets.token_urlsafe(24)
            self.tokens[token] = (self.double.client_id, frozenset(requested), now + self.token_ttl)
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": " ".join(sorted(requested)),
        }, 200

    def revoke_tokens(self) -> None:
        """Forget every issued token: the next service call gets a 401 (a platform restart, an expiry)."""
        with self._lock:
            self.tokens.clear()

    def check_bearer(self, scopes: tuple[str, ...]) -> tuple[dict[str, Any], int] | None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        with self._lock:
            if self.unauthorized_next > 0:
                self.unauthorized_next -= 1
                return {"error": "invalid_token"}, 401
            entry = self.tokens.get(token)
        if entry is None or entry[2] <= time.time():
            return {"error": "invalid_token"}, 401
        if not entry[1] & set(scopes):
            return {"error": "insufficient_scope"}, 403
        return None

    # -- scores (Moodle's rules) ---------------------------------------------------------------------------
    def post_score(self, number: str, body: Any) -> tuple[dict[str, Any], int]:
        with self._lock:
            status, answer = self._score(number, body)
            self.score_log.append((number, body if isinstance(body, dict) else {}, status))
            return answer, status

    def _score(self, number: str, body: Any) -> tuple[int, dict[str, Any]]:
        if number not in self.lineitems:
            return 404, {"error": "line item not found"}
        if self.fail_next_scores:
            code = self.fail_next_scores.pop(0)
            return code, {"error": "simulated failure"}
        if not isinstance(body, dict):
            return 400, {"error": "Incorrect score received"}
        required = ("userId", "timestamp", "activityProgress", "gradingProgress")
        if any(not body.get(k) for k in required):
            return 400, {"error": "Incorrect score received", "reason": "missing fields"}
        for key in ("scoreGiven", "scoreMaximum"):
            if key in body and not isinstance(body[key], int | float):
                return 400, {"error": "Incorrect score received", "reason": f"{key} not numeric"}
        try:
            when = dt.datetime.fromisoformat(str(body["timestamp"]).replace("Z", "+00:00"))
        except ValueError:
            return 400, {"error": "Incorrect score received", "reason": "timestamp"}
        if when.tzinfo is None:
            return 400, {"error": "Incorrect score received", "reason": "timestamp without zone"}
        user = str(body["userId"])
        if user not in self.known_users:
            return 400, {"error": "Incorrect score received", "reason": "unknown user"}
        if user not in self.gradable:
            return 403, {"error": "Incorrect score received", "reason": "user not gradable"}
        seconds = int(when.timestamp())
        stored = self.grades.get((number, user))
        if stored is not None and stored.timemodified >= seconds:
            return 409, {"error": "Refusing score with an earlier timestamp for item"}
        fully = body["gradingProgress"] == "FullyGraded"
        self.grades[(number, user)] = StoredGrade(
            score_given=float(body["scoreGiven"]) if fully and "scoreGiven" in body else None,
            score_maximum=float(body.get("scoreMaximum", 1)),
            activity_progress=str(body["activityProgress"]),
            grading_progress=str(body["gradingProgress"]),
            timestamp=str(body["timestamp"]),
            timemodified=seconds,
            comment=body.get("comment") if isinstance(body.get("comment"), str) else None,
        )
        return 200, {}

    # -- the launch claims -----------------------------------------------------------------------------
    def add_claims(self, double: PlatformDouble, persona_key: str, claims: dict[str, Any]) -> None:
        context = claims.get("https://purl.imsglobal.org/spec/lti/claim/context")
        link = claims.get("https://purl.imsglobal.org/spec/lti/claim/resource_link")
        # a claim left out (DROP) or malformed by a test: a deep-linking request has no resource link
        context = context if isinstance(context, Mapping) else {}
        link = link if isinstance(link, Mapping) else {}
        context_id = str(context.get("id", ""))
        if self.ags_mode != "off" and context_id:
            endpoint: dict[str, Any] = {"scope": list(self.ags_scopes), "lineitems": self.lineitems_url(context_id)}
            if self.ags_mode == "lineitem" and link.get("id"):
                endpoint["lineitem"] = self.link_lineitem(context_id, str(link["id"]))["id"]
            claims[AGS_CLAIM] = endpoint
        if self.nrps_enabled and context_id:
            claims[NRPS_CLAIM] = {
                "context_memberships_url": self.memberships_url(context_id),
                "service_versions": ["2.0"],
            }


def _paged(
    items: list[Any], base_url: str, params: Mapping[str, str], default_limit: int = 0
) -> tuple[list[Any], str | None]:
    try:
        limit = int(request.args.get("limit") or default_limit or 0)
        start = int(request.args.get("from", "0") or 0)
    except ValueError:
        return items, None
    if limit <= 0:
        return items[start:], None
    page = items[start : start + limit]
    if start + limit >= len(items):
        return page, None
    query = {**params, "limit": str(limit), "from": str(start + limit)}
    return page, f"{base_url}?{urlencode(query)}"


def register_services(app: Flask, double: PlatformDouble) -> PlatformServices:
    services = PlatformServices(double=double)
    app.extensions["platform_services"] = services
    double.services = services  # type: ignore[attr-defined]
    double.claim_providers.append(services.add_claims)

    def slow_or_down() -> Response | None:
        services.requests_log.append((request.method, request.path))
        if services.delay:
            time.sleep(services.delay)
        if services.outage:
            response = jsonify({"error": "service unavailable (simulated outage)"})
            response.status_code = 503
            response.headers["Retry-After"] = "30"
            return response
        return None

    def answer(body: Any, status: int, content_type: str = "application/json") -> Response:
        response = jsonify(body) if status != 204 else Response(status=204)
        response.status_code = status
        if status < 300 and status != 204:
            response.content_type = content_type
        if status == 401:
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
        return response

    @app.post("/token")
    def token() -> Response:
        if (trouble := slow_or_down()) is not None:
            return trouble
        body, status = services.issue_token(request.form.to_dict())
        response = answer(body, status)
        response.headers["Cache-Control"] = "no-store"
        return response

    @app.route("/ags/<context_id>/lineitems", methods=["GET", "POST"])
    def lineitems(context_id: str) -> Response:
        if (trouble := slow_or_down()) is not None:
            return trouble
        if request.method == "POST":
            if (denied := services.check_bearer((SCOPE_LINEITEM,))) is not None:
                return answer(*denied)
            if request.mimetype != "application/vnd.ims.lis.v2.lineitem+json":
                return answer({"error": "unsupported media type"}, 415)
            data = request.get_json(force=True, silent=True)
            if (
                not isinstance(data, dict)
                or not data.get("label")
                or not isinstance(data.get("scoreMaximum"), int | float)
                or data["scoreMaximum"] <= 0
            ):
                return answer({"error": "label and a positive scoreMaximum are required"}, 400)
            item = services.add_lineitem(
                context_id,
                str(data["label"]),
                float(data["scoreMaximum"]),
                resource_link_id=data.get("resourceLinkId"),
                resource_id=data.get("resourceId"),
                tag=data.get("tag"),
            )
            return answer(services.public_item(item), 201, "application/vnd.ims.lis.v2.lineitem+json")
        if (denied := services.check_bearer((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))) is not None:
            return answer(*denied)
        filters = {k: request.args[k] for k in ("resource_link_id", "resource_id", "tag") if request.args.get(k)}
        key_of = {"resource_link_id": "resourceLinkId", "resource_id": "resourceId", "tag": "tag"}
        with services._lock:
            found = [
                services.public_item(i)
                for i in services.lineitems.values()
                if i["_context"] == context_id and all(i.get(key_of[k]) == v for k, v in filters.items())
            ]
        page, next_url = _paged(found, request.base_url, {"type_id": TYPE_ID, **filters}, services.lineitems_page_size)
        response = answer(page, 200, "application/vnd.ims.lis.v2.lineitemcontainer+json")
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return response

    @app.get("/ags/<context_id>/lineitems/<number>/lineitem")
    def lineitem(context_id: str, number: str) -> Response:
        if (trouble := slow_or_down()) is not None:
            return trouble
        if (denied := services.check_bearer((SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY))) is not None:
            return answer(*denied)
        item = services.lineitems.get(number)
        if item is None or item["_context"] != context_id:
            return answer({"error": "not found"}, 404)
        return answer(services.public_item(item), 200, "application/vnd.ims.lis.v2.lineitem+json")

    @app.post("/ags/<context_id>/lineitems/<number>/lineitem/scores")
    def scores(context_id: str, number: str) -> Response:
        if (trouble := slow_or_down()) is not None:
            return trouble
        if (denied := services.check_bearer((SCOPE_SCORE,))) is not None:
            return answer(*denied)
        if request.mimetype != "application/vnd.ims.lis.v1.score+json":
            return answer({"error": "unsupported media type"}, 415)
        item = services.lineitems.get(number)
        if item is None or item["_context"] != context_id:
            return answer({"error": "not found"}, 404)
        services.score_arrived.set()
        if services.hold_scores is not None:
            services.hold_scores.wait(60)
        body, status = services.post_score(number, request.get_json(force=True, silent=True))
        return answer(body, status)

    @app.get("/nrps/CourseSection/<context_id>/bindings/<deployment>/memberships")
    def memberships(context_id: str, deployment: str) -> Response:
        if (trouble := slow_or_down()) is not None:
            return trouble
        if (denied := services.check_bearer((SCOPE_NRPS,))) is not None:
            return answer(*denied)
        with services._lock:
            members = [m.to_json(services.share_names, services.share_email) for m in services.members]
        page, next_url = _paged(members, request.base_url, {}, services.nrps_page_size)
        context = double.context
        body = {
            "id": request.url,
            "context": {"id": context_id, "label": context.get("label"), "title": context.get("title")},
            "members": page,
        }
        response = answer(body, 200, "application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
        if next_url:
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return response

    return services
