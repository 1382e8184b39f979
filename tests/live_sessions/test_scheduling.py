"""Scheduling: local time across DST, the browser's zone or the default, the form keeps the trainer's input,
edits and cancellations notify, capacity with waitlist and promotion, audience and tenancy, ICS files."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import icalendar
from sqlalchemy import select

from lms.core.extensions import db
from tests.conftest import page_text
from tests.live_sessions.conftest import LiveEnv


def sessions(live: LiveEnv):  # type: ignore[no-untyped-def]
    from lms.live_sessions.models import LiveSession

    with live.app.app_context():
        rows = list(db.session.execute(select(LiveSession).order_by(LiveSession.starts_at)).scalars())
        db.session.expunge_all()
        return rows


def test_weekly_series_keeps_local_time_across_the_end_of_summer_time(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    # Mondays 18:00 in Berlin, across the last Sunday of October 2030 (27 Oct)
    live.schedule(trainer, date="2030-10-14", time="18:00", tz="Europe/Berlin", weeks="4")
    rows = sessions(live)
    assert len(rows) == 4 and len({r.series_id for r in rows}) == 1 and rows[0].series_id
    utc = [r.starts_at.astimezone(dt.UTC) for r in rows]
    assert [u.hour for u in utc] == [16, 16, 17, 17]  # CEST (UTC+2), then CET (UTC+1)
    berlin = [u.astimezone(ZoneInfo("Europe/Berlin")) for u in utc]
    assert all((b.hour, b.minute) == (18, 0) for b in berlin)
    assert utc[2] - utc[1] == dt.timedelta(days=7, hours=1)
    assert {r.timezone for r in rows} == {"Europe/Berlin"}
    assert "Mo. 28.10.2030, 18:00 Uhr (MEZ)" in trainer.get(f"/{rows[2].id}").text


def test_browser_zone_is_used_and_default_zone_without_one(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    live.schedule(trainer, date="2030-03-05", time="09:30", tz="America/New_York")
    live.schedule(trainer, date="2030-03-05", time="09:30", tz=None)  # no JS: MEDIENWERK_TIMEZONE
    ny, berlin = sorted(sessions(live), key=lambda r: r.timezone)
    assert (ny.timezone, berlin.timezone) == ("America/New_York", "Europe/Berlin")
    assert ny.starts_at.astimezone(dt.UTC).hour == 14 and berlin.starts_at.astimezone(dt.UTC).hour == 8
    form = trainer.get("/new").text
    assert "live-sessions.js" in form and "data-fill-timezone" in form and "<script>" not in form


def test_failed_save_keeps_everything_the_trainer_typed(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    resp = trainer.post(
        "/new",
        {
            "title": "Phishing erkennen",
            "description": "Mit vielen Beispielen",
            "date": "2030-03-31",
            "time": "02:30",
            "tz": "Europe/Berlin",
            "duration": "90",
            "capacity": "abc",
            "welcome": "Hallo zusammen",
            "record": "1",
        },
    )
    assert resp.status_code == 422
    text = page_text(resp.text)
    assert "Zeitumstellung nicht" in text and "Plätze: bitte eine ganze Zahl" in text
    for value in ("Phishing erkennen", "Mit vielen Beispielen", "2030-03-31", "02:30", "90", "abc", "Hallo zusammen"):
        assert value in resp.text
    assert re.search(r'id="record" name="record" value="1" checked', resp.text)
    assert sessions(live) == []


def test_edit_raises_sequence_and_notifies_cancel_sends_cancel(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, starts_in=dt.timedelta(days=3))
    lena = live.person("volunteer", name="Lena")
    nomail = live.person("volunteer", email=None)
    for person in (lena, nomail):
        assert person.post(f"/{sid}/signup", allow_redirects=False).status_code == 303
    form = trainer.get(f"/{sid}/edit").text
    data = dict(re.findall(r'<input id="(\w+)" name="\w+"[^>]* value="([^"]*)"', form))
    data.update({"title": "Sicher im Netz – neu", "tz": "Europe/Berlin", "audience": "course", "duration": "90"})
    resp = trainer.post(f"/{sid}/edit", data, allow_redirects=False)
    assert resp.status_code == 303, resp.text[:3000]
    assert live.session(sid).ics_sequence == 1
    changed = live.mails("live-changed")
    assert [m.to_address for m in changed] == ["person2@example.org"]  # only where the LMS shared an e-mail
    assert "Sicher im Netz – neu" in changed[0].body

    ics_before = lena.get(f"/{sid}/calendar.ics").content
    assert trainer.post(f"/{sid}/cancel", allow_redirects=False).status_code == 303
    assert live.session(sid).cancelled_at is not None and live.session(sid).ics_sequence == 2
    assert len(live.mails("live-cancelled")) == 1
    cal = icalendar.Calendar.from_ical(lena.get(f"/{sid}/calendar.ics").content)
    assert str(cal["method"]) == "CANCEL"
    event = cal.walk("VEVENT")[0]
    assert event["status"] == "CANCELLED" and int(event["sequence"]) == 2
    assert event["uid"] == icalendar.Calendar.from_ical(ics_before).walk("VEVENT")[0]["uid"]
    assert "abgesagt" in lena.get("/").text


def test_capacity_waitlist_and_promotion_with_notice(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(trainer, capacity="2", starts_in=dt.timedelta(days=2))
    a, b, c, d = (live.person("volunteer", name=n) for n in ("Anna", "Ben", "Cem", "Dana"))
    statuses = []
    for person in (a, b, c, d):
        resp = person.post(f"/{sid}/signup", allow_redirects=False)
        statuses.append(re.search(r"signed=(\w+)", resp.headers["Location"]).group(1))
    assert statuses == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    page = trainer.get(f"/{sid}").text
    waitlist = page.split('id="waitlist"')[1].split("</ol>")[0]
    assert "Cem" in waitlist and "Dana" in waitlist and "Anna" not in waitlist
    assert "Warteliste" in c.get(f"/{sid}").text

    assert b.post(f"/{sid}/withdraw", allow_redirects=False).status_code == 303
    promoted = live.mails("live-promoted")
    assert len(promoted) == 1 and promoted[0].to_address == "person4@example.org"  # Cem, first on the list
    assert "Platz frei geworden" in promoted[0].body
    assert "Du bist angemeldet" in c.get(f"/{sid}?signed=confirmed").text
    # raising the capacity promotes the rest
    form = trainer.get(f"/{sid}/edit").text
    data = dict(re.findall(r'<input id="(\w+)" name="\w+"[^>]* value="([^"]*)"', form))
    data.update({"capacity": "5", "tz": "Europe/Berlin", "audience": "course", "title": "Sicher im Netz – live"})
    assert trainer.post(f"/{sid}/edit", data, allow_redirects=False).status_code == 303
    assert len(live.mails("live-promoted")) == 2
    assert not live.mails("live-changed")  # capacity alone does not change the calendar entry


def test_audience_and_tenancy(live: LiveEnv) -> None:
    from lms.platforms.models import Chamber
    from lms.users.models import LmsCourse

    with live.app.app_context():
        other_course = LmsCourse(chamber_id=live.chamber_id, issuer="https://lms.test", context_id="course-2")
        other_chamber = Chamber(slug="hwk-andere", name="Andere")
        db.session.add_all([other_course, other_chamber])
        db.session.commit()
        other_course_id, other_chamber_id = other_course.id, other_chamber.id
    trainer = live.person("trainer")
    course_only = live.schedule(trainer, title="Nur Kurs", starts_in=dt.timedelta(days=1))
    chamber_wide = live.schedule(trainer, title="Ganze Kammer", audience="chamber", starts_in=dt.timedelta(days=1))

    elsewhere = live.person("volunteer", course_id=other_course_id)
    listing = elsewhere.get("/").text
    assert "Ganze Kammer" in listing and "Nur Kurs" not in listing
    assert elsewhere.get(f"/{course_only}").status_code == 404
    assert elsewhere.post(f"/{course_only}/signup").status_code == 404

    stranger = live.person("trainer", chamber_id=other_chamber_id, course_id=None)
    assert stranger.get(f"/{chamber_wide}").status_code == 404
    assert "Ganze Kammer" not in stranger.get("/").text
    assert live.person("volunteer").get(f"/{course_only}/edit").status_code == 403


def test_ics_file_and_personal_feed(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    sid = live.schedule(
        trainer, date="2030-10-21", time="18:00", weeks="2", record="1", description="Wir üben zusammen."
    )
    lena = live.person("volunteer")
    ids = [s.id for s in sessions(live)]
    for session_id in ids:
        lena.post(f"/{session_id}/signup")
    resp = lena.get(f"/{sid}/calendar.ics")
    assert resp.headers["Content-Type"].startswith("text/calendar")
    cal = icalendar.Calendar.from_ical(resp.content)
    assert str(cal["method"]) == "PUBLISH" and cal["version"] == "2.0"
    assert [tz["tzid"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    event = cal.walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start == dt.datetime(2030, 10, 21, 18, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert event["dtstart"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("dtend") - start == dt.timedelta(minutes=60)
    assert int(event["sequence"]) == 0 and "aufgezeichnet" in str(event["description"])
    uid = str(event["uid"])
    again = icalendar.Calendar.from_ical(lena.get(f"/{sid}/calendar.ics").content)
    assert str(again.walk("VEVENT")[0]["uid"]) == uid

    page = lena.get("/calendar").text
    feed_url = re.search(r'id="feed-url" class="wide" readonly value="([^"]+)"', page).group(1)
    assert "/live-feed/" in feed_url and lena.token not in feed_url
    assert len(feed_url.rsplit("/", 1)[1]) > 40
    feed = requests_get(feed_url)
    assert feed.status_code == 200
    events = icalendar.Calendar.from_ical(feed.content).walk("VEVENT")
    assert len(events) == 2 and uid in {str(e["uid"]) for e in events}
    assert requests_get(feed_url.replace("/live-feed/", "/live-feed/x")).status_code == 404
    # a new address replaces the old one
    lena.post("/calendar", {"action": "renew"})
    assert requests_get(feed_url).status_code == 404


def requests_get(url: str):  # type: ignore[no-untyped-def]
    import requests

    return requests.get(url, timeout=10)
