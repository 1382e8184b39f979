"""E-mail addresses from the LMS are validated where they come in: only a plausible single address is stored."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.core.extensions import db
from lms.users.models import User
from lms.users.services import plausible_email
from tests.conftest import Lti


@pytest.mark.parametrize(
    "address",
    ["anna@example.org", "a.b+kurs@hwk-musterstadt.de", "jürgen@bäckerei.example", "x@localhost"],
)
def test_plausible_addresses(address: str) -> None:
    assert plausible_email(address)


@pytest.mark.parametrize(
    "address",
    [
        None,
        "",
        "anna@example.org\r\nBcc: everyone@example.org",
        "anna@example.org\n",
        "anna@exam\x00ple.org",
        "anna example@example.org",
        "anna@example.org\u2028",
        "no-at-sign.example.org",
        "@example.org",
        "anna@",
        "anna@@example.org",
        "anna@b@example.org",
        "anna@example..org",
        "anna@.example.org",
        "anna@example.org, bert@example.org",
        "Anna <anna@example.org>",
        '"anna"@example.org',
        "a" * 310 + "@example.org",  # 322 characters: longer than 320
    ],
)
def test_implausible_addresses(address: str | None) -> None:
    assert not plausible_email(address)


def test_an_lms_email_with_a_line_break_is_not_stored(lti: Lti) -> None:
    resp = lti.launch_with("volunteer", email="lena@example.org\r\nBcc: everyone@example.org")
    assert resp.status_code == 200
    with lti.app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert user.email is None
    lti.launch_with("volunteer", email="lena@example.org")
    with lti.app.app_context():
        assert db.session.execute(select(User.email)).scalar_one() == "lena@example.org"
