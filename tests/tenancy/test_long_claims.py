"""Claims longer or stranger than the columns expect: display text is cut, ids over LTI's limit are refused
with a readable page, and no log line carries a name, an e-mail or SQL parameters."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms.core.extensions import db
from lms.core.launch_session import LaunchSession
from lms.users.models import LmsCourse, User
from tests.conftest import Lti, page_text

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
SECRET_NAME = "Zora Geheimname-Vertraulich"
SECRET_MAIL = "zora.geheim@example.org"


def _user(lti: Lti) -> User | None:
    with lti.app.app_context():
        user = db.session.execute(select(User)).scalar_one_or_none()
        if user is not None:
            db.session.expunge(user)
        return user


def test_a_long_bcp47_locale_is_reduced_to_language_and_region(lti: Lti) -> None:
    presentation = {"document_target": "iframe", "locale": "zh-Hant-TW-u-nu-hanidec"}
    resp = lti.launch_with(**{LTI + "launch_presentation": presentation})
    assert resp.status_code == 200
    user = _user(lti)
    assert user is not None and user.locale == "zh-TW"


def test_long_names_and_titles_are_cut_to_fit(lti: Lti) -> None:
    context = {"id": "kurs-1", "title": "K" * 300, "label": "L" * 300}
    resp = lti.launch_with(
        name="N" * 256,
        given_name="G" * 400,
        family_name="F" * 255,
        email="x" * 400 + "@ex.org",
        **{LTI + "context": context},
    )
    assert resp.status_code == 200
    user = _user(lti)
    assert user is not None
    assert user.name == "N" * 254 + "…" and user.given_name == "G" * 254 + "…" and user.family_name == "F" * 255
    assert user.email is None  # an address cut short would reach someone else: not stored
    with lti.app.app_context():
        course = db.session.execute(select(LmsCourse)).scalar_one()
        assert course.title == "K" * 254 + "…" and len(course.label or "") == 255


@pytest.mark.parametrize("claim", ["sub", "context", "resource_link", "deployment_id"])
def test_an_id_over_255_characters_is_refused_readably(lti: Lti, claim: str) -> None:
    long_id = "i" * 256
    overrides = {
        "sub": {"sub": long_id},
        "context": {LTI + "context": {"id": long_id, "title": "Kurs"}},
        "resource_link": {LTI + "resource_link": {"id": long_id}},
        "deployment_id": {LTI + "deployment_id": long_id},
    }[claim]
    resp = lti.launch_with(**overrides)
    assert resp.status_code == 403
    text = page_text(resp.text)
    assert "invalid_claim" in text and "höchstens 255 Zeichen" in text
    assert "Traceback" not in resp.text
    assert _user(lti) is None
    with lti.app.app_context():
        assert db.session.execute(select(LaunchSession)).first() is None


def test_an_id_of_exactly_255_characters_is_accepted(lti: Lti) -> None:
    assert lti.launch_with(sub="s" * 255).status_code == 200
    user = _user(lti)
    assert user is not None and user.sub == "s" * 255


def test_logs_carry_no_names_emails_or_sql_parameters_after_failures(
    lti: Lti, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert lti.launch_with(sub="z" * 300, name=SECRET_NAME, email=SECRET_MAIL).status_code == 403
    assert lti.launch_with(name=SECRET_NAME, email=SECRET_MAIL).status_code == 200
    # a failing statement: its error text must not show the values it carried
    with lti.app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        db.session.add(
            User(chamber_id=user.chamber_id, issuer=user.issuer, sub=user.sub, name=SECRET_NAME, email=SECRET_MAIL)
        )
        with pytest.raises(IntegrityError) as caught:
            db.session.flush()
        db.session.rollback()
        logging.getLogger("lms").error("statement failed: %s", caught.value)
    assert SECRET_NAME not in str(caught.value) and SECRET_MAIL not in str(caught.value)
    assert SECRET_NAME not in caplog.text and SECRET_MAIL not in caplog.text
    assert "hidden due to hide_parameters" in caplog.text
