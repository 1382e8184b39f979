"""Reminders to selected volunteers (e-mail only, once a week, logged) and the operators' progress report."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.core.extensions import db
from lms.mail.models import OutboxMail
from tests.conftest import page_text
from tests.dashboards.conftest import Seeded
from tests.progress.helpers import Browser


def _send(coordinator: Browser, ids: list[int], subject: str = "Weiter geht's", message: str = "Hallo!") -> object:
    fields = [("csrf_token", coordinator.launch_csrf()), ("subject", subject), ("message", message)]
    fields += [("user", str(i)) for i in ids]
    return coordinator.http.post(coordinator.url("dashboard/reminders"), data=fields, timeout=10, allow_redirects=False)


def test_reminders_go_to_people_with_email_once_a_week_and_are_logged(seeded: Seeded) -> None:
    coordinator = Browser(seeded.lti, "coordinator")
    lena, timo = seeded.people["lena"], seeded.people["timo"]  # Timo's LMS shares no e-mail
    preview = page_text(coordinator.get(f"dashboard/reminders?user={lena}&user={timo}").text)
    assert "1 Person bekommt die Erinnerung." in preview and "1 Person hat keine E-Mail-Adresse übermittelt." in preview
    first = _send(coordinator, [lena, timo], subject="Weiter\r\nBcc: x@evil.example", message="Bis bald")
    assert first.status_code == 303 and "reminded=1" in first.headers["Location"]  # type: ignore[attr-defined]
    again = _send(coordinator, [lena])
    assert again.status_code == 422  # type: ignore[attr-defined]
    assert "schon erinnert" in page_text(again.text)  # type: ignore[attr-defined]
    with seeded.lti.app.app_context():
        mails = (
            db.session.execute(select(OutboxMail).where(OutboxMail.category == "volunteer-reminder")).scalars().all()
        )
        assert [(m.user_id, m.subject, m.body.strip()) for m in mails] == [
            (lena, "Weiter Bcc: x@evil.example", "Bis bald")
        ]
        entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "reminder_sent")).scalar_one()
        assert entry.detail == {"recipients": 1, "user_ids": [lena]}


def test_reminders_are_for_coordinators_and_never_reach_outside_the_scope(seeded: Seeded) -> None:
    assert Browser(seeded.lti, "trainer").get(f"dashboard/reminders?user={seeded.people['lena']}").status_code == 403
    stranger = seeded.add_volunteers(1, prefix="fremd")[0]
    from lms.platforms.models import Chamber
    from lms.users.models import User

    with seeded.lti.app.app_context():
        other = Chamber(slug="hwk-fremd", name="Fremd")
        db.session.add(other)
        db.session.flush()
        person = db.session.get(User, stranger)
        assert person is not None
        person.chamber_id, person.email = other.id, "fremd@example.org"
        db.session.commit()
    coordinator = Browser(seeded.lti, "coordinator")
    assert "0 Personen bekommen die Erinnerung." in page_text(
        coordinator.get(f"dashboard/reminders?user={stranger}").text
    )
    assert _send(coordinator, [stranger]).status_code == 422  # type: ignore[attr-defined]


def test_empty_subject_is_refused_and_the_text_kept(seeded: Seeded) -> None:
    coordinator = Browser(seeded.lti, "coordinator")
    resp = _send(coordinator, [seeded.people["lena"]], subject=" ", message="Mein Text bleibt")
    assert resp.status_code == 422  # type: ignore[attr-defined]
    assert "Mein Text bleibt" in resp.text and "Betreff" in page_text(resp.text)  # type: ignore[attr-defined]


def test_report_progress_writes_every_volunteer(seeded: Seeded, tmp_path: Path) -> None:
    seeded.add_volunteers(3, prefix="zz")
    runner = seeded.lti.app.test_cli_runner()
    out = tmp_path / "report.csv"
    result = runner.invoke(args=["report", "progress", "--chamber", "hwk-test", "--semicolon", "--output", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig")), delimiter=";"))
    assert len(rows) == 1 + 5 and rows[0][0] == "Name"
    lena = next(r for r in rows if r[0] == "Lena Schreiner")
    assert lena[4] == "abgeschlossen"
    assert runner.invoke(args=["report", "progress", "--chamber", "nope"]).exit_code != 0
    xlsx = tmp_path / "report.xlsx"
    assert runner.invoke(args=["report", "progress", "--format", "xlsx", "--output", str(xlsx)]).exit_code == 0
    assert xlsx.read_bytes()[:2] == b"PK"
    with seeded.lti.app.app_context():
        assert db.session.execute(select(AuditEntry.action)).scalars().all() == ["report_exported", "report_exported"]


def test_export_rows_come_in_batches_without_losing_any(seeded: Seeded) -> None:
    """Large exports are read in batches; each batch must leave the session usable for the next one."""
    from lms.courses.setup import current_course
    from lms.dashboards.queries import Filters, export_rows
    from lms.users.scope import Scope

    seeded.add_volunteers(7, prefix="batch")
    with seeded.lti.app.test_request_context():
        scope = Scope((seeded.chamber_id,), None, "coordinator")
        names = [row.name for row in export_rows(scope, current_course(), Filters(), batch=2)]
    assert len(names) == 9 and len(set(names)) == 9
