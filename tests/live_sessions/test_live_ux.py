"""The live tutorials as people meet them: where BBB sends them when they leave, the attendance list and its
CSV, downloads with one charset, reminders that tell the real time, German wording, dates per language."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from urllib.parse import urljoin

import requests
from sqlalchemy import select

from lms.core.extensions import db
from tests.conftest import page_text
from tests.live_sessions.conftest import LiveEnv, Person


def enter(person: Person, sid: int, **data: str) -> str:
    """Join through the tool and open the room like a browser; returns the BBB join URL."""
    resp = person.post(f"/{sid}/join", data, allow_redirects=False)
    assert resp.status_code == 303, resp.text[:500]
    url = resp.headers["Location"]
    assert requests.get(url, timeout=10).status_code == 200
    return url


# ---------------------------------------------------------------------------------------------------------
# (6) logoutURL: back to the tool, not to BBB's own page
# ---------------------------------------------------------------------------------------------------------


def test_leaving_the_room_leads_to_the_tools_page_about_the_tutorial(live: LiveEnv) -> None:
    trainer = live.person("trainer", name="Jonas")
    sid = live.schedule(trainer, title="Phishing erkennen", wait_for_moderator=None, record="1")
    volunteer = live.person("volunteer", name="Anna")
    assert volunteer.post(f"/{sid}/signup", allow_redirects=False).status_code == 303
    enter(trainer, sid)
    join_url = volunteer.post(f"/{sid}/join", allow_redirects=False).headers["Location"]

    # the double recorded the logoutURL of the create call: absolute, in the tool, no launch token in it
    meeting = live.double.meetings[live.session(sid).meeting_id]
    logout = meeting.params["logoutURL"]
    assert logout.startswith(live.tool.url + f"/live-left/{sid}/")
    assert "/t/" not in logout and trainer.token not in logout and volunteer.token not in logout

    # in the room, "Leave" (the double's client page) sends the browser there
    with requests.Session() as browser:
        room = browser.get(join_url, timeout=10)
        token = re.search(r'name="sessionToken" value="([^"]+)"', room.text)
        assert token, room.text[:500]
        left = browser.post(urljoin(room.url, "leave"), data={"sessionToken": token.group(1)}, timeout=10)
    assert left.url == logout
    assert left.status_code == 200
    text = page_text(left.text)
    assert "Du hast den Raum verlassen" in text and "Phishing erkennen" in text
    assert "Aufzeichnung" in text  # recorded: where to find it later
    assert "Jonas" not in text and "Anna" not in text  # a page without a launch names nobody
    assert "Werkzeugleiste" not in left.text  # the window's minimal header, no tool menu

    # the page exists only for real sessions
    assert requests.get(logout[:-4] + "0000", timeout=10).status_code == 404
    assert requests.get(f"{live.tool.url}/live-left/999/{logout.rsplit('/', 1)[1]}", timeout=10).status_code == 404


def test_the_waiting_window_has_a_minimal_header_and_gender_fair_words(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, wait_for_moderator="1")
    volunteer = live.person("volunteer")
    volunteer.post(f"/{sid}/signup")
    waiting = volunteer.post(f"/{sid}/join", allow_redirects=False)
    assert waiting.status_code == 200
    assert "Werkzeugleiste" not in waiting.text and "Live-Tutorials</a>" not in waiting.text
    text = page_text(waiting.text)
    assert "Gleich geht’s los" in waiting.text and "geht's" not in waiting.text
    assert "Trainer*in hat" not in text and "Sobald sie im Raum ist" in text
    assert 'data-text-open="Der Raum ist offen.' in waiting.text  # the script's texts come translated
    form = trainer.get("/new").text
    assert "bis die Moderation im Raum ist" in form and "eine Moderator*in" not in form


# ---------------------------------------------------------------------------------------------------------
# (7) attendance: names only, moderation apart, German CSV, one charset
# ---------------------------------------------------------------------------------------------------------


def test_attendance_lists_names_and_the_moderation_apart(live: LiveEnv) -> None:
    from lms.live_sessions.jobs import poll_attendance

    trainer = live.person("trainer", name="Jonas Becker")
    sid = live.schedule(trainer, wait_for_moderator=None)
    anna = live.person("volunteer", name="Anna")
    nameless = live.person("volunteer", name=None)
    for person in (anna, nameless):
        assert person.post(f"/{sid}/signup", allow_redirects=False).status_code == 303
    enter(trainer, sid)
    enter(anna, sid)
    with live.app.test_request_context():
        assert poll_attendance() == 1
    from lms.live_sessions.models import LiveProfile

    with live.app.app_context():
        pseudonyms = dict(db.session.execute(select(LiveProfile.user_id, LiveProfile.pseudonym)).all())

    page = trainer.get(f"/{sid}/attendance").text
    participants = page.split('id="moderation"')[0]
    moderation = page.split('id="moderation"')[1]
    assert "Jonas Becker" not in participants  # the trainer is not an absent participant …
    assert "Jonas Becker" in moderation  # … but listed as the moderation
    assert "Anna" in participants and pseudonyms[anna.user_id] not in page  # names without internal ids
    assert f"Pseudonym im Raum: {pseudonyms[nameless.user_id]}" in page_text(participants)
    # moderators cannot be "corrected" into participants
    assert trainer.post(f"/{sid}/attendance/{trainer.user_id}", {"attended": "1", "reason": "x" * 5}).status_code == (
        404
    )

    export = trainer.get(f"/{sid}/attendance.csv")
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"  # the charset exactly once
    body = export.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    assert rows[0] == [
        "Name",
        "Rolle",
        "Anmeldung",
        "Minuten im Raum",
        "Teilgenommen (berechnet)",
        "Korrektur",
        "Teilgenommen",
    ]
    by_name = {r[0]: r for r in rows[1:]}
    assert by_name["Anna"][1:3] == ["Teilnehmer*in", "angemeldet"]
    assert by_name["Jonas Becker"][1:3] == ["Moderator*in", "nicht angemeldet"]
    assert by_name["Jonas Becker"][4:] == ["", "", ""]  # a moderator's attendance does not count
    assert rows[-1][0] == "Jonas Becker"  # the moderation after the participants
    assert f"ohne Namen (Pseudonym {pseudonyms[nameless.user_id]})" in by_name
    for raw in ("MODERATOR", "VIEWER", "confirmed", "waitlisted"):
        assert raw not in body
    assert pseudonyms[anna.user_id] not in body and pseudonyms[trainer.user_id] not in body


def test_calendar_downloads_send_the_charset_once(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, starts_in=dt.timedelta(days=1))
    volunteer = live.person("volunteer")
    volunteer.post(f"/{sid}/signup")
    ics = volunteer.get(f"/{sid}/calendar.ics")
    assert ics.status_code == 200 and ics.headers["Content-Type"] == "text/calendar; charset=utf-8"
    feed_url = re.search(r'id="feed-url"[^>]*value="([^"]+)"', volunteer.get("/calendar").text)
    assert feed_url
    feed = requests.get(feed_url.group(1), timeout=10)
    assert feed.status_code == 200 and feed.headers["Content-Type"] == "text/calendar; charset=utf-8"


# ---------------------------------------------------------------------------------------------------------
# (8) reminders say the real time, and none right after a late sign-up
# ---------------------------------------------------------------------------------------------------------


def test_a_late_sign_up_gets_no_one_hour_reminder_and_late_reminders_tell_the_real_time(live: LiveEnv) -> None:
    from lms.live_sessions.services import send_reminders
    from lms.live_sessions.timeutil import utc_to_local

    trainer = live.person("trainer")
    in_six = live.schedule(trainer, title="Gleich", starts_in=dt.timedelta(minutes=6))
    in_two_hours = live.schedule(trainer, title="Später", starts_in=dt.timedelta(hours=2))
    anna = live.person("volunteer", name="Anna")
    for sid in (in_six, in_two_hours):
        assert anna.post(f"/{sid}/signup", allow_redirects=False).status_code == 303

    with live.app.app_context():
        assert send_reminders() == 0  # signed up 6 minutes before: no "it starts soon" mail
        db.session.commit()
    assert live.mails("live-reminder") == []

    # the other tutorial: signed up two hours ahead; the job runs late, 6 minutes before the start
    starts = live.session(in_two_hours).starts_at
    with live.app.app_context():
        assert send_reminders(now=starts - dt.timedelta(minutes=6)) == 1
        db.session.commit()
    [mail] = live.mails("live-reminder")
    clock = f"{utc_to_local(starts, 'Europe/Berlin'):%H:%M}"
    assert f"In 6 Minuten, um {clock} Uhr, geht es los:" in mail.body
    assert "in einer Stunde" not in mail.body.lower()
    assert "Der Raum öffnet um " in mail.body


def test_reminder_lead_says_today_tomorrow_or_the_day() -> None:
    from types import SimpleNamespace

    from lms.live_sessions.services import reminder_lead

    start = dt.datetime(2030, 3, 7, 17, 0, tzinfo=dt.UTC)  # Thursday, 18:00 in Berlin
    live = SimpleNamespace(starts_at=start, timezone="Europe/Berlin")
    assert reminder_lead(live, start - dt.timedelta(minutes=1)) == "In einer Minute, um 18:00 Uhr, geht es los"
    assert reminder_lead(live, start - dt.timedelta(hours=5)) == "Heute um 18:00 Uhr geht es los"
    assert reminder_lead(live, start - dt.timedelta(hours=23)) == "Morgen um 18:00 Uhr geht es los"
    assert reminder_lead(live, start - dt.timedelta(days=3)) == "Am Donnerstag, 07.03.2030, um 18:00 Uhr, geht es los"


# ---------------------------------------------------------------------------------------------------------
# (10) wording, (11) layout, dates per language, gettext in the views
# ---------------------------------------------------------------------------------------------------------


def test_places_and_recordings_in_good_german(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, capacity="1", record="1")
    volunteer = live.person("volunteer")
    detail = volunteer.get(f"/{sid}")
    text = page_text(detail.text)
    assert "0 von 1 Platz belegt" in text and "Plätzen" not in text
    assert text.count("Wird aufgezeichnet") == 1  # the notice once, next to the sign-up
    assert "Moderator*in" not in page_text(trainer.get(f"/{sid}").text)


def test_recording_actions_say_what_happened(live: LiveEnv) -> None:
    from lms.live_sessions.models import Recording

    trainer = live.person("trainer")
    sid = live.schedule(trainer, record="1", wait_for_moderator=None)
    enter(trainer, sid)
    live.double.end(live.session(sid).meeting_id)
    assert live.double.wait_for_callbacks(10)
    with live.app.app_context():
        rec_id = db.session.execute(select(Recording.id)).scalar_one()
    page = trainer.post(f"/{sid}/recordings/{rec_id}/publish")
    text = page_text(page.text)
    assert "Erledigt." not in text
    assert "Veröffentlicht: Alle, für die dieses Tutorial gedacht ist, sehen die Aufzeichnung jetzt" in text
    assert "1 Aufzeichnung ansehen" in page_text(trainer.get(f"/{sid}").text)


def test_layout_fixes_on_the_trainer_card_and_the_calendar_page(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    home = trainer.http.get(f"{live.tool.url}/t/{trainer.token}/", timeout=10).text
    assert re.search(r'<p class="actions"><a class="button" href="[^"]+/live/new">Tutorial planen</a>', home)
    calendar = trainer.get("/calendar").text
    assert re.search(r'<div class="field">\s*<label for="feed-url">', calendar)  # spaced from the button
    assert '<fieldset class="choices">' in calendar  # the house style, not the browser's border


def test_dates_follow_the_page_language(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, date="2030-12-05", time="18:00", tz="Europe/Berlin")
    german = page_text(trainer.get(f"/{sid}").text)
    assert "Do. 05.12.2030, 18:00 Uhr (MEZ) – 19:00 Uhr" in german
    english = page_text(trainer.get(f"/{sid}", params={"lang": "en"}).text)
    assert "Thu Dec 5, 2030, 6:00 PM (CET) – 7:00 PM" in english and "Uhr" not in english


def test_view_messages_are_translated(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    later = live.schedule(trainer, starts_in=dt.timedelta(hours=3))
    closed = trainer.post(f"/{later}/join", {"lang": "en"}, allow_redirects=False, params={"lang": "en"})
    assert closed.status_code == 409
    assert "The room is not open" in closed.text and "Der Raum ist nicht geöffnet" not in closed.text
    stranger = live.person("volunteer")
    sid = live.schedule(trainer, wait_for_moderator=None)
    refused = stranger.post(f"/{sid}/join", allow_redirects=False, params={"lang": "en"})
    assert refused.status_code == 403 and "Not signed up" in refused.text
