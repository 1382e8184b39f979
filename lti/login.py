"""OIDC third-party-initiated login (LTI 1.3 core §4.1, Security Framework §5.1.1).

Answers GET and POST. Stores the nonce in the shared state store and the state in a short-lived cookie,
then redirects the browser to the platform's authorization endpoint.
"""

from __future__ import annotations

from typing import Any

from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
from pylti1p3.contrib.flask.cookie import FlaskCookieService
from pylti1p3.exception import OIDCException

from lti.errors import LoginError, LtiError
from lti.registry import PlatformRegistry, RegistryToolConf
from lti.storage import StateStore, StoreLaunchDataStorage


class CookieService(FlaskCookieService):
    """pylti1p3's cookies, plus ``Partitioned`` (CHIPS) over HTTPS and an explicit ``Lax`` over HTTP.

    Partitioned cookies set inside the LMS iframe come back inside that iframe even where a browser
    blocks third-party cookies (Chrome); over plain HTTP (local demo, same site) Lax is enough.
    """

    def update_response(self, response: Any) -> None:
        secure = bool(self._request.is_secure())
        for key, data in self._cookie_data_to_set.items():
            response.set_cookie(
                key=key,
                value=data["value"],
                max_age=data["exp"],
                secure=secure,
                path="/",
                httponly=True,
                samesite="None" if secure else "Lax",
                partitioned=secure,
            )


def oidc_login(
    registry: PlatformRegistry, store: StateStore, *, launch_url: str, secure: bool | None = None
) -> Any:
    """The response to a login initiation request: a redirect to the platform, or a LoginError."""
    request = FlaskRequest(request_is_secure=secure)
    for name in ("iss", "login_hint"):
        if not request.get_param(name):
            raise LoginError("missing_param", f"{name} is missing")
    cookies = CookieService(request)
    login = FlaskOIDCLogin(
        request,
        RegistryToolConf(registry),
        cookie_service=cookies,
        launch_data_storage=StoreLaunchDataStorage(store),
    )
    try:
        return login.redirect(launch_url)
    except LtiError:
        raise
    except OIDCException as exc:
        raise LoginError("missing_param", str(exc)) from exc
