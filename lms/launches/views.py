"""LTI endpoints: OIDC login, launch, JWKS (CONTRACT: HTTP).

Logins and launches also work where the browser blocks third-party cookies (see :mod:`lti.login` and
:mod:`lti.launch`): the in-between pages are templates/lti/*.html with their scripts in lms/static/lti-*.js.
A deep-linking launch opens the picker (lms/deep_linking); a resource link whose custom parameters name a
module or lesson opens it directly.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_babel import refresh

from lms.core.errors import launch_error_response
from lms.core.extensions import db
from lms.core.security import create_launch_session
from lms.core.signals import launch_recorded
from lms.core.state import get_state_store
from lms.core.urls import tool_url
from lms.courses.setup import current_course
from lms.deep_linking.services import remember_request
from lms.platforms.models import Platform
from lms.platforms.registry import CachedPlatformRegistry, RegisteredPlatform
from lms.privacy.views import notice_page
from lms.users.services import record_launch
from lti.claims import Launch
from lti.errors import LtiError
from lti.keys import jwks
from lti.launch import launch_step, validate_launch
from lti.login import oidc_login

log = logging.getLogger(__name__)
bp = Blueprint("lti", __name__, url_prefix="/lti")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response:
    store = get_state_store()
    try:
        step = oidc_login(CachedPlatformRegistry(), store, launch_url=tool_url("lti.launch"))
    except LtiError as exc:
        log.info("login rejected: %s", exc.code)
        return launch_error_response(exc)
    response: Any
    if step.kind == "cookie_check":
        new_window_url = tool_url("lti.login") + "?" + urlencode(dict(step.relogin_params))
        response = Response(render_template("lti/cookie_check.html", login_url=new_window_url, secure=step.secure))
    elif step.kind == "platform_storage":
        new_window_url = (
            tool_url("lti.login")
            + "?"
            + urlencode({k: v for k, v in step.relogin_params.items() if k != "lti_storage_target"})
        )
        response = Response(render_template("lti/storage_login.html", step=step, new_window_url=new_window_url))
    else:
        response = redirect(step.url)
    response.headers["Cache-Control"] = "no-store"
    return step.apply_cookies(response)  # type: ignore[no-any-return,unused-ignore]


@bp.route("/launch", methods=["POST"])
def launch() -> Response:
    store = get_state_store()
    step = launch_step(store)
    if step is not None:
        template = "lti/storage_launch.html" if step.kind == "platform_storage" else "lti/repost.html"
        html = render_template(template, step=step, action=tool_url("lti.launch"))
        response = Response(html)
        response.headers["Cache-Control"] = "no-store"
        return response
    registry = CachedPlatformRegistry()
    try:
        launch = validate_launch(registry, store)
    except LtiError as exc:
        log.info("launch rejected: %s (%s)", exc.code, exc.detail)
        return launch_error_response(exc)
    platform = registry.platform(launch.issuer, launch.client_id)
    assert platform is not None  # validated above, from the same registrations
    if launch.is_privacy:
        return privacy_launch(launch, platform)
    if launch.is_deep_linking and launch.deep_linking is None:
        return launch_error_response(LtiError("invalid_message", "deep_linking_settings missing"))
    record = record_launch(launch, platform.chamber_id)
    locale = _language(launch)
    launch_session, token = create_launch_session(
        user_id=record.user.id,
        course_id=record.course_id,
        platform_id=platform.id,
        deployment_id=launch.deployment_id,
        role=record.role.key,
        resource_link_id=launch.resource_link.id if launch.resource_link else None,
        return_url=launch.return_url,
        locale=locale,
    )
    launch_recorded.send(
        current_app._get_current_object(),  # type: ignore[attr-defined]
        launch=launch,
        record=record,
        platform=platform,
        launch_session=launch_session,
    )
    if launch.is_deep_linking:
        assert launch.deep_linking is not None
        remember_request(launch_session, launch.deep_linking)
        target = url_for("deep_linking.picker", lt=token)
    else:
        target = landing_url(launch, token)
    log.info("launch accepted: platform=%s role=%s", platform.id, record.role.key)
    return redirect(target, code=303)  # type: ignore[return-value]


def _language(launch: Launch) -> str | None:
    """The launch's language, if the tool has it (``de-DE`` → ``de``)."""
    language = (launch.locale or "").split("-")[0].split("_")[0].lower()
    return language if language in current_app.config["LANGUAGES"] else None


def privacy_launch(launch: Launch, registered: RegisteredPlatform) -> Response:
    """LtiDataPrivacyLaunchRequest: the privacy notice naming the registration's chamber. Only the claims are read:
    no user, course, enrollment or launch session is recorded, and no launch signal is sent."""
    platform = db.session.get(Platform, registered.id)
    assert platform is not None  # validated above
    language = _language(launch)
    if language and "lang" not in request.args:
        g.locale_hint = language
        refresh()  # the page's language, even if something asked for it before
    html = notice_page(
        chamber_name=platform.chamber.name, platform_name=launch.platform_name or platform.name, from_lms=True
    )
    response = Response(html)
    response.headers["Cache-Control"] = "no-store"
    log.info("privacy launch answered: platform=%s", platform.id)
    return response


def landing_url(launch: Launch, token: str) -> str:
    """Where a launch lands: what its custom parameters name (a module, a lesson, the overview, the live
    tutorials or one tutorial), else the start page. Links to content that was removed land on the start page."""
    custom: Mapping[str, str] = launch.custom
    module_id, item_id = custom.get("module"), custom.get("item")
    if module_id:
        module = current_course().module(module_id)
        if module is not None and item_id and module.item(item_id) is not None:
            return url_for("courses.item", lt=token, module_id=module_id, item_id=item_id)
        if module is not None:
            return url_for("courses.module", lt=token, module_id=module_id)
    if custom.get("view") == "overview":
        return url_for("courses.overview", lt=token)
    live = custom.get("live")
    if live == "overview":
        return url_for("live_sessions.index", lt=token)
    if live and live.isdigit():
        return url_for("live_sessions.detail", lt=token, session_id=int(live))
    return url_for("home.index", lt=token)


@bp.route("/jwks")
def keyset() -> Response:
    # public parts only: publishing never needs (or decrypts) a private key
    response = jsonify(jwks(CachedPlatformRegistry().public_keys()))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.route("/launch", methods=["GET"])
def launch_get() -> Response:
    # A refresh of the launch page, or a misconfigured redirect URI, lands here.
    return launch_error_response(LtiError("invalid_message", "launch must be a POST"), status=405)
