"""The coordinators' pages: what they show, who may see them, and what they cost in SQL statements."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from lms.audit.models import AuditEntry
from lms.core.extensions import db
from lms.platforms.models import Chamber
from tests.conftest import assert_refused, page_text
from tests.dashboards.conftest import Seeded
from tests.progress.helpers import Browser

PAGES = ["dashboard/", "dashboard/volunteers", "dashboard/modules/", "dashboard/live", "dashboard/not-started"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_answers_the_coordinator_and_the_trainer(seeded: Seeded, path: str) -> None:
    for persona in ("coordinator", "trainer"):
        resp = Browser(seeded.lti, persona).get(path)
        assert resp.status_code == 200, (persona, path, resp.text[:500])


@pytest.mark.parametrize("path", [*PAGES, "dashboard/volunteers/1", "dashboard/volunteers/export", "audit/"])
def test_volunteers_get_403(seeded: Seeded, path: str) -> None:
    assert_refused(Browser(seeded.lti, "volunteer").get(path), 403)


def test_overview_counts_volunteers_tiers_and_modules(seeded: Seeded) -> None:
    text = page_text(Browser(seeded.lti, "coordinator").get("dashboard/").text)
    assert "Botschafter*innen 2" in text
    assert "Aktiv in den letzten 30 Tagen 2" in text
    assert "Abgeschlossene Module 1" in text
    assert "Alle Kammern" not in text  # only the central team sees the chambers side by side


def test_matrix_shows_states_and_filters(seeded: Seeded) -> None:
    coordinator = Browser(seeded.lti, "coordinator")
    text = page_text(coordinator.get("dashboard/volunteers").text)
    assert "2 Botschafter*innen gefunden." in text
    assert "Lena Schreiner" in text and "ohne Namen" in text
    assert "abgeschlossen" in text and "nicht begonnen" in text
    m1 = "m1-sicher-im-netz"
    done = page_text(coordinator.get(f"dashboard/volunteers?module={m1}&state=done").text)
    assert "1 Botschafter*in gefunden." in done and "Lena Schreiner" in done
    untouched = page_text(coordinator.get(f"dashboard/volunteers?module={m1}&state=not_started").text)
    assert "1 Botschafter*in gefunden." in untouched and "Lena Schreiner" not in untouched
    search = page_text(coordinator.get("dashboard/volunteers?q=schrei").text)
    assert "1 Botschafter*in gefunden." in search
    bad = coordinator.get("dashboard/volunteers?inactive=abc")
    assert bad.status_code == 422 and "ganze Zahl" in page_text(bad.text)


def test_detail_shows_whats_missing_and_is_logged(seeded: Seeded) -> None:
    coordinator = Browser(seeded.lti, "coordinator")
    lena = seeded.people["lena"]
    text = page_text(coordinator.get(f"dashboard/volunteers/{lena}").text)
    assert "Lena Schreiner" in text and "Es fehlt noch:" in text
    assert "Live-Tutorials besuchen: 0 von 1" in text
    assert "Selbstcheck" in text and "erledigt:" in text
    with seeded.lti.app.app_context():
        entry = db.session.execute(select(AuditEntry)).scalar_one()
        assert (entry.action, entry.subject_id, entry.actor_role) == ("volunteer_viewed", lena, "coordinator")


def test_nobody_crosses_chambers(seeded: Seeded) -> None:
    with seeded.lti.app.app_context():
        other = Chamber(slug="hwk-fremd", name="Fremde Kammer")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    stranger = seeded.add_volunteers(1, prefix="fremd", chamber_id=other_id)[0]
    coordinator = Browser(seeded.lti, "coordinator")
    assert coordinator.get(f"dashboard/volunteers/{stranger}").status_code == 404
    assert coordinator.get(f"dashboard/volunteers?chamber={other_id}").status_code == 404
    assert "Fremd" not in page_text(coordinator.get("dashboard/volunteers").text)


def test_the_central_team_sees_every_chamber(seeded: Seeded) -> None:
    with seeded.lti.app.app_context():
        other = Chamber(slug="hwk-fremd", name="Fremde Kammer")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
        db.session.get(Chamber, seeded.chamber_id).is_central = True
        db.session.commit()
    seeded.add_volunteers(3, prefix="fremd", chamber_id=other_id)
    coordinator = Browser(seeded.lti, "coordinator")
    text = page_text(coordinator.get("dashboard/").text)
    assert "Alle Kammern" in text and "Fremde Kammer" in text and "Gesamt 5" in text
    drill = page_text(coordinator.get(f"dashboard/volunteers?chamber={other_id}").text)
    assert "3 Botschafter*innen gefunden." in drill


def test_a_trainer_sees_only_their_courses(seeded: Seeded) -> None:
    from lms.users.models import LmsCourse

    with seeded.lti.app.app_context():
        other = LmsCourse(chamber_id=seeded.chamber_id, issuer=seeded.lti.double.issuer, context_id="anderer-kurs")
        db.session.add(other)
        db.session.commit()
        other_id = other.id
    seeded.add_volunteers(2, prefix="anders", course_id=other_id)
    trainer = page_text(Browser(seeded.lti, "trainer").get("dashboard/volunteers").text)
    assert "2 Botschafter*innen gefunden." in trainer and "Anders" not in trainer
    coordinator = page_text(Browser(seeded.lti, "coordinator").get("dashboard/volunteers").text)
    assert "4 Botschafter*innen gefunden." in coordinator
    assert Browser(seeded.lti, "trainer").get("dashboard/volunteers/export").status_code == 403


def test_export_has_exactly_the_filtered_rows_and_is_logged(seeded: Seeded) -> None:
    seeded.add_volunteers(3, prefix="zz")
    coordinator = Browser(seeded.lti, "coordinator")
    resp = coordinator.get("dashboard/volunteers/export?format=csv&delimiter=semicolon&q=zz")
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = resp.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:4] == ["Name", "Kammer", "Letzte Aktivität", "Fortschritt in %"]
    assert sorted(r[0] for r in rows[1:]) == ["ZZ Person 0000", "ZZ Person 0001", "ZZ Person 0002"]
    xlsx = coordinator.get("dashboard/volunteers/export?format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    with seeded.lti.app.app_context():
        actions = db.session.execute(select(AuditEntry.action)).scalars().all()
        assert actions == ["report_exported", "report_exported"]


def test_matrix_costs_the_same_statements_for_10_and_130_volunteers(seeded: Seeded, statements) -> None:  # noqa: ANN001
    coordinator = Browser(seeded.lti, "coordinator")
    coordinator.get("dashboard/volunteers")  # warm up (the launch session's first touch)
    seeded.add_volunteers(8)
    with statements() as small:
        assert coordinator.get("dashboard/volunteers?sort=progress").status_code == 200
    seeded.add_volunteers(120, prefix="w")
    with statements() as large:
        assert coordinator.get("dashboard/volunteers?sort=progress").status_code == 200
    assert small.count == large.count <= 10
    for path in (
        "dashboard/",
        "dashboard/modules/m1-sicher-im-netz",
        "dashboard/live",
        "dashboard/not-started",
        f"dashboard/volunteers/{seeded.people['lena']}",
    ):
        with statements() as page:
            assert coordinator.get(path).status_code == 200
        assert page.count <= 10, (path, page.count)
