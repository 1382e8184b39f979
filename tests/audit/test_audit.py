"""The audit log: actions are recorded in their transaction, shown to the chamber's coordinators only, never
changed except by redaction."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.audit.models import AppendOnlyError, AuditEntry
from lms.audit.services import record, redact_subject
from lms.core.extensions import db
from lms.platforms.models import Chamber
from lms.users.models import User
from tests.conftest import Lti, assert_refused, page_text
from tests.progress.helpers import Browser


def _entries(lti: Lti) -> list[tuple[str, str | None]]:
    with lti.app.app_context():
        rows = db.session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
        return [(e.action, e.subject.sub if e.subject else None) for e in rows]


def test_a_role_grant_is_logged_and_shown_to_the_chambers_coordinators(lti: Lti) -> None:
    lti.launch("volunteer")
    runner = lti.app.test_cli_runner()
    result = runner.invoke(args=["coordinator", "add", "--issuer", lti.double.issuer, "--sub", "demo-lena"])
    assert result.exit_code == 0, result.output
    assert _entries(lti) == [("role_granted", "demo-lena")]
    coordinator = Browser(lti, "coordinator")
    page = coordinator.get("audit/")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Koordinationsrolle vergeben" in text and "Lena Schreiner" in text and "Betrieb (Kommandozeile)" in text


def test_a_failed_grant_leaves_no_entry(lti: Lti) -> None:
    runner = lti.app.test_cli_runner()
    result = runner.invoke(args=["coordinator", "add", "--issuer", lti.double.issuer, "--email", "nobody@x.org"])
    assert result.exit_code != 0
    assert _entries(lti) == []


@pytest.mark.parametrize("persona", ["volunteer", "trainer"])
def test_only_coordinators_see_the_log(lti: Lti, persona: str) -> None:
    assert_refused(Browser(lti, persona).get("audit/"), 403)


def test_another_chambers_entries_stay_hidden(lti: Lti) -> None:
    coordinator = Browser(lti, "coordinator")
    with lti.app.app_context():
        other = Chamber(slug="hwk-andere", name="Andere")
        db.session.add(other)
        db.session.flush()
        record("platform_registered", chamber_id=other.id, detail={"platform_id": 99})
        db.session.commit()
    text = page_text(coordinator.get("audit/").text)
    assert "Lernplattform registriert" not in text and "0 Einträge" in text


def test_entries_are_append_only_and_redaction_removes_the_person(lti: Lti) -> None:
    lti.launch("volunteer")
    with lti.app.app_context():
        lena = db.session.execute(select(User).where(User.sub == "demo-lena")).scalar_one()
        entry = record("volunteer_viewed", chamber_id=lena.chamber_id, subject_id=lena.id, detail={"page": "detail"})
        db.session.commit()
        entry.action = "report_exported"
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry.id))
        with pytest.raises(AppendOnlyError):
            db.session.flush()
        db.session.rollback()
        assert redact_subject(lena.id) == 1
        db.session.commit()
        kept = db.session.get(AuditEntry, entry.id)
        assert kept is not None
        db.session.refresh(kept)
        assert kept.subject_id is None and kept.detail == {} and kept.redacted_at is not None
        assert kept.action == "volunteer_viewed"
