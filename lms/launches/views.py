"""LTI endpoints: OIDC login, launch, JWKS (CONTRACT: HTTP)."""

from __future__ import annotations

import logging
from urllib.parse import urljoin

from flask import Blueprint, Response, current_app, jsonify, redirect, url_for

from lms.errors import launch_error_response
from lms.extensions import db
from lms.launches.security import create_launch_session
from lms.launches.signals import launch_recorded
from lms.platforms.services import DbPlatformRegistry, find_platform, published_keys
from lms.state import get_state_store
from lms.users.services import record_launch
from lti.errors import LtiError
from lti.keys import ToolKey as LtiToolKey
from lti.keys import jwks
from lti.launch import validate_launch
from lti.login import oidc_login

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")


def tool_url(endpoint: str, **values: object) -> str:
    """An absolute URL of the tool: from MEDIENWERK_BASE_URL when set, else from the request."""
    base = current_app.config.get("BASE_URL")
    if base:
        return urljoin(base + "/", url_for(endpoint, **values).lstrip("/"))
    return url_for(endpoint, _external=True, **values)


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    store = get_state_store()
    try:
        response = oidc_login(DbPlatformRegistry(), store, launch_url=tool_url("lti.launch"))
    except LtiError as exc:
        db.session.rollback()
        log.info("login rejected: %s", exc.code)
        return launch_error_response(exc)
    purge = getattr(store, "purge_expired", None)
    if purge is not None:
        purge()
    db.session.commit()
    return response  # type: ignore[no-any-return]


@bp.route("/launch", methods=["POST"])
def launch() -> Response:
    try:
        launch = validate_launch(DbPlatformRegistry(), get_state_store())
    except LtiError as exc:
        db.session.rollback()
        log.info("launch rejected: %s (%s)", exc.code, exc.detail)
        return launch_error_response(exc)
    if launch.is_deep_linking:
        db.session.rollback()
        return launch_error_response(LtiError("unsupported_message", "deep linking"))
    platform = find_platform(launch.issuer, launch.client_id)
    assert platform is not None  # validated above
    record = record_launch(launch, platform)
    locale = (launch.locale or "").split("-")[0].split("_")[0].lower()
    launch_session, token = create_launch_session(
        user=record.user,
        course=record.course,
        platform=platform,
        deployment_id=launch.deployment_id,
        role=record.role.key,
        resource_link_id=launch.resource_link.id if launch.resource_link else None,
        return_url=launch.return_url,
        locale=locale if locale in current_app.config["LANGUAGES"] else None,
    )
    launch_recorded.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        launch=launch,
        record=record,
        platform=platform,
        launch_session=launch_session,
    )
    db.session.commit()
    log.info("launch accepted: platform=%s role=%s", platform.id, record.role.key)
    return redirect(url_for("home.index", lt=token), code=303)  # type: ignore[return-value]


@bp.route("/jwks")
def keyset() -> Response:
    keys = [LtiToolKey(k.kid, k.private_pem, dict(k.public_jwk)) for k in published_keys()]
    db.session.commit()  # the first call creates the key
    response = jsonify(jwks(keys))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/launch", methods=["GET"])
def launch_get() -> Response:
    # A refresh of the launch page, or a misconfigured redirect URI, lands here.
    return launch_error_response(LtiError("invalid_message", "launch must be a POST"), status=405)

