"""Fixtures for launches without third-party cookies: the platform double and the tool on different sites.

The double is served as ``http://localhost:<port>`` and the tool as ``http://127.0.0.1:<port>``: two sites,
so inside the double's iframe the tool is third-party. Over plain HTTP the tool's cookies are
``SameSite=Lax``, which Chromium neither stores nor sends in a cross-site iframe (nor sends on a cross-site
POST): exactly what a browser blocking third-party cookies does to the LMS iframe. The browser tests add
Chromium's ``--test-third-party-cookie-phaseout`` switch and a Playwright route that strips ``Cookie``
headers from every request the iframe makes to the tool, so no cookie can reach the tool from inside the
frame by any path.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from lms.core.extensions import db
from lms.demo.platform import PlatformDouble, create_platform_app
from tests.conftest import LiveServer


@dataclass
class CrossSite:
    tool: LiveServer
    platform: LiveServer
    double: PlatformDouble
    app: Flask
    platform_url: str  # http://localhost:<port>


@pytest.fixture
def cross_site(app: Flask) -> Iterator[CrossSite]:
    tool = LiveServer(app)
    platform = LiveServer(create_platform_app(PlatformDouble(issuer="http://placeholder")))
    double: PlatformDouble = platform.server.app.extensions["platform_double"]  # type: ignore[attr-defined]
    url = f"http://localhost:{platform.server.server_port}"
    double.issuer = url
    double.tool_login_url = tool.url + "/lti/login"
    double.tool_launch_url = tool.url + "/lti/launch"
    with app.app_context():
        from lms.platforms.services import add_platform

        add_platform(
            issuer=double.issuer,
            client_id=double.client_id,
            deployment_id=double.deployment_id,
            auth_login_url=double.auth_login_url,
            auth_token_url=double.auth_token_url,
            key_set_url=double.key_set_url,
            name="Cross-site LMS",
            chamber_slug="hwk-cross",
        )
        db.session.commit()
    tool.start()
    platform.start()
    yield CrossSite(tool=tool, platform=platform, double=double, app=app, platform_url=url)
    tool.stop()
    platform.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium with third-party cookies phased out, as browsers do more and more."""
    from tests.browser import chromium

    with chromium(["--test-third-party-cookie-phaseout"]) as instance:
        yield instance


def block_frame_cookies(page: Any, tool_url: str, seen: list[dict[str, Any]]) -> None:
    """Strip Cookie headers from requests the iframe (not the top-level page) sends to the tool, and record
    every request to the tool (url, method, frame, post data, whether a cookie was stripped)."""

    def handle(route: Any, request: Any) -> None:
        headers = dict(request.headers)
        in_frame = request.frame != page.main_frame if request.frame is not None else False
        stripped = in_frame and "cookie" in headers
        if in_frame:
            headers.pop("cookie", None)
        seen.append(
            {
                "url": request.url,
                "method": request.method,
                "frame": in_frame,
                "post": request.post_data or "",
                "stripped": stripped,
            }
        )
        route.continue_(headers=headers)

    page.route(tool_url + "/**", handle)
