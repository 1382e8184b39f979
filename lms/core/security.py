"""The launch token: how every page after a launch knows who is asking, without cookies.

After a valid launch the tool creates a :class:`LaunchSession` and puts a signed token for it into the
path of every URL it renders (``/t/<token>/...``). Relative links in content keep it automatically, "open in
a new window" works with the same URL, and no cookie is needed inside the LMS iframe. The token expires
after ``LAUNCH_IDLE_SECONDS`` without activity and at most ``LAUNCH_MAX_SECONDS`` after the launch.
POST forms also carry a CSRF token bound to the launch session.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from flask import abort, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import contains_eager

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.core.launch_session import LaunchSession
from lti.roles import Role

F = TypeVar("F", bound=Callable[..., Any])

TOKEN_SALT = "medienwerk.launch"  # noqa: S105 - a namespace, not a secret
# last_seen_at is written at most this often, so reading pages does not write on every request
TOUCH_INTERVAL = dt.timedelta(minutes=1)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=TOKEN_SALT)


def create_launch_session(**fields: Any) -> tuple[LaunchSession, str]:
    now = utcnow()
    session = LaunchSession(
        id=secrets.token_urlsafe(24),
        created_at=now,
        last_seen_at=now,
        expires_at=now + dt.timedelta(seconds=current_app.config["LAUNCH_MAX_SECONDS"]),
        **fields,
    )
    db.session.add(session)
    db.session.flush()
    return session, _serializer().dumps(session.id)


def _live_session_query(session_id: str) -> Any:
    """The launch session with its platform (loaded in the same statement), only while the platform and its
    deployment are enabled: ``platform disable`` ends running sessions at their next page, not hours later.
    The platform models are reached through the relationship: the core imports no domain."""
    platform = LaunchSession.platform.property.mapper.class_
    deployment = platform.deployments.property.mapper.class_
    return (
        select(LaunchSession)
        .join(LaunchSession.platform)
        .outerjoin(
            deployment,
            and_(deployment.platform_id == platform.id, deployment.deployment_id == LaunchSession.deployment_id),
        )
        .options(contains_eager(LaunchSession.platform))
        .where(
            LaunchSession.id == session_id,
            platform.enabled.is_(True),
            # a deployment the platform never registered (sessions made directly in tests) is not refused
            or_(deployment.id.is_(None), deployment.enabled.is_(True)),
        )
    )


def load_launch_session(token: str) -> LaunchSession | None:
    """The session a token names, if the token is genuine, the session still valid and its platform and
    deployment still enabled. One statement."""
    try:
        session_id = _serializer().loads(token, max_age=current_app.config["LAUNCH_MAX_SECONDS"])
    except BadSignature:
        return None
    if not isinstance(session_id, str):
        return None
    session = db.session.execute(_live_session_query(session_id)).scalar_one_or_none()
    if session is None:
        return None
    now = utcnow()
    idle = dt.timedelta(seconds=current_app.config["LAUNCH_IDLE_SECONDS"])
    if session.expires_at <= now or session.last_seen_at + idle <= now:
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        session.last_seen_at = now
    return session


def csrf_token(session: LaunchSession) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + session.id.encode(), hashlib.sha256).hexdigest()


def check_csrf() -> None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.form.get("csrf_token", "") or request.headers.get("X-CSRF-Token", "")
    if not hmac.compare_digest(sent, csrf_token(g.launch)):
        abort(400, description="csrf")


def current_role() -> Role:
    return Role[g.launch.role.upper()]


def role_required(minimum: Role) -> Callable[[F], F]:
    """Allow the view to users whose role in this launch is at least ``minimum``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_role() < minimum:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator
