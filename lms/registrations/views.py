"""``/lti/register``: LTI Dynamic Registration for an invited LMS (CONTRACT: HTTP).

GET shows what is about to happen (Moodle shows it in an iframe); the button POSTs, which fetches the
platform's configuration, registers the tool there, stores registration and deployment in the invitation's
chamber, and ends with the ``org.imsglobal.lti.close`` message. A used, revoked, expired or unknown
invitation is refused before anything is fetched or written.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request

from lms.audit.services import record
from lms.core.urls import tool_url
from lms.registrations.services import (
    RegistrationConflict,
    check_issuer_free,
    claim_invitation,
    find_invitation,
    record_registration,
)
from lti.registration import (
    RegistrationError,
    ToolDescription,
    fetch_platform_configuration,
    register_tool,
)
from lti.urlpolicy import UrlPolicy

log = logging.getLogger(__name__)
bp = Blueprint("registrations", __name__, url_prefix="/lti")

INVITATION_STATUS = {"unknown": 404, "used": 410, "revoked": 410, "expired": 410}


def _error(code: str, status: int, platform_message: str | None = None) -> Any:
    """The error page: our own message for ``code``; of the platform's answer at most a known error code
    (:data:`lti.registration.KNOWN_PLATFORM_ERRORS`), never its text."""
    return render_template("registrations/error.html", code=code, platform_message=platform_message), status


def _url_policy() -> UrlPolicy:
    """The URL in the request (and what it names) must not point into our network, unless the operator allows
    that network (``MEDIENWERK_ALLOWED_PRIVATE_HOSTS``)."""
    return UrlPolicy(allow=tuple(current_app.config.get("ALLOWED_PRIVATE_HOSTS") or ()))


def _params() -> tuple[str, str, str]:
    values = request.values if request.method == "POST" else request.args
    return (
        values.get("invitation", "").strip(),
        values.get("openid_configuration", "").strip(),
        values.get("registration_token", "").strip(),
    )


def _tool_description() -> ToolDescription:
    return ToolDescription(
        client_name="medienwerk",
        initiate_login_uri=tool_url("lti.login"),
        redirect_uris=(tool_url("lti.launch"),),
        jwks_uri=tool_url("lti.keyset"),
        target_link_uri=tool_url("lti.launch"),
        description="Digital- und Medienkompetenz für Botschafter*innen des Handwerks: Module, Selbstchecks, "
        "Praxisaufgaben und Live-Tutorials.",
        deep_linking_label="medienwerk: Inhalt auswählen",
    )


@bp.route("/register", methods=["GET", "POST"])
def register() -> Any:
    token, configuration_url, registration_token = _params()
    invitation = find_invitation(token)
    status = invitation.status() if invitation is not None else "unknown"
    if status != "open":
        log.info("registration refused: invitation %s", status)
        return _error(f"invitation_{status}", INVITATION_STATUS[status])
    if not configuration_url:
        return _error("no_configuration", 400)
    if request.method == "GET":
        return render_template(
            "registrations/confirm.html",
            invitation=invitation,
            platform_host=urlsplit(configuration_url).netloc,
            fields={
                "invitation": token,
                "openid_configuration": configuration_url,
                "registration_token": registration_token,
            },
        )
    assert invitation is not None
    try:
        policy = _url_policy()
        config = fetch_platform_configuration(configuration_url, registration_token or None, policy=policy)
        check_issuer_free(invitation, config.issuer)  # before the platform registers anything
        if not claim_invitation(invitation):
            return _error("invitation_used", 410)
        result = register_tool(config, registration_token or None, _tool_description(), policy=policy)
        stored = record_registration(invitation, result)
        record(
            "platform_registered",
            chamber_id=stored.platform.chamber_id,
            detail={"platform_id": stored.platform.id, "via": "dynamic registration", "invitation_id": invitation.id},
        )
    except RegistrationError as exc:
        log.info("registration failed: %s (%s)", exc.code, exc.detail)
        return _error(exc.code, exc.status if 400 <= exc.status < 500 else 400, exc.platform_message)
    except RegistrationConflict as exc:
        log.info("registration not stored: %s", exc.code)
        return _error(exc.code, 409)
    log.info("registration stored: platform=%s created=%s", stored.platform.id, stored.created)
    return render_template("registrations/done.html", platform=stored.platform, created=stored.created)
