"""Dynamic registration never fetches from the tool's own network (SSRF), unless the operator allows an LMS on
a private network, and its error page never shows what a platform answered.

Names resolve through a stub; the refusals are checked with every connection attempt failing the test.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from lms.core.extensions import db
from lms.demo.platform import PlatformDouble
from lms.platforms.models import Platform
from lms.registrations.models import RegistrationInvitation
from tests.conftest import page_text
from tests.registrations.conftest import Registration
from tests.security.test_urlpolicy import no_connections, stub_resolver  # noqa: F401 - a fixture

REFUSED_TEXT = "Adresse in einem internen Netz"


@pytest.fixture(autouse=True)
def stub_dns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("lti.urlpolicy.system_resolver", stub_resolver())


def _invite(app: Flask) -> tuple[int, str]:
    from lms.registrations.services import create_invitation

    with app.app_context():
        invitation, token = create_invitation(name="HWK Test", chamber_slug="hwk-test", hours=1)
        db.session.commit()
        return invitation.id, token


def _nothing_stored(app: Flask, invitation_id: int) -> bool:
    with app.app_context():
        platforms = db.session.execute(select(func.count()).select_from(Platform)).scalar_one()
        invitation = db.session.get(RegistrationInvitation, invitation_id)
        return platforms == 0 and invitation is not None and invitation.used_at is None


@pytest.mark.parametrize(
    "configuration_url",
    [
        "http://meta.example/latest/meta-data/",
        "http://intranet.example/mod/lti/openid-configuration.php",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[::ffff:10.0.0.5]/openid-configuration",
        "http://127.0.0.1:9/openid-configuration",  # loopback, with the allow-list emptied below
    ],
)
def test_a_configuration_url_in_a_private_network_is_refused_before_any_connection(
    app: Flask,
    configuration_url: str,
    no_connections: list[Any],  # noqa: F811
) -> None:
    app.config["ALLOWED_PRIVATE_HOSTS"] = ()
    invitation_id, token = _invite(app)
    form = {"invitation": token, "openid_configuration": configuration_url, "registration_token": "reg-token"}
    resp = app.test_client().post("/lti/register", data=form)
    assert resp.status_code == 400
    text = page_text(resp.get_data(as_text=True))
    assert REFUSED_TEXT in text and "url_refused" in text and "MEDIENWERK_ALLOWED_PRIVATE_HOSTS" in text
    assert _nothing_stored(app, invitation_id)


@pytest.mark.parametrize("endpoint", ["auth_token_url", "key_set_url"])
def test_endpoints_the_configuration_names_are_checked_before_registering(
    reg: Registration, monkeypatch: pytest.MonkeyPatch, endpoint: str
) -> None:
    """The token and key set URLs are stored and trusted later: a platform cannot smuggle an internal one in."""
    target = {"auth_token_url": "http://intranet.example/token", "key_set_url": "http://meta.example/jwks"}[endpoint]
    monkeypatch.setattr(PlatformDouble, endpoint, property(lambda self: target))
    invitation_id, url = reg.invite()
    resp = reg.register(url)
    assert resp.status_code == 400
    assert REFUSED_TEXT in page_text(resp.text)
    assert reg.double.registrations == {}  # the platform was never asked to register the tool
    assert _nothing_stored(reg.app, invitation_id)


def test_a_loopback_lms_needs_the_operators_allow_list(reg: Registration) -> None:
    reg.app.config["ALLOWED_PRIVATE_HOSTS"] = ()
    invitation_id, url = reg.invite()
    refused = reg.register(url)
    assert refused.status_code == 400 and REFUSED_TEXT in page_text(refused.text)
    assert reg.double.registrations == {} and _nothing_stored(reg.app, invitation_id)
    reg.app.config["ALLOWED_PRIVATE_HOSTS"] = ("127.0.0.0/8",)  # an LMS on the operator's private network
    assert reg.register(url).status_code == 200


def test_the_error_page_shows_only_our_own_message(reg: Registration) -> None:
    invitation_id, url = reg.invite()
    reg.double.registration_error = "<b>internal</b> DB_PASSWORD=hunter2 at 10.0.0.5"
    resp = reg.register(url)
    assert resp.status_code == 400
    text = page_text(resp.text)
    assert "abgelehnt" in text and "registration_refused" in text
    assert "hunter2" not in resp.text and "10.0.0.5" not in resp.text and "internal" not in text
    assert _nothing_stored(reg.app, invitation_id)
