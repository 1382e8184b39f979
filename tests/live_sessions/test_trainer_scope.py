"""Trainers manage the live tutorials of their own courses only (like hand-ins); coordinators all of their
chamber's; co-hosts the ones they were added to."""

from __future__ import annotations

import datetime as dt

from lms.core.extensions import db
from tests.live_sessions.conftest import LiveEnv, Person


def _other_course(live: LiveEnv) -> int:
    from lms.users.models import LmsCourse

    with live.app.app_context():
        course = LmsCourse(chamber_id=live.chamber_id, issuer="https://lms.test", context_id="course-2", title="Zwei")
        db.session.add(course)
        db.session.commit()
        return course.id


def _answers(person: Person, sid: int) -> dict[str, int]:
    """Status of every trainer action on a session."""
    return {
        "detail": person.get(f"/{sid}").status_code,
        "edit": person.get(f"/{sid}/edit").status_code,
        "edit-post": person.post(f"/{sid}/edit", {"title": "Übernommen"}, allow_redirects=False).status_code,
        "cancel": person.get(f"/{sid}/cancel").status_code,
        "attendance": person.get(f"/{sid}/attendance").status_code,
        "csv": person.get(f"/{sid}/attendance.csv").status_code,
        "recordings": person.get(f"/{sid}/recordings").status_code,
        "join": person.post(f"/{sid}/join", allow_redirects=False).status_code,
        "status": person.get(f"/{sid}/status.json").status_code,
        "ics": person.get(f"/{sid}/calendar.ics").status_code,
    }


def test_a_trainer_of_another_course_can_do_nothing_with_a_course_tutorial(live: LiveEnv) -> None:
    owner = live.person("trainer")
    sid = live.schedule(owner, title="Nur Kurs eins", starts_in=dt.timedelta(minutes=5))
    outsider = live.person("trainer", course_id=_other_course(live))
    assert set(_answers(outsider, sid).values()) == {404}
    assert "Nur Kurs eins" not in outsider.get("/").text
    session = live.session(sid)
    assert session.title == "Nur Kurs eins" and not session.cancelled
    assert live.double.meetings == {}  # no room was opened for the outsider


def test_the_owner_a_co_host_a_course_colleague_and_the_coordinator_may_manage(live: LiveEnv) -> None:
    owner = live.person("trainer")
    other_course = _other_course(live)
    co_host = live.person("trainer", course_id=other_course)
    sid = live.schedule(owner, title="Gemeinsam", starts_in=dt.timedelta(days=1), co_trainers=str(co_host.user_id))
    colleague = live.person("trainer")  # a trainer of the same course
    coordinator = live.person("coordinator", course_id=None)
    for person in (owner, co_host, colleague, coordinator):
        answers = _answers(person, sid)
        assert answers["detail"] == answers["attendance"] == answers["csv"] == 200, answers
        assert answers["edit"] == 200
        assert "Gemeinsam" in person.get("/").text


def test_a_chamber_wide_tutorial_is_managed_by_its_people_not_by_every_trainer(live: LiveEnv) -> None:
    owner = live.person("trainer")
    sid = live.schedule(owner, title="Ganze Kammer", audience="chamber", starts_in=dt.timedelta(days=1))
    outsider = live.person("trainer", course_id=_other_course(live))
    assert outsider.get(f"/{sid}/attendance").status_code == 404
    assert outsider.get(f"/{sid}/edit").status_code == 404
    seen = outsider.get(f"/{sid}")
    assert seen.status_code == 200 and f"/{sid}/edit" not in seen.text  # seen as a participant, not managed
    volunteer = live.person("volunteer", course_id=None)
    assert volunteer.get(f"/{sid}").status_code == 200  # volunteers of the chamber still see and sign up
