"""End-to-end launches from the LTI platform double, over loopback HTTP."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from lms.core.extensions import db
from lms.core.launch_session import LaunchSession
from lms.demo.personas import MEMBERSHIP
from lms.demo.platform import DROP, PlatformDouble
from lms.platforms.services import set_platform_enabled
from lms.users.models import Enrollment, LmsCourse, User
from lti.keys import generate_key
from tests.conftest import Lti, page_text

LTI = "https://purl.imsglobal.org/spec/lti/claim/"


@pytest.mark.parametrize(
    ("persona", "role_text", "db_role"),
    [
        ("volunteer", "Botschafter*in", "volunteer"),
        ("trainer", "Trainer*in", "trainer"),
        ("coordinator", "Koordination", "coordinator"),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_each_role_launches_end_to_end(lti: Lti, persona: str, role_text: str, db_role: str, method: str) -> None:
    resp = lti.launch(persona, method)
    assert resp.status_code == 200
    assert "/t/" in resp.url
    text = page_text(resp.text)
    assert role_text in text
    assert "Botschafter*innen des Handwerks – Digital-Qualifizierung (Demo)" in text
    assert "In neuem Fenster öffnen" in text
    with lti.app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.issuer == lti.double.issuer
        assert user.chamber.slug == "hwk-test"
        enrollment = db.session.execute(select(Enrollment)).scalar_one()
        assert enrollment.role == db_role
        assert enrollment.course.context_id == "demo-course-1"


def test_launch_greets_by_name_and_stores_only_what_was_sent(lti: Lti) -> None:
    assert "Hallo Lena Schreiner!" in page_text(lti.launch("volunteer").text)
    resp = lti.launch("volunteer-private")
    assert resp.status_code == 200
    assert "Hallo!" in page_text(resp.text)
    with lti.app.app_context():
        user = db.session.execute(select(User).where(User.sub == "demo-timo")).scalar_one()
        assert (user.name, user.given_name, user.family_name, user.email) == (None, None, None, None)


def test_relaunch_updates_user_and_removes_withheld_fields(lti: Lti) -> None:
    lti.launch("volunteer")
    resp = lti.launch_with("volunteer", name=DROP, given_name=DROP, family_name=DROP, email=DROP)
    assert resp.status_code == 200
    with lti.app.app_context():
        users = db.session.execute(select(User)).scalars().all()
        assert len(users) == 1
        assert users[0].email is None and users[0].name is None


def test_replayed_id_token_is_rejected(lti: Lti) -> None:
    session, query = lti.auth_request("volunteer")
    token = lti.double.sign(lti.double.claims("volunteer", query["nonce"]))
    data = {"id_token": token, "state": query["state"]}
    first = session.post(lti.tool.url + "/lti/launch", data=data, timeout=10)
    assert first.status_code == 200
    replay = session.post(lti.tool.url + "/lti/launch", data=data, timeout=10)
    assert replay.status_code == 403
    assert "invalid_nonce" in replay.text
    assert "schon benutzt" in page_text(replay.text)


# -- the 1EdTech certification "known bad payloads" (LTI Advantage cert §6.1.1) ----------------------------


def _bad(lti: Lti, case: str):  # noqa: ANN202
    if case == "no_kid":
        return lti.launch_with(headers={})
    if case == "wrong_kid":
        return lti.launch_with(headers={"kid": "imstester_66067"})
    if case == "wrong_version":
        return lti.launch_with(**{LTI + "version": "1.2.0"})
    if case == "no_version":
        return lti.launch_with(**{LTI + "version": DROP})
    if case == "invalid_message":
        session, query = lti.auth_request()
        token = lti.double.sign({"name": "badltilaunch"})
        return session.post(lti.tool.url + "/lti/launch", data={"id_token": token, "state": query["state"]}, timeout=10)
    if case == "missing_claims":
        return lti.launch_with(aud=DROP, iss=DROP, sub=DROP, **{LTI + "deployment_id": DROP, LTI + "roles": DROP})
    if case == "timestamps":
        return lti.launch_with(iat=11111, exp=22222)
    if case == "no_message_type":
        return lti.launch_with(**{LTI + "message_type": DROP})
    if case == "no_roles":
        return lti.launch_with(**{LTI + "roles": DROP})
    if case == "no_deployment":
        return lti.launch_with(**{LTI + "deployment_id": DROP})
    if case == "no_resource_link_id":
        return lti.launch_with(**{LTI + "resource_link": {"title": "x"}})
    if case == "no_sub":
        return lti.launch_with(sub=DROP)
    raise AssertionError(case)


BAD_CASES = [
    ("no_kid", "invalid_token"),
    ("wrong_kid", "invalid_token"),
    ("wrong_version", "invalid_message"),
    ("no_version", "invalid_message"),
    ("invalid_message", "invalid_message"),
    ("missing_claims", "invalid_message"),
    ("timestamps", "invalid_token"),
    ("no_message_type", "invalid_message"),
    ("no_roles", "invalid_message"),
    ("no_deployment", "invalid_message"),
    ("no_resource_link_id", "invalid_message"),
    ("no_sub", "invalid_message"),
]


@pytest.mark.parametrize(("case", "code"), BAD_CASES)
def test_certification_bad_payloads_get_a_readable_4xx(lti: Lti, case: str, code: str) -> None:
    resp = _bad(lti, case)
    assert 400 <= resp.status_code < 500
    assert code in resp.text
    text = page_text(resp.text)
    assert "medienwerk konnte nicht starten" in text
    assert "Was du tun kannst" in text
    assert "Traceback" not in resp.text
    with lti.app.app_context():
        assert db.session.execute(select(User)).first() is None
        assert db.session.execute(select(LaunchSession)).first() is None


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"exp": DROP}, "invalid_token"),
        ({"iat": DROP}, "invalid_token"),
        ({"iat": lambda: int(time.time()) + 600}, "invalid_token"),  # evaluated at run time
        ({"aud": "someone-else"}, "unknown_client"),
        ({"aud": ["medienwerk-demo", "other"]}, "invalid_audience"),
        ({"aud": ["other", "medienwerk-demo"], "azp": "third"}, "invalid_audience"),
        ({LTI + "deployment_id": "unknown-deployment"}, "unknown_deployment"),
        ({LTI + "message_type": "LtiSubmissionReviewRequest"}, "unsupported_message"),
        ({"nonce": "forged-nonce"}, "invalid_nonce"),
    ],
)
def test_stricter_than_pylti1p3(lti: Lti, overrides: dict, code: str) -> None:
    resp = lti.launch_with(**{key: value() if callable(value) else value for key, value in overrides.items()})
    assert 400 <= resp.status_code < 500
    assert code in resp.text


def test_clock_skew_within_leeway_is_accepted(lti: Lti) -> None:
    resp = lti.launch_with(iat=int(time.time()) + 30)
    assert resp.status_code == 200 and "Hallo Lena" in page_text(resp.text)


def test_azp_selects_the_client_among_several_audiences(lti: Lti) -> None:
    resp = lti.launch_with(aud=["other", "medienwerk-demo"], azp="medienwerk-demo")
    assert resp.status_code == 200 and "Hallo Lena" in page_text(resp.text)


def test_signature_by_another_key_is_rejected(lti: Lti) -> None:
    other = generate_key()
    session, query = lti.auth_request()
    claims = lti.double.claims("volunteer", query["nonce"])
    token = lti.double.sign(claims, headers={"kid": lti.double.key.kid}, key=other)
    resp = session.post(lti.tool.url + "/lti/launch", data={"id_token": token, "state": query["state"]}, timeout=10)
    assert resp.status_code == 403 and "invalid_token" in resp.text


def test_state_from_another_browser_is_rejected(lti: Lti) -> None:
    resp = lti.launch_with(state="state-someone-else")
    assert resp.status_code == 403 and "state_mismatch" in resp.text


def test_platform_key_rotation_is_picked_up(lti: Lti) -> None:
    assert "Hallo Lena" in page_text(lti.launch().text)  # key set now cached
    lti.double.key = generate_key()  # the platform rotates its key
    resp = lti.launch()
    assert resp.status_code == 200 and "Hallo Lena" in page_text(resp.text)


@pytest.mark.parametrize(
    "overrides",
    [
        {
            LTI + "roles": [
                MEMBERSHIP + "Learner",
                "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student",
                MEMBERSHIP + "Mentor",
            ]
        },
        {LTI + "roles": ["Learner"]},
        {LTI + "roles": ["Instructor"]},
        {LTI + "roles": ["http://purl.imsglobal.org/vocab/lis/v2/uknownrole/unknown#Unknown"]},
        {LTI + "roles": [""]},
        {LTI + "roles": []},
        {"name": DROP, "given_name": DROP, "family_name": DROP},
        {"email": DROP},
        {"name": DROP, "given_name": DROP, "family_name": DROP, "email": DROP},
        {LTI + "context": DROP, "name": DROP, "given_name": DROP, "family_name": DROP},
    ],
    ids=[
        "multiple-roles",
        "short-learner",
        "short-instructor",
        "unknown-role",
        "empty-role",
        "no-roles",
        "email-only",
        "names-only",
        "no-pii",
        "email-without-context",
    ],
)
def test_valid_certification_variants_are_accepted(lti: Lti, overrides: dict) -> None:
    resp = lti.launch_with(**overrides)
    assert resp.status_code == 200, page_text(resp.text)
    role = "Trainer*in" if overrides.get(LTI + "roles") == ["Instructor"] else "Botschafter*in"
    assert "/t/" in resp.url and role in page_text(resp.text)


def test_unknown_and_empty_roles_mean_volunteer(lti: Lti) -> None:
    resp = lti.launch_with(**{LTI + "roles": []})
    assert "Botschafter*in" in page_text(resp.text)


def test_launch_without_context_creates_no_course(lti: Lti) -> None:
    resp = lti.launch_with(**{LTI + "context": DROP})
    assert "ohne Kurs gestartet" in page_text(resp.text)
    with lti.app.app_context():
        assert db.session.execute(select(LmsCourse)).first() is None


# -- login and registration problems --------------------------------------------------------------------


def test_login_with_unknown_issuer(lti: Lti) -> None:
    _, resp = lti.login(iss="https://moodle.unbekannt.example")
    assert resp.status_code == 400
    assert "unknown_issuer" in resp.text
    assert "nicht registriert" in page_text(resp.text)


def test_login_with_unknown_client(lti: Lti) -> None:
    _, resp = lti.login(client_id="not-registered")
    assert resp.status_code == 400 and "unknown_client" in resp.text


def test_login_without_issuer_or_hint(lti: Lti) -> None:
    _, resp = lti.login(iss=None)
    assert resp.status_code == 400 and "missing_param" in resp.text
    _, resp = lti.login(login_hint=None)
    assert resp.status_code == 400 and "missing_param" in resp.text


def test_disabled_platform_cannot_launch_and_keeps_data(lti: Lti) -> None:
    assert lti.launch().status_code == 200
    with lti.app.app_context():
        set_platform_enabled(lti.double.issuer, None, False)
        db.session.commit()
    _, resp = lti.login()
    assert resp.status_code == 400 and "platform_disabled" in resp.text
    with lti.app.app_context():
        assert db.session.execute(select(User)).scalar_one()
        set_platform_enabled(lti.double.issuer, None, True)
        db.session.commit()
    assert lti.launch().status_code == 200


def test_disabled_deployment(lti: Lti) -> None:
    with lti.app.app_context():
        from lms.platforms.models import Deployment

        db.session.execute(select(Deployment)).scalar_one().enabled = False
        db.session.commit()
    resp = lti.launch()
    assert resp.status_code == 403 and "deployment_disabled" in resp.text


def test_launch_page_refresh_is_a_readable_error(lti: Lti) -> None:
    import requests

    resp = requests.get(lti.tool.url + "/lti/launch", timeout=10)
    assert resp.status_code == 405 and "medienwerk konnte nicht starten" in page_text(resp.text)


def test_launch_without_id_token(lti: Lti) -> None:
    import requests

    resp = requests.post(lti.tool.url + "/lti/launch", data={"state": "x"}, timeout=10)
    assert resp.status_code == 403 and "invalid_message" in resp.text


def test_error_page_follows_launch_locale(lti: Lti) -> None:
    resp = lti.launch_with(sub=DROP, **{LTI + "launch_presentation": {"locale": "en"}})
    assert resp.status_code == 403
    assert 'lang="en"' in resp.text


def test_platform_double_rejects_unregistered_redirect_uri(lti: Lti) -> None:
    import requests

    _, query = lti.auth_request()
    query["redirect_uri"] = "http://127.0.0.1:1/evil"
    resp = requests.get(lti.double.auth_login_url, params=query, timeout=10)
    assert resp.status_code == 400 and "id_token" not in resp.text


def test_double_is_not_shared_between_tests() -> None:
    assert PlatformDouble(issuer="x").key.kid != PlatformDouble(issuer="y").key.kid


def test_person_administrator_role_maps_to_coordinator() -> None:
    """Moodle's NRPS lists site administrators with the LIS v2 person role; they coordinate, as at launch."""
    from lti.roles import Role, map_role

    person_admin = "http://purl.imsglobal.org/vocab/lis/v2/person#Administrator"
    assert map_role(["http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor", person_admin]) == Role.COORDINATOR
    assert map_role(["http://purl.imsglobal.org/vocab/lis/v2/person#Guest"]) == Role.VOLUNTEER
