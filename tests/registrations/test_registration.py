"""LTI Dynamic Registration against the platform double (Moodle's behaviour), and the invitation CLI."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urljoin

import requests
from sqlalchemy import func, select

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.platforms.models import Deployment, Platform
from lms.registrations.models import RegistrationInvitation
from tests.conftest import form_fields, page_text
from tests.registrations.conftest import Registration

TOOL_CONFIG = "https://purl.imsglobal.org/spec/lti-tool-configuration"


def _counts(reg: Registration) -> tuple[int, int]:
    with reg.app.app_context():
        return (
            db.session.execute(select(func.count()).select_from(Platform)).scalar_one(),
            db.session.execute(select(func.count()).select_from(Deployment)).scalar_one(),
        )


def _invitation(reg: Registration, invitation_id: int) -> RegistrationInvitation:
    with reg.app.app_context():
        inv = db.session.get(RegistrationInvitation, invitation_id)
        assert inv is not None
        db.session.expunge(inv)
        return inv


def test_happy_path_registers_platform_and_deployment(reg: Registration) -> None:
    invitation_id, url = reg.invite()
    confirm = reg.open(url)
    assert confirm.status_code == 200
    assert "HWK Musterstadt Moodle" in page_text(confirm.text)
    assert _counts(reg) == (0, 0)  # showing the page writes nothing
    action, fields = form_fields(confirm.text)
    done = requests.post(urljoin(confirm.url, action), data=fields, timeout=10)
    assert done.status_code == 200, page_text(done.text)
    assert "lti-registration-close.js" in done.text
    assert "ausstehend" in page_text(done.text)  # tells the admin to activate the pending tool

    ((client_id, registered),) = reg.double.registrations.items()
    payload: dict[str, Any] = registered["payload"]
    assert payload["application_type"] == "web"
    assert payload["response_types"] == ["id_token"]
    assert payload["grant_types"] == ["implicit", "client_credentials"]
    assert payload["initiate_login_uri"] == reg.tool.url + "/lti/login"
    assert payload["redirect_uris"] == [reg.tool.url + "/lti/launch"]
    assert payload["jwks_uri"] == reg.tool.url + "/lti/jwks"
    assert payload["token_endpoint_auth_method"] == "private_key_jwt"
    assert set(payload["scope"].split()) == {
        "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
        "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
        "https://purl.imsglobal.org/spec/lti-ags/scope/score",
        "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    }
    config = payload[TOOL_CONFIG]
    assert config["domain"] == reg.tool.url.split("//")[1]
    assert config["target_link_uri"] == reg.tool.url + "/lti/launch"
    assert config["claims"] == ["iss", "sub", "name", "given_name", "family_name", "email"]
    assert {m["type"] for m in config["messages"]} == {
        "LtiResourceLinkRequest",
        "LtiDeepLinkingRequest",
        "LtiDataPrivacyLaunchRequest",
    }
    dl = next(m for m in config["messages"] if m["type"] == "LtiDeepLinkingRequest")
    assert dl["target_link_uri"] == reg.tool.url + "/lti/launch" and dl["label"]
    assert payload["client_name"] == "medienwerk" and config["description"]

    with reg.app.app_context():
        platform = db.session.execute(select(Platform)).scalar_one()
        assert platform.issuer == reg.double.issuer
        assert platform.client_id == client_id
        assert platform.auth_login_url == reg.double.auth_login_url
        assert platform.auth_token_url == reg.double.auth_token_url
        assert platform.key_set_url == reg.double.key_set_url
        assert [d.deployment_id for d in platform.deployments] == [registered["deployment_id"]]
        assert platform.chamber.slug == "hwk-musterstadt"
        assert platform.name == "HWK Musterstadt Moodle"
    inv = _invitation(reg, invitation_id)
    assert inv.used_at is not None and inv.platform_id is not None


def test_registered_platform_can_launch(reg: Registration) -> None:
    _, url = reg.invite()
    assert reg.register(url).status_code == 200
    ((client_id, registered),) = reg.double.registrations.items()
    reg.double.client_id = client_id
    reg.double.deployment_id = registered["deployment_id"]
    session = requests.Session()
    login = session.get(reg.tool.url + "/lti/login", params=reg.double.login_params("trainer"), timeout=10)
    action, fields = form_fields(login.text)
    landing = session.post(action, data=fields, timeout=10)
    assert landing.status_code == 200 and "/t/" in landing.url and "Trainer*in" in page_text(landing.text)


def test_registering_the_same_moodle_again_updates_it(reg: Registration) -> None:
    _, first_url = reg.invite()
    assert reg.register(first_url).status_code == 200
    ((client_id, first),) = reg.double.registrations.items()
    _, second_url = reg.invite(name="HWK Musterstadt (neu)")
    again = reg.register(second_url, update_client_id=client_id)  # Moodle's "reg-update"
    assert again.status_code == 200, page_text(again.text)
    assert "aktualisiert" in page_text(again.text)
    assert _counts(reg) == (1, 1)
    with reg.app.app_context():
        platform = db.session.execute(select(Platform)).scalar_one()
        assert platform.client_id == client_id and platform.name == "HWK Musterstadt (neu)"


def test_update_token_with_a_new_client_id_updates_the_issuers_registration(reg: Registration) -> None:
    _, first_url = reg.invite()
    assert reg.register(first_url).status_code == 200
    _, second_url = reg.invite()
    # a platform that hands out a new client id on update: still one registration, now with the new id
    confirm = reg.open(second_url, update_client_id="renamed-client")
    action, fields = form_fields(confirm.text)
    assert requests.post(urljoin(confirm.url, action), data=fields, timeout=10).status_code == 200
    assert _counts(reg)[0] == 1
    with reg.app.app_context():
        assert db.session.execute(select(Platform.client_id)).scalar_one() == "renamed-client"


def test_used_invitation_is_refused_and_writes_nothing(reg: Registration) -> None:
    _, url = reg.invite()
    assert reg.register(url).status_code == 200
    before = _counts(reg)
    registrations = len(reg.double.registrations)
    again = reg.open(url)
    assert again.status_code == 410
    assert "schon benutzt" in page_text(again.text)
    # a POST with the same invitation is refused as well, before the platform is contacted
    start = requests.get(
        reg.platform.url + "/start-registration", params={"url": url}, allow_redirects=False, timeout=10
    )
    post = requests.post(start.headers["Location"], timeout=10)
    assert post.status_code == 410
    assert _counts(reg) == before and len(reg.double.registrations) == registrations


def test_revoked_invitation_is_refused(reg: Registration) -> None:
    invitation_id, url = reg.invite()
    result = reg.app.test_cli_runner().invoke(args=["platform", "revoke-invitation", str(invitation_id)])
    assert result.exit_code == 0, result.output
    resp = reg.register(url)
    assert resp.status_code == 410 and "zurückgezogen" in page_text(resp.text)
    assert _counts(reg) == (0, 0) and reg.double.registrations == {}


def test_expired_invitation_is_refused(reg: Registration) -> None:
    invitation_id, url = reg.invite()
    with reg.app.app_context():
        inv = db.session.get(RegistrationInvitation, invitation_id)
        assert inv is not None
        inv.expires_at = utcnow() - dt.timedelta(minutes=1)
        db.session.commit()
    resp = reg.register(url)
    assert resp.status_code == 410 and "abgelaufen" in page_text(resp.text)
    assert _counts(reg) == (0, 0) and reg.double.registrations == {}


def test_unknown_or_missing_invitation_is_refused(reg: Registration) -> None:
    resp = reg.register(reg.tool.url + "/lti/register?invitation=guessed")
    assert resp.status_code == 404 and "nicht gültig" in page_text(resp.text)
    assert reg.register(reg.tool.url + "/lti/register").status_code == 404
    assert _counts(reg) == (0, 0)


def test_url_opened_directly_in_a_browser_explains_itself(reg: Registration) -> None:
    _, url = reg.invite()
    resp = requests.get(url, timeout=10)
    assert resp.status_code == 400
    assert "von der Lernplattform geöffnet werden" in page_text(resp.text)


def test_issuer_mismatch_is_refused_with_nothing_written(reg: Registration) -> None:
    invitation_id, url = reg.invite()
    reg.double.openid_issuer = "http://moodle.example.org"
    resp = reg.register(url)
    assert resp.status_code == 400
    assert "issuer_mismatch" in resp.text
    assert _counts(reg) == (0, 0) and reg.double.registrations == {}
    assert _invitation(reg, invitation_id).used_at is None  # the invitation can be used again


def test_moodle_400_is_shown_readably_and_the_invitation_stays_open(reg: Registration) -> None:
    invitation_id, url = reg.invite()
    reg.double.registration_error = "invalid_redirect_uris"
    resp = reg.register(url)
    assert resp.status_code == 400
    text = page_text(resp.text)
    assert "abgelehnt" in text and "invalid_redirect_uris" in text
    assert _counts(reg) == (0, 0)
    assert _invitation(reg, invitation_id).used_at is None
    reg.double.registration_error = None
    assert reg.register(url).status_code == 200  # fixed on the platform side: the same URL works


def test_double_validates_registrations_like_moodle(reg: Registration) -> None:
    config_url = reg.double.openid_configuration_url
    assert requests.get(config_url, timeout=10).status_code == 401
    start = reg.double.start_registration("http://tool.example/lti/register")
    token = start.split("registration_token=")[1]
    headers = {"Authorization": f"Bearer {token}"}
    assert requests.get(config_url, headers=headers, timeout=10).json()["issuer"] == reg.double.issuer
    endpoint = reg.double.registration_endpoint
    assert requests.post(endpoint, json={}, timeout=10).status_code == 401
    missing = requests.post(endpoint, json={"response_types": ["id_token"]}, headers=headers, timeout=10)
    assert missing.status_code == 400 and missing.text == "missing required attribute initiate_login_uri"
    body = {
        "response_types": ["id_token"],
        "initiate_login_uri": "http://tool.example/lti/login",
        "redirect_uris": ["http://tool.example/lti/launch"],
        "client_name": "x",
        "jwks_uri": "http://tool.example/lti/jwks",
        "token_endpoint_auth_method": "private_key_jwt",
        TOOL_CONFIG: {"domain": "tool.example", "target_link_uri": "http://other.example/lti/launch"},
    }
    mismatch = requests.post(endpoint, json=body, headers=headers, timeout=10)
    assert mismatch.status_code == 400 and mismatch.text == "domain_targetlinkuri_mismatch"
    body[TOOL_CONFIG]["target_link_uri"] = "http://tool.example/lti/launch"
    ok = requests.post(endpoint, json=body, headers=headers, timeout=10)
    assert ok.status_code == 200 and ok.json()[TOOL_CONFIG]["deployment_id"]
    reused = requests.post(endpoint, json=body, headers=headers, timeout=10)
    assert reused.status_code == 401 and reused.text == "token_already_used"


# -- CLI ------------------------------------------------------------------------------------------------


def test_invite_prints_the_url_last_and_lists_and_revokes(reg: Registration) -> None:
    reg.app.config["BASE_URL"] = "https://medienwerk.example.org"
    runner = reg.app.test_cli_runner()
    result = runner.invoke(args=["platform", "invite", "--name", "HWK Beispiel", "--hours", "2"])
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("https://medienwerk.example.org/lti/register?invitation=")
    token = last.split("invitation=")[1]
    with reg.app.app_context():
        inv = db.session.execute(select(RegistrationInvitation)).scalar_one()
        assert token not in inv.token_hash and len(inv.token_hash) == 64  # only a hash is stored
        assert inv.chamber.slug == "hwk-beispiel"
        assert dt.timedelta(hours=1.9) < inv.expires_at - inv.created_at <= dt.timedelta(hours=2)
        inv_id = inv.id
    listing = runner.invoke(args=["platform", "invitations"])
    assert f"{inv_id}  chamber hwk-beispiel" in listing.output
    assert runner.invoke(args=["platform", "revoke-invitation", str(inv_id)]).exit_code == 0
    assert "No open invitations" in runner.invoke(args=["platform", "invitations"]).output
    assert runner.invoke(args=["platform", "revoke-invitation", "999"]).exit_code != 0
    assert runner.invoke(args=["platform", "invite"]).exit_code != 0  # which chamber?
