"""Dynamic-registration fixtures: the tool and a platform double over loopback HTTP, with no registration
yet (unlike the ``lti`` fixture, which pre-registers the double)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import pytest
import requests
from flask import Flask

from lms.core.extensions import db
from lms.demo.platform import PlatformDouble
from tests.conftest import LiveServer, form_fields, platform_double_for


@dataclass
class Registration:
    tool: LiveServer
    platform: LiveServer
    double: PlatformDouble
    app: Flask

    def invite(
        self, name: str = "HWK Musterstadt Moodle", chamber: str | None = "hwk-musterstadt", hours: float = 72
    ) -> tuple[int, str]:
        """A new invitation: (id, the registration URL the CLI would print)."""
        from lms.registrations.services import create_invitation

        with self.app.app_context():
            invitation, token = create_invitation(name=name, chamber_slug=chamber, hours=hours)
            db.session.commit()
            return invitation.id, f"{self.tool.url}/lti/register?invitation={token}"

    def open(self, tool_url: str, *, update_client_id: str | None = None) -> requests.Response:
        """What Moodle does on "Add LTI Advantage": open the tool URL with openid_configuration and a token."""
        start = requests.get(
            self.platform.url + "/start-registration",
            params={"url": tool_url, **({"update": update_client_id} if update_client_id else {})},
            allow_redirects=False,
            timeout=10,
        )
        assert start.status_code == 302, start.text[:300]
        return requests.get(start.headers["Location"], timeout=10)

    def register(self, tool_url: str, **kwargs: str) -> requests.Response:
        """Open, confirm, and return the final page."""
        confirm = self.open(tool_url, **kwargs)
        if confirm.status_code != 200:
            return confirm
        action, fields = form_fields(confirm.text)
        return requests.post(urljoin(confirm.url, action), data=fields, timeout=10)


@pytest.fixture
def reg(app: Flask) -> Iterator[Registration]:
    tool = LiveServer(app)
    double, platform = platform_double_for(tool)
    tool.start()
    platform.start()
    yield Registration(tool=tool, platform=platform, double=double, app=app)
    tool.stop()
    platform.stop()
