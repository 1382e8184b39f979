"""Rate limits for the public entry points, per client address (Flask-Limiter).

Six groups, each with its limit in ``RATE_LIMITS`` (``MEDIENWERK_RATE_LIMITS``, lms/core/config.py): LTI login,
LTI launch, dynamic registration, BigBlueButton callbacks, calendar feeds and the public certificate verification
(``/verify/<id>``). The routes are found by their public paths (README: HTTP routes), so the domains that own them
declare nothing. Counters live in Redis when ``MEDIENWERK_REDIS_URL`` is set (shared by all processes) and in memory
otherwise (per process); when Redis does not answer, the limits are counted in memory until it is back. Too many
requests answer 429 with the readable error page and ``Retry-After`` (lms/core/errors.py).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

GROUP_PATHS: dict[str, tuple[str, ...]] = {
    "login": ("/lti/login",),
    "launch": ("/lti/launch",),
    "registration": ("/lti/register",),
    "bbb_callbacks": ("/live-callbacks/",),
    "calendar_feeds": ("/live-feed/",),
    "verify": ("/verify/",),
}


def _group(path: str) -> str | None:
    return next((group for group, paths in GROUP_PATHS.items() if path.startswith(paths)), None)


def _limit_of(group: str) -> Any:
    return lambda: current_app.config["RATE_LIMITS"][group]


def init_app(app: Flask) -> None:
    """After the domains registered their routes: limit every endpoint of a group."""
    from flask_limiter import Limiter
    from flask_limiter.util import get_remote_address

    redis_url = app.config.get("REDIS_URL")
    timeout = app.config["REDIS_TIMEOUT"]
    limiter = Limiter(
        get_remote_address,  # the client's address; behind proxies set MEDIENWERK_PROXY_COUNT (ProxyFix)
        storage_uri=redis_url or "memory://",
        storage_options={"socket_timeout": timeout, "socket_connect_timeout": timeout} if redis_url else {},
        key_prefix="medienwerk:limits",
        headers_enabled=False,  # they would send Retry-After on every answer; the 429 page sets it
        in_memory_fallback_enabled=True,
    )
    limiter.init_app(app)
    endpoints = {rule.endpoint: group for rule in app.url_map.iter_rules() if (group := _group(rule.rule))}
    for endpoint, group in endpoints.items():
        view: Any = app.view_functions[endpoint]
        app.view_functions[endpoint] = limiter.shared_limit(_limit_of(group), scope=group)(view)
    app.extensions["medienwerk"]["limiter"] = limiter
