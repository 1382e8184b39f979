"""Attendance (polling, analytics callback, threshold, corrections, CSV), the end callback and recordings."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from lms.core.extensions import db
from lms.demo.bbb_double import _JWT  # the BBB side signs: its lenient codec (BBB secrets are short)
from tests.live_sessions.conftest import BBB_SECRET, LiveEnv, Person


def enter(live: LiveEnv, person: Person, sid: int) -> str:
    """Join through the tool and open the URL like a browser; returns the person's BBB userID."""
    resp = person.post(f"/{sid}/join", allow_redirects=False)
    assert resp.status_code == 303, resp.text[:500]
    assert requests.get(resp.headers["Location"], timeout=10).status_code == 200
    return parse_qs(urlsplit(resp.headers["Location"]).query)["userID"][0]


def room(live: LiveEnv, *, record: bool = False, duration: str = "60") -> tuple[int, Person, Person, Person]:
    trainer = live.person("trainer", name="Jonas")
    sid = live.schedule(trainer, record="1" if record else None, wait_for_moderator=None, duration=duration)
    anna, ben = live.person("volunteer", name="Anna"), live.person("volunteer", name="Ben")
    for person in (anna, ben):
        assert person.post(f"/{sid}/signup", allow_redirects=False).status_code == 303
    return sid, trainer, anna, ben


def attendance(live: LiveEnv, sid: int) -> dict[int, object]:
    from lms.live_sessions.models import Attendance

    with live.app.app_context():
        rows = {
            a.user_id: a for a in db.session.execute(select(Attendance).where(Attendance.session_id == sid)).scalars()
        }
        db.session.expunge_all()
        return rows


def test_polling_records_intervals_and_the_threshold_decides(live: LiveEnv) -> None:
    from lms.live_sessions import services
    from lms.live_sessions.client import get_client
    from lms.live_sessions.jobs import poll_attendance
    from lms.live_sessions.models import LiveSession

    sid, trainer, anna, ben = room(live)
    enter(live, trainer, sid)
    enter(live, anna, sid)
    ben_id = enter(live, ben, sid)
    with live.app.test_request_context():
        assert poll_attendance() == 1
    rows = attendance(live, sid)
    assert set(rows) == {trainer.user_id, anna.user_id, ben.user_id}
    assert rows[anna.user_id].intervals[-1]["open"] is True
    assert rows[trainer.user_id].role == "MODERATOR"

    # then 50 minutes for Anna (>= 75 % of 60), Ben leaves after 30
    meeting_id = live.session(sid).meeting_id
    with live.app.app_context():
        live_session = db.session.get(LiveSession, sid)
        client = get_client()
        t0 = dt.datetime.now(dt.UTC)
        services.record_poll(live_session, client.get_meeting_info(meeting_id), now=t0)
        services.record_poll(live_session, client.get_meeting_info(meeting_id), now=t0 + dt.timedelta(minutes=30))
        live.double.leave(meeting_id, ben_id)
        services.record_poll(live_session, client.get_meeting_info(meeting_id), now=t0 + dt.timedelta(minutes=50))
        db.session.commit()
    rows = attendance(live, sid)
    assert rows[anna.user_id].minutes >= 50 and rows[anna.user_id].attended is True
    assert 30 <= rows[ben.user_id].minutes < 45 and rows[ben.user_id].attended is False
    assert rows[ben.user_id].intervals[-1]["open"] is False
    assert rows[trainer.user_id].attended is False  # moderators are not counted as attendees

    live.app.config["LIVE_ATTENDED_PERCENT"] = 50
    with live.app.app_context():
        live_session = db.session.get(LiveSession, sid)
        services.record_poll(live_session, client.get_meeting_info(meeting_id), now=t0 + dt.timedelta(minutes=51))
        db.session.commit()
    assert attendance(live, sid)[anna.user_id].attended is True


def analytics_payload(meeting_id: str, people: dict[str, tuple[int, int]], start: dt.datetime) -> dict[str, object]:
    attendees = []
    for user_id, (joined, left) in people.items():
        attendees.append(
            {
                "ext_user_id": user_id,
                "name": user_id,
                "moderator": False,
                "joins": [(start + dt.timedelta(minutes=joined)).isoformat()],
                "leaves": [(start + dt.timedelta(minutes=left)).isoformat()],
                "duration": (left - joined) * 60,
            }
        )
    return {
        "version": "1.0",
        "meeting_id": meeting_id,
        "internal_meeting_id": "x",
        "data": {
            "metadata": {},
            "duration": 3600,
            "start": start.isoformat(),
            "finish": (start + dt.timedelta(hours=1)).isoformat(),
            "attendees": attendees,
        },
    }


