"""The award rule: a tier is awarded once when its modules are complete and its tutorials attended; the award
survives content changes and attendance corrections; revocation is explicit and sticks."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select, update

from lms.certificates import jobs, services
from lms.certificates.models import Award
from lms.core.db import utcnow
from lms.core.extensions import db
from lms.courses.setup import current_course, set_course
from lms.live_sessions.models import Attendance
from lms.progress import queries as progress_queries
from tests.certificates.conftest import FIRST_TIER, HIGHEST_TIER, Certs

M1 = "m1-sicher-im-netz"
M2 = "m2-live-beraten-mit-bigbluebutton"
M6 = "m6-recht-am-bild-und-datenschutz"


def test_tier_is_awarded_once_with_module_versions_date_and_chamber(certs: Certs) -> None:
    certs.launch()
    lena = certs.user_id()
    certs.attend(lena, 1)
    certs.finish(lena, [M1, M2])
    assert certs.awards(lena) == []  # M6 is missing for the first tier
    certs.finish(lena, [M6])  # the progress change awards the tier at once

    [award] = certs.awards(lena)
    assert award.tier_id == FIRST_TIER and award.tier_title == "Digital startklar"
    assert award.module_versions == {M1: "2.0", M2: "2.0", M6: "2.0"}
    assert award.tutorials_attended == 1 and award.revoked_at is None and award.superseded_by is None
    assert award.display_name == "Lena Schreiner"  # as the LMS sent it
    assert len(award.id) == 22 and not award.id.isdigit()
    assert award.recipient_salt and len(award.recipient_salt) == 32
    with certs.lti.app.app_context():
        assert award.chamber_id == db.session.get(Award, award.id).user.chamber_id  # type: ignore[union-attr]
        modules = award.details["modules"]
        assert [m["id"] for m in modules] == [M1, M2, M6]
        assert ["4.1", 4] in modules[0]["competences"]
        # idempotent: asking again, or another progress change, adds nothing
        assert services.award_if_reached(lena) == []
        db.session.commit()
    certs.finish(lena, [M1])
    assert len(certs.awards(lena)) == 1


def test_highest_tier_needs_every_module_and_two_tutorials(certs: Certs) -> None:
    certs.launch()
    lena = certs.user_id()
    certs.finish(lena)
    assert certs.awards(lena) == []  # all modules, but no tutorial
    certs.attend(lena, 1)
    with certs.lti.app.app_context():
        assert [a.tier_id for a in services.award_if_reached(lena)] == [FIRST_TIER]
        db.session.commit()
    certs.attend(lena, 1)
    with certs.lti.app.app_context():
        assert jobs.award_after_attendance_changes() == 1  # the daily scan finds the changed attendance
        db.session.commit()
        assert jobs.award_after_attendance_changes() == 0  # and is idempotent
    assert sorted(a.tier_id for a in certs.awards(lena)) == sorted([FIRST_TIER, HIGHEST_TIER])


def test_an_attendance_correction_awards_through_the_daily_job_and_never_takes_an_award_away(certs: Certs) -> None:
    certs.launch()
    lena = certs.user_id()
    [first, second] = certs.attend(lena, 2, attended=False)  # present too briefly
    certs.finish(lena)
    assert certs.awards(lena) == []
    with certs.lti.app.app_context():  # a trainer corrects both (lms.live_sessions writes the override)
        db.session.execute(
            update(Attendance)
            .where(Attendance.session_id.in_([first, second]))
            .values(attended_override=True, updated_at=utcnow())
        )
        db.session.commit()
        assert jobs.award_after_attendance_changes() == 2
        db.session.commit()
    assert {a.tier_id for a in certs.awards(lena)} == {FIRST_TIER, HIGHEST_TIER}

    with certs.lti.app.app_context():  # corrected back: the awards stay (revocation is explicit)
        db.session.execute(update(Attendance).values(attended_override=False, updated_at=utcnow()))
        db.session.commit()
        assert jobs.award_after_attendance_changes() == 0
        db.session.commit()
    awards = certs.awards(lena)
    assert len(awards) == 2 and all(a.revoked_at is None for a in awards)


def test_content_changes_keep_the_award_as_it_was(certs: Certs) -> None:
    _browser, lena = certs.reach_highest()
    before = certs.award(lena)
    app = certs.lti.app
    with app.app_context():
        course = current_course()
        changed = dataclasses.replace(
            course,
            modules=tuple(
                dataclasses.replace(
                    m,
                    version="3.0",
                    title=m.title + " (neu)",
                    items=(*m.items, dataclasses.replace(m.items[0], id="m1-neue-lektion")),
                )
                if m.id == M1
                else m
                for m in course.modules
            ),
        )
        set_course(app, changed)
        try:
            # a new lesson and a new version of M1: whatever today's content makes of the progress, the award is
            # never recomputed: it keeps the version, the title and its validity
            assert services.award_if_reached(lena) == []
            db.session.commit()
            after = db.session.get(Award, before.id)
            assert after is not None
            assert after.module_versions[M1] == "2.0" and after.revoked_at is None
            assert after.details["modules"][0]["title"] == before.details["modules"][0]["title"]
            assert not after.details["modules"][0]["title"].endswith("(neu)")
        finally:
            set_course(app, course)


def test_revocation_sticks_and_reissue_replaces(certs: Certs) -> None:
    _browser, lena = certs.reach_highest()
    award = certs.award(lena)
    with certs.lti.app.app_context():
        row = db.session.get(Award, award.id)
        assert row is not None
        services.revoke(row, "Versehentlich vergeben")
        db.session.commit()
        assert services.award_if_reached(lena) == []  # a revoked tier is not awarded again by the rule
        db.session.commit()
        row = db.session.get(Award, award.id)
        assert row is not None and row.state == "revoked"
        new = services.reissue(row)
        db.session.commit()
        new_id = new.id
        current = db.session.execute(
            select(Award).where(Award.user_id == lena, Award.tier_id == HIGHEST_TIER, Award.superseded_by.is_(None))
        ).scalar_one()
        assert current.id == new_id and current.revoked_at is None
        old = db.session.get(Award, award.id)
        assert old is not None and old.superseded_by == new_id and old.state == "superseded"
        assert current.module_versions == old.module_versions and current.recipient_salt != old.recipient_salt


def test_two_awards_of_one_tier_cannot_exist(certs: Certs) -> None:
    """Two requests checking the tiers at once: the current-award index lets one insert, the other none."""
    _browser, lena = certs.reach_highest()
    with certs.lti.app.app_context():
        from lms.users.models import User

        user = db.session.get(User, lena)
        assert user is not None
        tier = progress_queries.qualification_progress(lena, progress_queries.course_progress(lena))[-1]
        assert tier.achieved
        assert services._insert(user, tier) is None  # the second insert of the race does nothing
        db.session.commit()
    assert len([a for a in certs.awards(lena) if a.tier_id == HIGHEST_TIER]) == 1
