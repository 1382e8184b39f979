"""The course-wide link ("Alle Module") reports the tier state to the LMS gradebook through the AGS outbox: completed
(activityProgress Completed, gradingProgress FullyGraded) once the highest tier is reached, whichever step
reaches it last. Checked against the platform double's gradebook over loopback HTTP."""

from __future__ import annotations

from lms.certificates import jobs
from lms.core.extensions import db
from lms.demo.platform_services import PlatformServices
from lms.grades.jobs import deliver_due
from tests.certificates.conftest import Certs


def _deliver(certs: Certs) -> None:
    with certs.lti.app.app_context():
        deliver_due()
        db.session.commit()


def _gradebook(certs: Certs) -> PlatformServices:
    return certs.lti.platform.server.app.extensions["platform_services"]  # type: ignore[attr-defined,no-any-return]


def test_completed_when_the_last_module_reaches_the_highest_tier(certs: Certs) -> None:
    certs.launch()  # the demo course's link shows the course as a whole
    lena = certs.user_id()
    certs.attend(lena, 2)
    certs.finish(lena)
    _deliver(certs)
    grade = _gradebook(certs).grade("demo-lena")
    assert grade is not None and grade.score_given == 100.0
    assert (grade.activity_progress, grade.grading_progress) == ("Completed", "FullyGraded")


def test_completed_when_attendance_reaches_the_highest_tier_after_the_modules(certs: Certs) -> None:
    certs.launch()
    lena = certs.user_id()
    certs.finish(lena)
    _deliver(certs)
    grade = _gradebook(certs).grade("demo-lena")
    assert grade is not None and grade.score_given == 100.0
    assert grade.activity_progress == "InProgress"  # every module, but no live tutorial yet

    certs.attend(lena, 2)
    with certs.lti.app.app_context():
        assert jobs.award_after_attendance_changes() == 2  # both tiers; the highest one queues the score
        db.session.commit()
    _deliver(certs)
    grade = _gradebook(certs).grade("demo-lena")
    assert grade is not None
    assert (grade.activity_progress, grade.grading_progress) == ("Completed", "FullyGraded")