def post_analytics(url: str, payload: dict[str, object], secret: str = BBB_SECRET) -> requests.Response:
    token = _JWT.encode({"exp": int(time.time()) + 3600}, secret, algorithm="HS512")
    return requests.post(
        url,
        data=json.dumps(payload),
        timeout=10,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )


def test_end_and_analytics_callbacks_complete_attendance(live: LiveEnv) -> None:
    sid, trainer, anna, ben = room(live)
    enter(live, trainer, sid)
    anna_bbb = enter(live, anna, sid)
    ben_bbb = enter(live, ben, sid)
    meeting_id = live.session(sid).meeting_id
    live.double.end(meeting_id)
    assert live.double.wait_for_callbacks(10)
    log = {c.kind: c.status for c in live.double.callback_log}
    assert log["end"] in (200, 202) and log["analytics"] == 200
    assert live.session(sid).meeting_ended_at is not None  # confirmed with BBB
    rows = attendance(live, sid)
    assert rows[anna.user_id].source == "analytics" and rows[anna.user_id].attended is False

    # a report with exact durations (and the same again: duplicates change nothing)
    live_session = live.session(sid)
    url = f"{live.tool.url}/live-callbacks/{live_session.callback_token}/analytics"
    start = dt.datetime(2030, 1, 1, 17, 0, tzinfo=dt.UTC)
    payload = analytics_payload(meeting_id, {anna_bbb: (0, 50), ben_bbb: (10, 40)}, start)
    for _ in range(2):
        assert post_analytics(url, payload).status_code == 200
    rows = attendance(live, sid)
    assert (rows[anna.user_id].minutes, rows[anna.user_id].attended) == (50, True)
    assert (rows[ben.user_id].minutes, rows[ben.user_id].attended) == (30, False)
    assert len(rows[anna.user_id].intervals) == 1

    assert post_analytics(url, payload, secret="wrong").status_code == 401
    assert requests.post(url, json=payload, timeout=10).status_code == 401
    wrong_token = f"{live.tool.url}/live-callbacks/nottherighttoken/analytics"
    assert post_analytics(wrong_token, payload).status_code == 404

    from lms.live_sessions.queries import attended_tutorials

    with live.app.app_context():
        assert attended_tutorials(anna.user_id) == 1
        assert attended_tutorials(ben.user_id) == 0


def test_end_callback_with_a_wrong_token_changes_nothing(live: LiveEnv) -> None:
    sid, trainer, anna, _ = room(live)
    enter(live, trainer, sid)
    meeting_id = live.session(sid).meeting_id
    token = live.session(sid).callback_token
    base = f"{live.tool.url}/live-callbacks"
    bad = requests.get(f"{base}/{'x' * 43}/end", params={"meetingID": meeting_id}, timeout=10)
    assert bad.status_code == 404
    other = requests.get(f"{base}/{token}/end", params={"meetingID": "someone-else"}, timeout=10)
    assert other.status_code == 400
    # right token, but BBB says the meeting still runs: a forged call ends nothing
    forged = requests.get(f"{base}/{token}/end", params={"meetingID": meeting_id}, timeout=10)
    assert forged.status_code == 202
    assert live.session(sid).meeting_ended_at is None
    assert meeting_id in live.double.meetings
    live.double.end(meeting_id)
    assert live.double.wait_for_callbacks(10)
    assert live.session(sid).meeting_ended_at is not None
    again = requests.get(f"{base}/{token}/end", params={"meetingID": meeting_id}, timeout=10)
    assert again.status_code == 200  # duplicates are fine


def test_corrections_keep_an_audit_trail_and_csv_export(live: LiveEnv) -> None:
    from lms.live_sessions.models import AttendanceCorrection

    sid, trainer, anna, ben = room(live)
    page = trainer.get(f"/{sid}/attendance")
    assert page.status_code == 200 and "Anna" in page.text and "Ben" in page.text
    assert anna.get(f"/{sid}/attendance").status_code == 403
    no_reason = trainer.post(f"/{sid}/attendance/{anna.user_id}", {"attended": "1", "reason": ""})
    assert no_reason.status_code == 422 and "Grund" in no_reason.text
    ok = trainer.post(
        f"/{sid}/attendance/{anna.user_id}", {"attended": "1", "reason": "Per Telefon dabei"}, allow_redirects=False
    )
    assert ok.status_code == 303
    with live.app.app_context():
        corrections = list(db.session.execute(select(AttendanceCorrection)).scalars())
        assert len(corrections) == 1
        c = corrections[0]
        assert (c.old_value, c.new_value, c.reason, c.corrected_by_id) == (
            False,
            True,
            "Per Telefon dabei",
            trainer.user_id,
        )
        assert c.corrected_at is not None
    assert "Per Telefon dabei" in trainer.get(f"/{sid}/attendance").text

    from lms.live_sessions.queries import attended_tutorials

    with live.app.app_context():
        assert attended_tutorials(anna.user_id) == 1

    export = trainer.get(f"/{sid}/attendance.csv")
    assert export.status_code == 200 and export.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Name" and rows[0][-1] == "Teilgenommen"
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Anna"][-1] == "ja" and by_name["Anna"][-2] == "ja" and by_name["Ben"][-1] == "nein"
    assert by_name["Anna"][1:3] == ["Teilnehmer*in", "angemeldet"]


