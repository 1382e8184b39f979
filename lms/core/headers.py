"""Security headers of every answer (registered in :func:`lms.app.create_app`).

The tool lives in the LMS's iframe, so who may frame it (``frame-ancestors``) and where its forms may go
(``form-action``) are the registered platforms' origins, not the whole web:

- a page after a launch: the origins of the platform that launched it (issuer, OIDC login URL) and of the launch's
  return URL — already loaded with the launch session, no query;
- the LTI entry pages (``/lti/…``) and a ``/t/…`` page whose launch is unknown (the 401 "session ended" page):
  every enabled platform's origins, one small query;
- ``/lti/register``: no ``frame-ancestors`` — the LMS that registers is not registered yet (the one-time
  invitation protects the page);
- everything else: ``'self'`` (the demo LMS is same-origin).

A view whose form posts elsewhere (the deep-linking answer goes to the platform's return URL) names that target
with :func:`allow_form_action`. Browsers check ``form-action`` on the redirects after a form, too: joining a
live tutorial posts to the tool, which redirects to BigBlueButton, and Scalelite redirects on to one of its
servers, which the tool does not know — so the live-tutorial pages also allow the BBB origin and ``https:``.
Over HTTPS, ``Strict-Transport-Security`` keeps browsers on HTTPS.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from flask import Response, g, request

BASE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'"
)
HSTS = "max-age=31536000"


def origin_of(url: str | None) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL; None for anything else."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def allow_form_action(url: str | None) -> None:
    """Let this answer's page submit a form to ``url``'s origin (e.g. the deep-linking return URL)."""
    origin = origin_of(url)
    if origin:
        g.setdefault("form_action_origins", set()).add(origin)


def launch_origins(launch: Any) -> set[str]:
    """Where a launch came from: its platform's issuer and login URL, and its return URL."""
    platform = launch.platform
    urls = (platform.issuer, platform.auth_login_url, launch.return_url)
    return {o for o in map(origin_of, urls) if o}


def content_security_policy(frame_origins: Iterable[str] | None, form_origins: Iterable[str]) -> str:
    """The policy: ``frame_origins`` None leaves framing open (only for pages that must be framed by an LMS not
    known yet)."""
    form = " ".join(["'self'", *sorted(set(form_origins))])
    policy = f"{BASE_POLICY}; form-action {form}"
    if frame_origins is not None:
        policy += "; frame-ancestors " + " ".join(["'self'", *sorted(set(frame_origins))])
    return policy


def apply(response: Response, frame_origins: Iterable[str] | None, bbb_url: str | None = None) -> Response:
    frames = None if frame_origins is None else set(frame_origins)
    forms = set(frames or ()) | set(g.get("form_action_origins") or ())
    if request.blueprint == "live_sessions":  # the join form's redirects (see above)
        forms |= {o for o in (origin_of(bbb_url), "https:") if o}
    response.headers.setdefault("Content-Security-Policy", content_security_policy(frames, forms))
    # pages carry the launch token in their URL: never send it to another site
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith("/t/"):
        response.headers.setdefault("Cache-Control", "private, no-store")
    return response
