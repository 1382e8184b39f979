"""Fixtures of the progress tests: a person in the database, a second LMS in a second chamber."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from lms.core.extensions import db
from lms.platforms.models import Chamber
from lms.users.models import User


@pytest.fixture
def person(app: Flask) -> Iterator[int]:
    """A volunteer's user id, inside an app context."""
    with app.test_request_context():
        chamber = Chamber(slug="hwk-eins", name="HWK Eins")
        user = User(chamber=chamber, issuer="https://lms.example.org", sub="volunteer-1")
        db.session.add(user)
        db.session.commit()
        yield user.id
