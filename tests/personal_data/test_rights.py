"""Export and deletion of one person's data (Art. 15, 17, 20 DSGVO), minimisation, and the retention jobs."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import String, Text, select

from lms.audit.models import AuditEntry
from lms.audit.services import record
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.demo.platform import DROP, register_double
from lms.live_sessions.models import Attendance, LiveSession, Signup
from lms.mail.models import OutboxMail
from lms.mail.services import queue_mail
from lms.personal_data import jobs
from lms.progress.models import TaskSubmission
from lms.rosters.models import RosterMember
from lms.users.models import User
from tests.conftest import page_text
from tests.dashboards.conftest import Seeded
from tests.progress.helpers import Browser

SUB, NAME, EMAIL = "demo-lena", "Lena Schreiner", "lena.schreiner@example.org"


def _enrich(seeded: Seeded) -> int:
    """Give Lena a tutorial sign-up and attendance, a roster row, a mail and an audit entry."""
    lena = seeded.people["lena"]
    with seeded.lti.app.app_context():
        user = db.session.get(User, lena)
        assert user is not None
        live = LiveSession(
            chamber_id=user.chamber_id,
            title="Probe",
            starts_at=utcnow() - dt.timedelta(days=400),
            timezone="Europe/Berlin",
            duration_minutes=60,
            meeting_id="m-1",
            callback_token="cb-1",
            audience="chamber",
        )
        db.session.add(live)
        db.session.flush()
        db.session.add(Signup(session_id=live.id, user_id=lena, status="confirmed"))
        db.session.add(
            Attendance(session_id=live.id, user_id=lena, intervals=[{"join": 1, "leave": 2}], minutes=55, attended=True)
        )
        db.session.add(
            RosterMember(
                course_id=seeded.course_id,
                platform_user_id=SUB,
                user_id=None,
                roles=[],
                role="volunteer",
                status="Active",
                name=NAME,
                email=EMAIL,
                first_seen_at=utcnow(),
                last_seen_at=utcnow(),
                status_changed_at=utcnow(),
            )
        )
        with seeded.lti.app.test_request_context():
            queue_mail(
                user,
                subject="Hallo",
                template="volunteer_reminder.txt",
                category="volunteer-reminder",
                message="Weiter so",
            )
        record("volunteer_viewed", chamber_id=user.chamber_id, subject_id=lena)
        db.session.commit()
    return lena


def _traces(seeded: Seeded, user_id: int, keep: int | None = None) -> list[str]:
    """Every place in every table that still holds the person's id, LMS id, name or e-mail (rows of the person
    ``keep``, the same login in another chamber, aside)."""
    found = []
    with seeded.lti.app.app_context():
        for table in db.metadata.sorted_tables:
            user_fks = [fk.parent for fk in table.foreign_keys if fk.column.table.name == "user_account"]
            texts = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in db.session.execute(select(table)).all():
                values = row._mapping
                if keep is not None and (
                    (table.name == "user_account" and values["id"] == keep)
                    or any(values[c.name] == keep for c in user_fks)
                ):
                    continue
                if table.name == "user_account" and values["id"] == user_id:
                    found.append("user_account.id")
                found += [f"{table.name}.{c.name}" for c in user_fks if values[c.name] == user_id]
                for c in texts:
                    value = values[c.name]
                    if isinstance(value, str) and any(s in value for s in (NAME, EMAIL)) or value == SUB:
                        found.append(f"{table.name}.{c.name}")
    return found


def test_export_has_every_table_about_the_person(seeded: Seeded) -> None:
    lena = _enrich(seeded)
    runner = seeded.lti.app.test_cli_runner()
    result = runner.invoke(args=["privacy", "export", "--issuer", seeded.lti.double.issuer, "--sub", SUB])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    tables = data["tables"]
    assert tables["user_account"][0]["email"] == EMAIL
    for name in (
        "item_progress",
        "quiz_attempt",
        "question_result",
        "task_submission",
        "progress_event",
        "live_signup",
        "live_attendance",
        "roster_member",
        "mail_outbox",
        "audit_entry",
        "enrollment",
        "launch_session",
    ):
        assert tables.get(name), name
    assert all(r["user_id"] == lena for r in tables["item_progress"])
    with seeded.lti.app.app_context():
        assert db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()[-1] == (
            "person_exported"
        )


def test_delete_leaves_no_trace_and_spares_the_same_login_in_another_chamber(seeded: Seeded) -> None:
    lena = _enrich(seeded)
    with seeded.lti.app.app_context():  # the same LMS account registered through a second chamber
        register_double(dataclasses.replace(seeded.lti.double, client_id="zweite"), chamber_slug="hwk-zwei")
        db.session.commit()
    seeded.lti.double.client_id = "zweite"
    assert seeded.lti.launch("volunteer").status_code == 200
    seeded.lti.double.client_id = "medienwerk-demo"
    runner = seeded.lti.app.test_cli_runner()
    issuer = seeded.lti.double.issuer
    refused = runner.invoke(args=["privacy", "delete", "--issuer", issuer, "--sub", SUB, "--chamber", "hwk-test"])
    assert refused.exit_code != 0 and "--yes" in refused.output
    ambiguous = runner.invoke(args=["privacy", "delete", "--issuer", issuer, "--sub", SUB, "--yes"])
    assert ambiguous.exit_code != 0 and "several chambers" in ambiguous.output
    result = runner.invoke(
        args=["privacy", "delete", "--issuer", issuer, "--sub", SUB, "--chamber", "hwk-test", "--yes"]
    )
    assert result.exit_code == 0, result.output
    assert "item_progress:" in result.output and "stay there" in result.output
    # the same login in the other chamber keeps its own rows: that is another person for medienwerk
    with seeded.lti.app.app_context():
        twin = db.session.execute(select(User).where(User.sub == SUB)).scalar_one()
        assert twin.chamber.slug == "hwk-zwei" and twin.id != lena
        twin_id = twin.id
    assert _traces(seeded, lena, keep=twin_id) == []
    with seeded.lti.app.app_context():
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "volunteer_viewed")).scalar_one()
        assert entry.subject_id is None and entry.redacted_at is not None
        assert db.session.execute(select(AuditEntry.action).order_by(AuditEntry.id.desc())).scalars().first() == (
            "person_deleted"
        )


def test_coordinators_delete_from_the_detail_page_after_confirming(seeded: Seeded) -> None:
    lena = _enrich(seeded)
    coordinator = Browser(seeded.lti, "coordinator")
    detail = page_text(coordinator.get(f"dashboard/volunteers/{lena}").text)
    assert "Daten löschen" in detail and "Daten exportieren (JSON)" in detail
    summary = coordinator.get(f"dashboard/volunteers/{lena}/data/summary")
    assert summary.status_code == 200 and "item_progress" in summary.text
    export = coordinator.get(f"dashboard/volunteers/{lena}/data/export.json")
    assert export.status_code == 200 and json.loads(export.text)["tables"]["user_account"][0]["sub"] == SUB
    csrf = coordinator.launch_csrf()
    url = coordinator.url(f"dashboard/volunteers/{lena}/data/delete")
    wrong = coordinator.http.post(url, data={"csrf_token": csrf, "confirm": "ja"}, allow_redirects=False, timeout=10)
    assert wrong.status_code == 422 and "LÖSCHEN" in page_text(wrong.text)
    done = coordinator.http.post(
        url, data={"csrf_token": csrf, "confirm": "LÖSCHEN"}, allow_redirects=False, timeout=10
    )
    assert done.status_code == 303
    assert _traces(seeded, lena) == []
    assert coordinator.get(f"dashboard/volunteers/{lena}").status_code == 404
    assert (
        Browser(seeded.lti, "trainer").get(f"dashboard/volunteers/{seeded.people['timo']}/data/delete").status_code
        == 403
    )


def test_a_withheld_email_is_dropped_from_the_outbox_too(seeded: Seeded) -> None:
    _enrich(seeded)
    assert seeded.lti.launch_with("volunteer", email=DROP).status_code == 200
    with seeded.lti.app.app_context():
        assert db.session.execute(select(OutboxMail)).first() is None
        assert db.session.execute(select(User.email).where(User.sub == SUB)).scalar_one() is None


def _run(seeded: Seeded, job: Any, **kwargs: Any) -> Any:
    with seeded.lti.app.test_request_context():
        result = job(**kwargs)
        db.session.commit()
        return result


def test_retention_jobs(seeded: Seeded) -> None:
    lena = _enrich(seeded)
    later = utcnow() + dt.timedelta(days=800)
    with seeded.lti.app.app_context():
        for submission in db.session.execute(select(TaskSubmission)).scalars():
            submission.status, submission.reviewed_at, submission.text = "approved", utcnow(), "Meine Abgabe"
        db.session.commit()
    assert _run(seeded, jobs.clear_reviewed_hand_ins, now=later) >= 1
    assert _run(seeded, jobs.clear_attendance_details, now=later) == 1
    assert _run(seeded, jobs.purge_mail_outbox, now=later) == 1
    with seeded.lti.app.app_context():
        assert db.session.execute(select(TaskSubmission.text).where(TaskSubmission.text.is_not(None))).first() is None
        assert db.session.execute(select(Attendance.intervals)).scalar_one() == []
        assert db.session.execute(select(Attendance.minutes)).scalar_one() == 55  # tiers still count it
    # inactive for two years: a notice first (Lena's LMS shares her e-mail), deletion after the notice period
    far = utcnow() + dt.timedelta(days=3 * 365)
    assert _run(seeded, jobs.retire_inactive_volunteers, now=far) == 1  # Timo: no e-mail, deleted at once
    with seeded.lti.app.app_context():
        notice = db.session.execute(select(OutboxMail).where(OutboxMail.category == "retention-notice")).scalar_one()
        assert notice.user_id == lena and "löschen wir in 30 Tagen" in notice.body
        notice.created_at = far - dt.timedelta(days=31)
        db.session.commit()
    assert _run(seeded, jobs.retire_inactive_volunteers, now=far) == 1
    with seeded.lti.app.app_context():
        remaining = db.session.execute(select(User.sub).where(User.sub.in_((SUB, "demo-timo")))).scalars().all()
        assert remaining == []
        # coordinators and trainers are not volunteers: never retired
        assert db.session.execute(select(User).where(User.sub == "demo-jonas")).first() is not None
    assert _run(seeded, jobs.purge_audit_log, now=far + dt.timedelta(days=3 * 365)) >= 1


@pytest.mark.parametrize("key", ["RETENTION_INACTIVE_MONTHS", "RETENTION_MAIL_DAYS"])
def test_retention_settings_are_checked(key: str, tmp_path: Any) -> None:
    from lms.core.config import ConfigError, load_config

    with pytest.raises(ConfigError):
        load_config(str(tmp_path), {"TESTING": True}, {f"MEDIENWERK_{key}": "0"})
