"""Roster sync from NRPS over loopback HTTP: paging, short roles, privacy, status changes, not started."""

from __future__ import annotations

import re

import requests
from sqlalchemy import select

from lms.core.extensions import db
from lms.rosters.queries import members_not_started
from lms.users.models import LmsCourse
from tests.conftest import assert_refused, form_fields, page_text
from tests.rosters.conftest import Rosters


def test_sync_reads_every_page_with_case_kept_urls(rosters: Rosters) -> None:
    rosters.lti.launch("trainer")
    rosters.services.nrps_page_size = 3
    rosters.add_members(8)  # 4 personas + 8 = 12 members, 4 pages
    result = rosters.sync()
    assert result is not None and result.members == 12  # type: ignore[attr-defined]
    pages = [p for m, p in rosters.services.requests_log if "/memberships" in p]
    assert len(pages) == 4
    assert all("/CourseSection/" in p for p in pages)
    members = rosters.members()
    assert len(members) == 12
    assert sum(1 for m in members.values() if m.status == "Active") == 12
    assert rosters.services.token_requests[rosters.lti.double.client_id] == 1


def test_short_role_names_are_mapped(rosters: Rosters) -> None:
    rosters.lti.launch("trainer")
    rosters.sync()
    members = rosters.members()
    assert members["demo-lena"].roles == ["Learner"] and members["demo-lena"].role == "volunteer"
    assert members["demo-jonas"].roles == ["Instructor"] and members["demo-jonas"].role == "trainer"
    # Moodle lists site administrators as Instructor + person#Administrator: coordinators, as at launch
    assert members["demo-aylin"].role == "coordinator"


def test_members_without_names_or_emails(rosters: Rosters) -> None:
    rosters.lti.launch("trainer")
    rosters.services.share_names = False
    rosters.services.share_email = False
    rosters.sync()
    lena = rosters.members()["demo-lena"]
    assert (lena.name, lena.given_name, lena.family_name, lena.email) == (None, None, None, None)
    rosters.services.share_names = rosters.services.share_email = True
    rosters.sync()
    lena = rosters.members()["demo-lena"]
    assert (lena.name, lena.email) == ("Lena Schreiner", "lena.schreiner@example.org")
    rosters.services.share_email = False  # withheld again: removed here too
    rosters.sync()
    assert rosters.members()["demo-lena"].email is None


def test_status_changes_and_members_who_left(rosters: Rosters) -> None:
    rosters.lti.launch("trainer")
    rosters.add_members(2)
    rosters.sync()
    rosters.services.members[0].status = "Inactive"  # lena
    rosters.services.members = [m for m in rosters.services.members if m.user_id != "m001"]
    result = rosters.sync()
    assert result.status_changed == 1 and result.removed == 1  # type: ignore[attr-defined]
    members = rosters.members()
    assert members["demo-lena"].status == "Inactive"
    assert members["m001"].status == "Deleted"
    rosters.services.members[0].status = "Active"
    rosters.sync()
    assert rosters.members()["demo-lena"].status == "Active"


def test_enrolled_but_not_started(rosters: Rosters) -> None:
    rosters.lti.launch("trainer")
    rosters.lti.launch("volunteer")  # launched, no progress yet
    rosters.add_members(1, prefix="never-")
    rosters.sync()
    with rosters.app.app_context():
        rows = members_not_started(db.session.get_one(LmsCourse, rosters.course_id()))
        db.session.rollback()
    found = {r.platform_user_id: r.launched for r in rows}
    assert found == {"demo-lena": True, "demo-timo": False, "never-000": False}


def test_trainer_syncs_on_demand_and_sees_the_list(rosters: Rosters) -> None:
    landing = rosters.lti.launch("trainer")
    assert "Teilnehmende" in page_text(landing.text)
    page = requests.get(landing.url + "roster/", timeout=10)
    assert page.status_code == 200
    assert "Jetzt mit der Lernplattform abgleichen" in page.text
    action, fields = form_fields(page.text)
    assert action.endswith("/roster/sync")
    from lms.core.jobs import jobs

    jobs.huey.immediate = True  # the sync runs as a background job: here at once, after the request's commit
    done = requests.post(rosters.lti.tool.url + action if action.startswith("/") else action, data=fields, timeout=10)
    assert done.status_code == 200
    assert "läuft im Hintergrund" in page_text(done.text)
    text = page_text(requests.get(landing.url + "roster/", timeout=10).text)
    assert "Lena Schreiner" in text and "Eingeschrieben, aber noch nicht angefangen" in text
    # CSP: no inline script or style (scripts from lms/static/ are fine)
    assert not re.search(r"<script(?![^>]*\bsrc=)", done.text) and "style=" not in done.text


def test_volunteers_cannot_see_the_roster(rosters: Rosters) -> None:
    landing = rosters.lti.launch("volunteer")
    assert_refused(requests.get(landing.url + "roster/", timeout=10), 403)


def test_periodic_job_syncs_known_courses_and_records_errors(rosters: Rosters) -> None:
    from lms.rosters.jobs import sync_rosters
    from lms.rosters.models import RosterSource

    rosters.lti.launch("volunteer")
    with rosters.app.app_context():
        assert sync_rosters() == 1
    assert len(rosters.members()) == 4
    rosters.services.outage = True
    with rosters.app.app_context():
        assert sync_rosters() == 0
        source = db.session.execute(db.select(RosterSource)).scalar_one()
        assert source.last_error_code == "unavailable" and source.last_synced_at is not None


def test_without_nrps_claim_there_is_no_roster(rosters: Rosters) -> None:
    rosters.services.nrps_enabled = False
    landing = rosters.lti.launch("trainer")
    assert rosters.sync() is None
    page = requests.get(landing.url + "roster/", timeout=10)
    assert "noch keine Teilnehmendenliste" in page_text(page.text)


def test_a_runaway_roster_is_refused(rosters: Rosters) -> None:
    rosters.lti.app.config["ROSTER_MAX_MEMBERS"] = 1
    rosters.lti.launch("trainer")
    assert rosters.sync() is None  # more members than allowed: recorded as an error, nothing stored
    assert rosters.members() == {}
    from lms.rosters.models import RosterSource

    with rosters.lti.app.app_context():
        source = db.session.execute(select(RosterSource)).scalar_one()
        assert source.last_error_code == "too_large"
