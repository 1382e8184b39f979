"""One issuer registered in two chambers: people, courses and coordinator grants stay per chamber."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from lms.core.extensions import db
from lms.core.launch_session import LaunchSession
from lms.demo.platform import DROP, register_double
from lms.platforms.models import Chamber
from lms.users.models import LmsCourse, User
from tests.conftest import Lti

FIRST, SECOND = "medienwerk-demo", "zweite-kammer-client"


@pytest.fixture
def two_chambers(lti: Lti) -> Lti:
    """The double's issuer in chamber hwk-test (client FIRST) and in chamber hwk-zwei (client SECOND)."""
    with lti.app.app_context():
        register_double(dataclasses.replace(lti.double, client_id=SECOND), name="Zweite", chamber_slug="hwk-zwei")
        db.session.commit()
    return lti


def _launch(lti: Lti, client_id: str, persona: str = "volunteer") -> str:
    """Launch through one registration; the role the launch got."""
    lti.double.client_id = client_id
    resp = lti.launch_with(persona)
    assert resp.status_code == 200, resp.text[:300]
    with lti.app.app_context():
        session = db.session.execute(
            select(LaunchSession).order_by(LaunchSession.created_at.desc()).limit(1)
        ).scalar_one()
        return session.role


def _people(lti: Lti) -> list[tuple[str, str, str | None]]:
    with lti.app.app_context():
        rows = db.session.execute(
            select(Chamber.slug, User.sub, User.name)
            .join(Chamber, Chamber.id == User.chamber_id)
            .order_by(Chamber.slug)
        ).all()
        return [tuple(r) for r in rows]


def test_a_launch_through_the_second_chamber_is_another_person(two_chambers: Lti) -> None:
    lti = two_chambers
    _launch(lti, FIRST)
    first = _people(lti)
    assert first == [("hwk-test", "demo-lena", "Lena Schreiner")]
    _launch(lti, SECOND)
    assert _people(lti) == [("hwk-test", "demo-lena", "Lena Schreiner"), ("hwk-zwei", "demo-lena", "Lena Schreiner")]
    with lti.app.app_context():
        courses = db.session.execute(select(Chamber.slug).join(LmsCourse, LmsCourse.chamber_id == Chamber.id)).scalars()
        assert sorted(courses) == ["hwk-test", "hwk-zwei"]  # the LMS course is per chamber too


def test_a_name_withheld_in_one_chamber_stays_in_the_other(two_chambers: Lti) -> None:
    lti = two_chambers
    _launch(lti, FIRST)
    lti.double.client_id = SECOND
    assert lti.launch_with("volunteer", name=DROP, given_name=DROP, family_name=DROP, email=DROP).status_code == 200
    assert _people(lti) == [("hwk-test", "demo-lena", "Lena Schreiner"), ("hwk-zwei", "demo-lena", None)]


def test_a_coordinator_grant_applies_only_in_its_chamber(two_chambers: Lti) -> None:
    lti = two_chambers
    runner = lti.app.test_cli_runner()
    issuer = lti.double.issuer
    ambiguous = runner.invoke(args=["coordinator", "add", "--issuer", issuer, "--sub", "demo-lena"])
    assert ambiguous.exit_code != 0
    assert "several chambers" in ambiguous.output and "--chamber" in ambiguous.output
    granted = runner.invoke(
        args=["coordinator", "add", "--issuer", issuer, "--sub", "demo-lena", "--chamber", "hwk-test"]
    )
    assert granted.exit_code == 0, granted.output
    assert "chamber 'hwk-test'" in granted.output
    assert _launch(lti, FIRST) == "coordinator"
    assert _launch(lti, SECOND) == "volunteer"
    assert _launch(lti, FIRST) == "coordinator"  # the launch through the other chamber changed nothing
    wrong = runner.invoke(
        args=["coordinator", "add", "--issuer", issuer, "--sub", "demo-lena", "--chamber", "hwk-nirgends"]
    )
    assert wrong.exit_code != 0 and "not registered in chamber" in wrong.output
