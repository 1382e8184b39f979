"""An invitation of one chamber cannot register an LMS that belongs to another chamber (CONTRACT: Tenancy)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.core.extensions import db
from lms.platforms.models import Platform
from lms.platforms.services import add_platform
from lms.registrations.models import RegistrationInvitation
from tests.conftest import page_text
from tests.registrations.conftest import Registration


def _register_elsewhere(reg: Registration, issuer: str) -> None:
    with reg.app.app_context():
        add_platform(
            issuer=issuer,
            client_id="the-real-client",
            deployment_id="7",
            auth_login_url=issuer.rstrip("/") + "/auth",
            auth_token_url=issuer.rstrip("/") + "/token",
            key_set_url=issuer.rstrip("/") + "/jwks",
            name="HWK Andere",
            chamber_slug="hwk-andere",
        )
        db.session.commit()


@pytest.mark.parametrize("suffix", ["", "/"])
def test_issuer_of_another_chamber_is_refused_before_the_platform_registers_anything(
    reg: Registration, suffix: str
) -> None:
    _register_elsewhere(reg, reg.double.issuer + suffix)
    invitation_id, url = reg.invite(chamber="hwk-musterstadt")
    resp = reg.register(url)
    assert resp.status_code == 409
    assert "schon für eine andere Kammer registriert" in page_text(resp.text)
    assert reg.double.registrations == {}  # the LMS was never asked to register the tool
    with reg.app.app_context():
        platforms = db.session.execute(select(Platform)).scalars().all()
        assert [(p.client_id, p.chamber.slug) for p in platforms] == [("the-real-client", "hwk-andere")]
        invitation = db.session.get(RegistrationInvitation, invitation_id)
        assert invitation is not None and invitation.used_at is None


def test_the_same_chamber_may_register_its_own_issuer_again(reg: Registration) -> None:
    _register_elsewhere(reg, reg.double.issuer)
    _, url = reg.invite(name="HWK Andere", chamber="hwk-andere")
    resp = reg.register(url)
    assert resp.status_code == 200, resp.text[:500]
    with reg.app.app_context():
        count = db.session.execute(
            select(func.count()).select_from(Platform).where(Platform.issuer == reg.double.issuer)
        ).scalar_one()
        assert count == 2


def test_an_operator_can_still_add_the_issuer_to_a_second_chamber(reg: Registration) -> None:
    _register_elsewhere(reg, reg.double.issuer)
    runner = reg.app.test_cli_runner()
    issuer = reg.double.issuer
    result = runner.invoke(
        args=[
            "platform",
            "add",
            "--issuer",
            issuer,
            "--client-id",
            "second",
            "--deployment-id",
            "1",
            "--auth-login-url",
            issuer + "/auth",
            "--auth-token-url",
            issuer + "/token",
            "--key-set-url",
            issuer + "/jwks",
            "--chamber",
            "hwk-zweite",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "chamber 'hwk-zweite'" in result.output