@pytest.fixture
def recorded(live: LiveEnv):  # type: ignore[no-untyped-def]
    sid, trainer, anna, ben = room(live, record=True)
    enter(live, trainer, sid)
    enter(live, anna, sid)
    meeting_id = live.session(sid).meeting_id
    live.double.end(meeting_id)
    assert live.double.wait_for_callbacks(10)
    return sid, trainer, anna, meeting_id


def test_recordings_are_unpublished_by_default_and_managed_by_the_trainer(live: LiveEnv, recorded) -> None:
    sid, trainer, anna, meeting_id = recorded
    log = {c.kind: c.status for c in live.double.callback_log}
    assert log["recording_ready"] == 200
    ((record_id, bbb_rec),) = live.double.recordings.items()
    assert bbb_rec.state == "unpublished"  # the tool unpublished BBB's default
    page = trainer.get(f"/{sid}/recordings").text
    assert "offen, die den Link haben" in page and "unveröffentlicht" in page
    assert "Aufzeichnung ansehen" in page  # trainers can check it before publishing
    assert "Aufzeichnung ansehen" not in anna.get(f"/{sid}/recordings").text

    from lms.live_sessions.models import Recording

    with live.app.app_context():
        rec_id = db.session.execute(select(Recording.id)).scalar_one()
    assert trainer.post(f"/{sid}/recordings/{rec_id}/publish", allow_redirects=False).status_code == 303
    assert live.double.recordings[record_id].state == "published"
    volunteer_page = anna.get(f"/{sid}/recordings").text
    assert "Aufzeichnung ansehen" in volunteer_page and record_id in volunteer_page
    assert anna.post(f"/{sid}/recordings/{rec_id}/delete").status_code == 403

    # not the audience: another course's volunteer does not see the session nor its link
    from lms.users.models import LmsCourse

    with live.app.app_context():
        course = LmsCourse(chamber_id=live.chamber_id, issuer="https://lms.test", context_id="other")
        db.session.add(course)
        db.session.commit()
        other_course = course.id
    outsider = live.person("volunteer", course_id=other_course)
    assert outsider.get(f"/{sid}/recordings").status_code == 404

    assert trainer.post(f"/{sid}/recordings/{rec_id}/unpublish", allow_redirects=False).status_code == 303
    assert live.double.recordings[record_id].state == "unpublished"
    assert "Aufzeichnung ansehen" not in anna.get(f"/{sid}/recordings").text
    assert trainer.post(f"/{sid}/recordings/{rec_id}/delete", allow_redirects=False).status_code == 303
    assert live.double.recordings[record_id].state == "deleted"
    assert "Keine Aufzeichnungen" in trainer.get(f"/{sid}/recordings").text


def test_recording_ready_callback_is_authenticated_and_retention_deletes(live: LiveEnv, recorded) -> None:
    from lms.live_sessions.jobs import purge_recordings
    from lms.live_sessions.models import Recording

    sid, trainer, anna, meeting_id = recorded
    token = live.session(sid).callback_token
    url = f"{live.tool.url}/live-callbacks/{token}/recording-ready"
    ((record_id, _),) = live.double.recordings.items()
    forged = _JWT.encode({"meeting_id": meeting_id, "record_id": "evil"}, "not-the-secret", algorithm="HS256")
    assert requests.post(url, data={"signed_parameters": forged}, timeout=10).status_code == 401
    duplicate = _JWT.encode({"meeting_id": meeting_id, "record_id": record_id}, BBB_SECRET, algorithm="HS256")
    assert requests.post(url, data={"signed_parameters": duplicate}, timeout=10).status_code == 200
    with live.app.app_context():
        recs = list(db.session.execute(select(Recording)).scalars())
        assert len(recs) == 1 and recs[0].state == "unpublished"
        recs[0].delete_after = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
        db.session.commit()
        assert purge_recordings() == 1
        db.session.commit()
        assert db.session.execute(select(Recording.state)).scalar_one() == "deleted"
    assert live.double.recordings[record_id].state == "deleted"
