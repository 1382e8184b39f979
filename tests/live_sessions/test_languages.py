"""Live tutorials in the person's language: mails (subject and body, the weekday and the clock without "Uhr") go
out in the language of the recipient's latest launch (their choice in the tool over their LMS's locale); the
attendance CSV speaks the page's language."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from sqlalchemy import update

from lms.core.extensions import db
from tests.live_sessions.conftest import LiveEnv


def _set_lms_locale(live: LiveEnv, user_id: int, locale: str) -> None:
    from lms.users.models import User

    with live.app.app_context():
        db.session.execute(update(User).where(User.id == user_id).values(locale=locale))
        db.session.commit()


def test_mails_go_out_in_each_recipients_language(live: LiveEnv) -> None:
    from lms.live_sessions.services import send_reminders

    trainer = live.person("trainer")
    sid = live.schedule(trainer, title="Phishing erkennen", starts_in=dt.timedelta(hours=2), record="1")
    anna = live.person("volunteer", name="Anna Albers")  # German: nothing said
    emma = live.person("volunteer", name="Emma Evans")
    _set_lms_locale(live, emma.user_id, "en-GB")  # her LMS speaks English
    max_ = live.person("volunteer", name="Max Moor")
    _set_lms_locale(live, max_.user_id, "de-DE")
    assert max_.get("/?lang=en").status_code == 200  # ... but he chose English in the tool
    for person in (anna, emma, max_):
        assert person.post(f"/{sid}/signup", allow_redirects=False).status_code == 303

    starts = live.session(sid).starts_at
    with live.app.app_context():
        assert send_reminders(now=starts - dt.timedelta(minutes=6)) == 3
        db.session.commit()
    by_person = {m.user_id: m for m in live.mails("live-reminder")}

    german = by_person[anna.user_id]
    assert german.subject == "Erinnerung: Phishing erkennen"
    assert german.body.startswith("Hallo,")
    assert re.search(r"In 6 Minuten, um \d\d:\d\d Uhr, geht es los:", german.body)
    assert "Hinweis: Dieses Tutorial wird aufgezeichnet." in german.body and "Viele Grüße" in german.body

    for english in (by_person[emma.user_id], by_person[max_.user_id]):
        assert english.subject == "Reminder: Phishing erkennen"
        assert english.body.startswith("Hello,")
        assert re.search(r"It starts in 6 minutes, at \d{1,2}:\d\d\s(AM|PM):", english.body), english.body
        # the weekday and the date in English, the clock without "Uhr"
        assert re.search(r"When: (Mon|Tue|Wed|Thu|Fri|Sat|Sun) [A-Z][a-z]{2} \d{1,2}, \d{4}", english.body)
        assert "Uhr" not in english.body and "Hallo" not in english.body
        assert "Please note: this tutorial will be recorded." in english.body and "Best wishes" in english.body

    # a cancellation: each in their own language too
    assert trainer.post(f"/{sid}/cancel", allow_redirects=False).status_code == 303
    cancelled = {m.user_id: m for m in live.mails("live-cancelled")}
    assert cancelled[anna.user_id].subject == "Abgesagt: Phishing erkennen"
    assert "leider fällt dieses Live-Tutorial aus" in cancelled[anna.user_id].body
    assert cancelled[emma.user_id].subject == "Cancelled: Phishing erkennen"
    assert "Unfortunately, this live tutorial has been cancelled" in cancelled[emma.user_id].body


def test_attendance_csv_speaks_the_pages_language(live: LiveEnv) -> None:
    trainer = live.person("trainer", name="Jonas")
    sid = live.schedule(trainer, wait_for_moderator=None)
    anna = live.person("volunteer", name="Anna")
    assert anna.post(f"/{sid}/signup", allow_redirects=False).status_code == 303

    def rows() -> list[list[str]]:
        export = trainer.get(f"/{sid}/attendance.csv")
        assert export.status_code == 200 and export.headers["Content-Type"] == "text/csv; charset=utf-8"
        return list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))

    german = rows()
    assert german[0] == [
        "Name",
        "Rolle",
        "Anmeldung",
        "Minuten im Raum",
        "Teilgenommen (berechnet)",
        "Korrektur",
        "Teilgenommen",
    ]
    assert german[1][:3] == ["Anna", "Teilnehmer*in", "angemeldet"]

    assert trainer.get("/?lang=en").status_code == 200  # the choice holds for the download too
    english = rows()
    assert english[0] == [
        "Name",
        "Role",
        "Sign-up",
        "Minutes in the room",
        "Attended (calculated)",
        "Correction",
        "Attended",
    ]
    assert english[1][:3] == ["Anna", "Participant", "signed up"]


def test_calendar_files_speak_the_persons_language(live: LiveEnv) -> None:
    import icalendar
    import requests

    trainer = live.person("trainer")
    sid = live.schedule(trainer, record="1")
    emma = live.person("volunteer", name="Emma Evans")
    assert emma.post(f"/{sid}/signup", allow_redirects=False).status_code == 303

    def description(content: bytes) -> str:
        return str(icalendar.Calendar.from_ical(content).walk("VEVENT")[0]["description"])

    german = description(emma.get(f"/{sid}/calendar.ics").content)
    assert "Dieses Tutorial wird aufgezeichnet." in german and "Beitreten: über medienwerk in deinem Kurs." in german

    assert emma.get("/?lang=en").status_code == 200  # her choice: the download and her feed follow it
    assert "This tutorial will be recorded." in description(emma.get(f"/{sid}/calendar.ics").content)
    feed_url = re.search(r'id="feed-url" class="wide" readonly value="([^"]+)"', emma.get("/calendar").text)
    assert feed_url
    feed = icalendar.Calendar.from_ical(requests.get(feed_url.group(1), timeout=10).content)
    assert str(feed["x-wr-calname"]) == "medienwerk live tutorials"
    event = feed.walk("VEVENT")[0]
    assert "To join: open medienwerk in your course." in str(event["description"])
