"""Fixtures of the progress tests: a person in the database, a second LMS in a second chamber."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from lms.demo.platform import PlatformDouble, create_platform_app
from lms.extensions import db
from lms.platforms.models import Chamber
from lms.users.models import User
from tests.conftest import LiveServer, Lti


@pytest.fixture
def person(app: Flask) -> Iterator[int]:
    """A volunteer's user id, inside an app context."""
    with app.test_request_context():
        chamber = Chamber(slug="hwk-eins", name="HWK Eins")
        user = User(chamber=chamber, issuer="https://lms.example.org", sub="volunteer-1")
        db.session.add(user)
        db.session.commit()
        yield user.id


@pytest.fixture
def second_lms(lti: Lti) -> Iterator[Lti]:
    """Another LMS, registered for another chamber, launching the same tool."""
    double = PlatformDouble(issuer="http://placeholder")
    platform = LiveServer(create_platform_app(double))
    double.issuer = platform.url
    double.tool_login_url = lti.tool.url + "/lti/login"
    double.tool_launch_url = lti.tool.url + "/lti/launch"
    with lti.app.app_context():
        from lms.platforms.services import add_platform

        add_platform(
            issuer=double.issuer,
            client_id=double.client_id,
            deployment_id=double.deployment_id,
            auth_login_url=double.auth_login_url,
            auth_token_url=double.auth_token_url,
            key_set_url=double.key_set_url,
            name="Zweites LMS",
            chamber_slug="hwk-zwei",
        )
        db.session.commit()
    platform.start()
    yield Lti(tool=lti.tool, platform=platform, double=double, app=lti.app)
    platform.stop()
