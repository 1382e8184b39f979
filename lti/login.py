"""OIDC third-party-initiated login (LTI 1.3 core §4.1, Security Framework §5.1.1), also where the browser
blocks third-party cookies.

Answers GET and POST. The nonce goes into the shared state store; the state goes into a short-lived cookie
(pylti1p3) and, where the platform offers it, into the platform's client-side storage:

* **Platform storage** (1EdTech "LTI Client Side postMessages" and "OIDC Login with LTI Client Side
  postMessages", https://www.imsglobal.org/spec/lti-cs-oidc/v0p1): the login request names a frame in
  ``lti_storage_target``. We answer :class:`LoginStep` ``platform_storage``: a page whose script stores the
  state and nonce with ``lti.put_data`` in that frame (``targetOrigin`` = the platform's authorization
  endpoint origin) and then goes on to the authorization URL. The launch reads the state back with
  ``lti.get_data`` (see :mod:`lti.launch`). The store remembers that this state was issued for platform
  storage, so the launch knows it may ask the page for it.
* **Cookie check** (pylti1p3's ``enable_check_cookies`` idea): a login arriving in a cross-site frame
  (``Sec-Fetch-Dest: iframe`` and ``Sec-Fetch-Site: cross-site``) without platform storage gets a page whose
  script tries to set a cookie with the attributes our state cookie would have. If that works it carries on
  with ``lti1p3_new_window=1``; if not it offers a button that opens the same login in a new window
  (first-party there, so cookies work).
* Otherwise (no frame, or a client without fetch metadata) the plain redirect, as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from flask import request as flask_request
from pylti1p3.actions import Action
from pylti1p3.contrib.flask import FlaskOIDCLogin, FlaskRequest
from pylti1p3.contrib.flask.cookie import FlaskCookieService
from pylti1p3.exception import OIDCException

from lti.errors import LoginError, LtiError
from lti.registry import PlatformRegistry, RegistryToolConf
from lti.storage import StateStore, StoreLaunchDataStorage

STORAGE_TTL = 600
NEW_WINDOW_PARAM = "lti1p3_new_window"
STORAGE_TARGET_PARAM = "lti_storage_target"
# the login parameters a new-window (or cookie-checked) login needs again (LTI 1.3 core §4.1)
LOGIN_PARAMS = (
    "iss",
    "login_hint",
    "target_link_uri",
    "lti_message_hint",
    "lti_deployment_id",
    "client_id",
)


class CookieService(FlaskCookieService):
    """pylti1p3's cookies, plus ``Partitioned`` (CHIPS) over HTTPS and an explicit ``Lax`` over HTTP.

    Partitioned cookies set inside the LMS iframe come back inside that iframe even where a browser
    blocks third-party cookies (Chrome); over plain HTTP (local demo, same site) Lax is enough.
    """

    def update_response(self, response: Any) -> None:
        request: Any = self._request
        secure = bool(request.is_secure())
        cookies: dict[str, Any] = self._cookie_data_to_set or {}
        for key, data in cookies.items():
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


class CookielessStorage(StoreLaunchDataStorage):
    """Launch state keyed without pylti1p3's ``lti1p3-session-id`` cookie: for logins whose state lives in
    the platform's storage, where no cookie comes back."""

    def get_session_cookie_name(self) -> str | None:
        return None


def storage_record_key(state: str) -> str:
    return f"lti-storage:{state}"


@dataclass(frozen=True)
class LoginStep:
    """What to answer a login request with.

    ``kind`` is ``"redirect"`` (send the browser to ``url``, the platform's authorization endpoint),
    ``"platform_storage"`` (a page that first stores ``state``/``nonce`` in ``storage_target`` of the
    platform at ``platform_origin``, then goes to ``url``) or ``"cookie_check"`` (a page that checks cookies
    and continues at, or offers in a new window, the login again with ``relogin_params``).
    Cookies set during the login are applied with :meth:`apply_cookies`.
    """

    kind: str
    url: str = ""
    state: str = ""
    nonce: str = ""
    storage_target: str = ""
    platform_origin: str = ""
    relogin_params: Mapping[str, str] = field(default_factory=dict)
    secure: bool = False
    _cookies: CookieService | None = None

    def apply_cookies(self, response: Any) -> Any:
        if self._cookies is not None:
            self._cookies.update_response(response)
        return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _in_cross_site_frame() -> bool:
    headers = flask_request.headers
    return headers.get("Sec-Fetch-Dest", "") in ("iframe", "frame") and headers.get("Sec-Fetch-Site") == "cross-site"


def relogin_params(request: FlaskRequest) -> dict[str, str]:
    params = {name: request.get_param(name) for name in (*LOGIN_PARAMS, STORAGE_TARGET_PARAM)}
    cleaned = {k: str(v) for k, v in params.items() if v}
    cleaned[NEW_WINDOW_PARAM] = "1"
    return cleaned


def oidc_login(
    registry: PlatformRegistry, store: StateStore, *, launch_url: str, secure: bool | None = None
) -> LoginStep:
    """Answer a login initiation request, or raise :class:`LoginError`."""
    request = FlaskRequest(request_is_secure=secure)
    for name in ("iss", "login_hint"):
        if not request.get_param(name):
            raise LoginError("missing_param", f"{name} is missing")
    is_secure = bool(request.is_secure())
    storage_target = str(request.get_param(STORAGE_TARGET_PARAM) or "")
    new_window = bool(request.get_param(NEW_WINDOW_PARAM))
    conf = RegistryToolConf(registry)
    if not storage_target and not new_window and _in_cross_site_frame():
        # registration errors are reported now, not after the check
        client_id = request.get_param("client_id") or None
        conf.find_record(str(request.get_param("iss")), client_id and str(client_id), Action.OIDC_LOGIN)
        return LoginStep(kind="cookie_check", relogin_params=relogin_params(request), secure=is_secure)

    cookies = CookieService(request)
    storage = CookielessStorage(store) if storage_target else StoreLaunchDataStorage(store)
    login = FlaskOIDCLogin(request, conf, cookie_service=cookies, launch_data_storage=storage)
    try:
        url = login._prepare_redirect_url(launch_url)
    except LtiError:
        raise
    except OIDCException as exc:
        raise LoginError("missing_param", str(exc)) from exc
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    state, nonce = query["state"], query["nonce"]
    if not storage_target:
        return LoginStep(kind="redirect", url=url, state=state, nonce=nonce, secure=is_secure, _cookies=cookies)
    platform_origin = _origin(url)
    store.set(storage_record_key(state), {"target": storage_target, "origin": platform_origin}, STORAGE_TTL)
    url += "&" + urlencode({STORAGE_TARGET_PARAM: storage_target})
    return LoginStep(
        kind="platform_storage",
        url=url,
        state=state,
        nonce=nonce,
        storage_target=storage_target,
        platform_origin=platform_origin,
        relogin_params=relogin_params(request),
        secure=is_secure,
        _cookies=cookies,
    )
