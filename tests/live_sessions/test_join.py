"""Joining: just-in-time idempotent create, MODERATOR/VIEWER join URLs the double accepts, the early-entry
window, the waiting page, concurrent joins, and BBB failures (hanging, checksumError, not configured)."""

from __future__ import annotations

import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.conftest import page_text
from tests.live_sessions.conftest import LiveEnv, Person

POSTGRES = os.environ.get("MEDIENWERK_TEST_DATABASE_URI", "").startswith("postgresql")


def forget_meeting_state(live: LiveEnv, session_id: int) -> None:
    from lms.core.extensions import db
    from lms.live_sessions import meetings
    from lms.live_sessions.models import LiveSession

    with live.app.app_context():
        meetings.forget(db.session.get(LiveSession, session_id))


def join(person: Person, session_id: int, **data: str) -> requests.Response:
    return person.post(f"/{session_id}/join", data, allow_redirects=False)


def signed_up(live: LiveEnv, session_id: int, **kwargs) -> Person:
    volunteer = live.person("volunteer", **kwargs)
    resp = volunteer.post(f"/{session_id}/signup", allow_redirects=False)
    assert resp.status_code == 303, resp.text[:500]
    return volunteer


def test_trainer_join_creates_one_meeting_and_gets_a_moderator_url(live: LiveEnv) -> None:
    trainer = live.person("trainer", name="Jonas Becker")
    sid = live.schedule(trainer, record="1", welcome="Willkommen!")
    meeting_id = live.session(sid).meeting_id

    resp = join(trainer, sid)
    assert resp.status_code == 303, resp.text[:1000]
    url = resp.headers["Location"]
    assert url.startswith(live.bbb.url + "api/join?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query["role"] == "MODERATOR"
    assert query["meetingID"] == meeting_id
    assert query["fullName"] == "Jonas Becker"
    assert "@" not in query["userID"] and len(query["userID"]) <= 20
    assert query["createTime"] == str(live.session(sid).meeting_create_time)

    # the double accepts it: the browser lands in the room as moderator
    room = requests.get(url, timeout=10)
    assert room.status_code == 200 and "<dt>Deine Rolle</dt><dd>Moderator*in</dd>" in room.text

    # a second join: no second create
    resp2 = join(trainer, sid)
    assert resp2.status_code == 303
    assert live.double.call_count("create") == 1
    assert live.double.create_count(meeting_id) == 1
    meeting = live.double.meetings[meeting_id]
    assert meeting.metadata["medienwerk-chamber"] == "hwk-live"
    assert meeting.metadata["medienwerk-session"] == str(sid)
    assert meeting.metadata["bbb-origin"] == "medienwerk"
    assert f"/live-callbacks/{live.session(sid).callback_token}/end" in meeting.metadata["endcallbackurl"]
    assert "/recording-ready" in meeting.metadata["bbb-recording-ready-url"]
    assert "/analytics" in meeting.metadata["analytics-callback-url"]
    assert meeting.record and meeting.params["muteOnStart"] == "true"
    assert meeting.params["meetingKeepEvents"] == "true"


def test_volunteer_waits_for_the_trainer_then_joins_as_viewer(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, wait_for_moderator="1", record="1")
    volunteer = signed_up(live, sid, name="Lena Schreiner")

    detail = volunteer.get(f"/{sid}")
    assert 'target="_blank"' in detail.text and "Jetzt beitreten" in detail.text
    assert "Wird aufgezeichnet" in detail.text

    early = join(volunteer, sid)
    assert early.status_code == 200
    assert "noch nicht geöffnet" in page_text(early.text)
    assert "Wird aufgezeichnet" in early.text
    assert "Seite neu laden" in early.text and "live-sessions.js" in early.text
    assert live.double.call_count("create") == 0
    status = volunteer.get(f"/{sid}/status.json").json()
    assert status["open"] is True and status["ready"] is False

    assert join(trainer, sid).status_code == 303
    live.double.join(live.session(sid).meeting_id, "Jonas", "MODERATOR", user_id="someone")
    forget_meeting_state(live, sid)  # the shared cache still says "no moderator" for a few seconds
    assert volunteer.get(f"/{sid}/status.json").json()["ready"] is True
    resp = join(volunteer, sid)
    assert resp.status_code == 303
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["role"] == ["VIEWER"] and query["fullName"] == ["Lena Schreiner"]
    room = requests.get(resp.headers["Location"], timeout=10)
    assert "<dt>Deine Rolle</dt><dd>Teilnehmer*in</dd>" in room.text
    assert live.double.call_count("create") == 1


def test_join_only_from_early_entry_to_the_end(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    later = live.schedule(trainer, starts_in=dt.timedelta(minutes=40), early_entry="15")
    volunteer = signed_up(live, later)
    page = volunteer.get(f"/{later}")
    assert "Jetzt beitreten" not in page.text and "erscheint 15 Minuten vor Beginn" in page_text(page.text)
    assert join(volunteer, later).status_code == 409
    assert join(trainer, later).status_code == 409
    assert live.double.call_count("create") == 0

    soon = live.schedule(trainer, starts_in=dt.timedelta(minutes=10), early_entry="15")
    assert join(trainer, soon).status_code == 303


def test_volunteer_must_be_signed_up_and_name_is_asked_when_withheld(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, wait_for_moderator=None)
    stranger = live.person("volunteer")
    assert join(stranger, sid).status_code == 403

    private = signed_up(live, sid, name=None, email=None)
    page = private.get(f"/{sid}")
    assert 'name="display_name"' in page.text
    assert join(private, sid).status_code == 422
    resp = join(private, sid, display_name="Timo")
    assert resp.status_code == 303
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["fullName"] == ["Timo"] and query["role"] == ["VIEWER"]
    # without wait-for-moderator, the volunteer's join created the meeting
    assert live.double.call_count("create") == 1


def test_user_id_is_a_stable_pseudonym(live: LiveEnv) -> None:
    trainer = live.person("trainer", email="jonas@example.org")
    sid = live.schedule(trainer)
    first = parse_qs(urlsplit(join(trainer, sid).headers["Location"]).query)["userID"][0]
    second = parse_qs(urlsplit(join(trainer, sid).headers["Location"]).query)["userID"][0]
    assert first == second and "jonas" not in first


def test_hanging_bbb_gives_a_clear_message_quickly(live: LiveEnv) -> None:
    live.app.config["BBB_TIMEOUT"] = 1.0
    trainer = live.person("trainer")
    sid = live.schedule(trainer)
    live.double.hang_seconds = 10
    started = time.monotonic()
    resp = join(trainer, sid)
    elapsed = time.monotonic() - started
    live.double.release_hangs()
    assert elapsed < 5
    assert resp.status_code == 503
    text = page_text(resp.text)
    assert "nicht rechtzeitig geantwortet" in text and "Noch einmal versuchen" in text
    assert f"/live/{sid}/join" in resp.text  # the retry button
    # the retry works once BBB answers again
    assert join(trainer, sid).status_code == 303


def test_checksum_error_is_a_configuration_problem_for_coordinators(live: LiveEnv, caplog) -> None:
    from tests.live_sessions.conftest import BBB_SECRET

    live.app.config["BBB_SECRET"] = "wrong-secret"
    trainer = live.person("trainer")
    sid = live.schedule(trainer)
    resp = join(trainer, sid)
    assert resp.status_code == 502
    assert "falsch eingerichtet" in page_text(resp.text)
    assert "checksumError" in caplog.text and "wrong-secret" not in caplog.text and BBB_SECRET not in caplog.text
    coordinator = live.person("coordinator")
    resp = join(coordinator, sid)
    assert "Konfigurationsproblem" in resp.text and "MEDIENWERK_BBB_SECRET" in resp.text
    assert "Konfigurationsproblem" in coordinator.get("/").text


def test_bbb_not_configured_is_said_clearly(live: LiveEnv) -> None:
    live.app.config["BBB_URL"] = None
    trainer = live.person("trainer")
    sid = live.schedule(trainer)
    page = trainer.get("/")
    assert page.status_code == 200 and "noch nicht eingerichtet" in page.text
    assert "noch nicht eingerichtet" in trainer.get(f"/{sid}").text
    resp = join(trainer, sid)
    assert resp.status_code == 503 and "kein BigBlueButton-Server" in resp.text


@pytest.mark.skipif(not POSTGRES, reason="row locks need PostgreSQL (MEDIENWERK_TEST_DATABASE_URI)")
def test_concurrent_joins_create_exactly_one_meeting(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, wait_for_moderator=None)
    volunteers = [signed_up(live, sid) for _ in range(12)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(pool.map(lambda v: join(v, sid), volunteers))
    assert [r.status_code for r in results] == [303] * 12
    meeting_id = live.session(sid).meeting_id
    assert live.double.call_count("create") == 1
    assert live.double.create_count(meeting_id) == 1
    times = {parse_qs(urlsplit(r.headers["Location"]).query)["createTime"][0] for r in results}
    assert len(times) == 1
