"""Coordinators see their chamber's awards (the central team every chamber's), revoke with a reason and re-issue;
each action is in the audit log. Trainers only read; volunteers are refused. The command line does the same."""

from __future__ import annotations

from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.certificates.models import Award
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.platforms.models import Chamber
from lms.users.models import User
from tests.certificates.conftest import HIGHEST_TIER, Certs, post_form
from tests.conftest import page_text


def _other_chamber_award(certs: Certs) -> str:
    """An award of a volunteer in another chamber (made as the rule makes it)."""
    from lms.certificates.services import new_award_id

    with certs.lti.app.app_context():
        chamber = Chamber(slug="hwk-andere", name="HWK Andere")
        db.session.add(chamber)
        db.session.flush()
        person = User(chamber_id=chamber.id, issuer="https://lms.andere.example", sub="x-1", name="Ida Anders")
        db.session.add(person)
        db.session.flush()
        award = Award(
            id=new_award_id(),
            user_id=person.id,
            chamber_id=chamber.id,
            tier_id=HIGHEST_TIER,
            tier_title="Digitale*r Botschafter*in",
            module_versions={},
            details={"modules": []},
            tutorials_attended=2,
            issued_at=utcnow(),
            recipient_salt="00",
            display_name="Ida Anders",
        )
        db.session.add(award)
        db.session.commit()
        return award.id


def _audit(certs: Certs) -> list[tuple[str, dict[str, str]]]:
    with certs.lti.app.app_context():
        return [(e.action, e.detail) for e in db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()]


def test_coordinators_list_revoke_and_reissue_within_their_chamber(certs: Certs) -> None:
    _volunteer, lena = certs.reach_highest()
    award = certs.award(lena)
    other = _other_chamber_award(certs)
    coordinator = certs.launch("coordinator")

    page = coordinator.get("dashboard/awards/")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Lena Schreiner" in text and "Ida Anders" not in text
    assert "Gültige Zertifikate „Digitale*r Botschafter*in“ 1" in text
    assert coordinator.get(f"dashboard/awards/{other}").status_code == 404
    assert post_form(coordinator, f"dashboard/awards/{other}/revoke", reason="x").status_code == 404
    assert post_form(coordinator, f"dashboard/awards/{other}/reissue").status_code == 404

    detail = coordinator.get(f"dashboard/awards/{award.id}")
    assert (
        detail.status_code == 200 and "Neu ausstellen" in detail.text and "Zertifikat jetzt widerrufen" in detail.text
    )

    empty = post_form(coordinator, f"dashboard/awards/{award.id}/revoke", reason="  ")
    assert empty.status_code == 422 and "Bitte gib einen Grund" in empty.text
    reissued = post_form(coordinator, f"dashboard/awards/{award.id}/reissue")
    assert reissued.status_code == 302
    new = certs.award(lena)
    assert new.id != award.id and f"/dashboard/awards/{new.id}" in reissued.headers["Location"]
    revoked = post_form(coordinator, f"dashboard/awards/{new.id}/revoke", reason="Auf Wunsch der Person")
    assert revoked.status_code == 302
    again = post_form(coordinator, f"dashboard/awards/{new.id}/revoke", reason="noch einmal")
    assert again.status_code == 409

    actions = _audit(certs)
    assert ("award_reissued", {"award": award.id, "new_award": new.id, "tier": HIGHEST_TIER}) in actions
    assert ("award_revoked", {"award": new.id, "tier": HIGHEST_TIER}) in actions
    with certs.lti.app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "award_revoked")).scalar_one()
        assert entry.actor_role == "coordinator" and entry.subject_id == lena

    listing = page_text(coordinator.get("dashboard/awards/?state=superseded").text)
    assert "ersetzt" in listing and "1 Zertifikat gefunden" in listing


def test_the_central_team_sees_every_chamber(certs: Certs) -> None:
    certs.reach_highest()
    other = _other_chamber_award(certs)
    with certs.lti.app.app_context():
        for chamber in db.session.query(Chamber).filter_by(slug="hwk-test"):
            chamber.is_central = True
        db.session.commit()
    central = certs.launch("coordinator")
    text = page_text(central.get("dashboard/awards/").text)
    assert "Lena Schreiner" in text and "Ida Anders" in text and "HWK Andere" in text
    assert central.get(f"dashboard/awards/{other}").status_code == 200


def test_trainers_read_and_volunteers_are_refused(certs: Certs) -> None:
    volunteer, lena = certs.reach_highest()
    award = certs.award(lena)
    assert volunteer.get("dashboard/awards/").status_code == 403
    trainer = certs.launch("trainer")
    page = trainer.get("dashboard/awards/")
    assert page.status_code == 200 and "Lena Schreiner" in page.text
    assert "Zertifikat jetzt widerrufen" not in trainer.get(f"dashboard/awards/{award.id}").text
    assert post_form(trainer, f"dashboard/awards/{award.id}/revoke", reason="nein").status_code == 403


def test_the_command_line_lists_and_revokes(certs: Certs) -> None:
    _volunteer, lena = certs.reach_highest()
    award = certs.award(lena)
    runner = certs.lti.app.test_cli_runner()
    listed = runner.invoke(args=["awards", "list", "--chamber", "hwk-test"])
    assert listed.exit_code == 0, listed.output
    assert award.id in listed.output and "valid" in listed.output and "Lena" not in listed.output
    assert runner.invoke(args=["awards", "list", "--chamber", "nirgendwo"]).exit_code != 0

    revoked = runner.invoke(args=["awards", "revoke", award.id, "--reason", "Test"])
    assert revoked.exit_code == 0, revoked.output
    assert runner.invoke(args=["awards", "revoke", award.id, "--reason", "Test"]).exit_code != 0
    assert runner.invoke(args=["awards", "revoke", "gibt-es-nicht", "--reason", "Test"]).exit_code != 0
    assert "revoked" in runner.invoke(args=["awards", "list"]).output
    with certs.lti.app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "award_revoked")).scalar_one()
        assert entry.actor_id is None and entry.actor_role == "operator" and entry.detail["award"] == award.id

    reissued = runner.invoke(args=["awards", "reissue", award.id])
    assert reissued.exit_code == 0, reissued.output
    assert certs.award(lena).id in reissued.output
