"""Reminders and the mail outbox, /demo-mail/, landing-page cards, and `medienwerk bbb check`."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select

from lms.core.db import utcnow
from lms.core.extensions import db
from tests.conftest import page_text
from tests.live_sessions.conftest import BBB_SECRET, LiveEnv


def test_reminders_24h_and_1h_once_only_with_email_and_not_when_switched_off(live: LiveEnv) -> None:
    from lms.live_sessions.jobs import send_reminders

    trainer = live.person("trainer")
    tomorrow = live.schedule(trainer, title="Morgen", starts_in=dt.timedelta(hours=25))
    soon = live.schedule(trainer, title="Gleich", starts_in=dt.timedelta(hours=2))
    later = live.schedule(trainer, title="Später", starts_in=dt.timedelta(days=3))
    anna, no_mail, quiet = live.person("volunteer"), live.person("volunteer", email=None), live.person("volunteer")
    for person in (anna, no_mail, quiet):
        for sid in (tomorrow, soon, later):
            person.post(f"/{sid}/signup")
    page = quiet.get("/calendar").text
    assert "Erinnerungen per E-Mail" in page
    assert "keine E-Mail-Adresse" in no_mail.get("/calendar").text
    quiet.post("/calendar", {"reminders": "0"})

    # 90 minutes on: "Morgen" is due for the 24-hour reminder, "Gleich" (30 minutes ahead) for the 1-hour one
    from lms.live_sessions.services import send_reminders as send_reminders_at

    later_on = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=90)
    with live.app.app_context():
        assert send_reminders() == 0  # nothing due yet
        assert send_reminders_at(now=later_on) == 2
        db.session.commit()
        assert send_reminders_at(now=later_on) == 0  # each reminder at most once
    mails = live.mails("live-reminder")
    assert {m.to_address for m in mails} == {"person2@example.org"}
    subjects = sorted(m.subject for m in mails)
    assert subjects == ["Erinnerung: Gleich", "Erinnerung: Morgen"]
    assert all(m.status == "stored" for m in mails)  # tests and demo: stored, not sent
    soon_body = next(m.body for m in mails if "Gleich" in m.subject)
    assert re.search(r"In (29|30) Minuten, um \d\d:\d\d Uhr, geht es los:", soon_body), soon_body
    assert "in einer Stunde" not in soon_body


def test_demo_mail_page_only_in_demo(live: LiveEnv) -> None:
    client = live.app.test_client()
    assert client.get("/demo-mail/").status_code == 404
    trainer = live.person("trainer")
    sid = live.schedule(trainer, starts_in=dt.timedelta(days=1))
    live.person("volunteer").post(f"/{sid}/signup")
    trainer.post(f"/{sid}/cancel")
    live.app.config["DEMO"] = True
    page = client.get("/demo-mail/")
    assert page.status_code == 200 and "Abgesagt: Sicher im Netz" in page.get_data(as_text=True)
    # in plain words: the kind of mail and what happened to it, no internal category, state or UTC
    text = page_text(page.get_data(as_text=True))
    assert "Live-Tutorial abgesagt · nur hier gezeigt (Demo)" in text
    assert "live-cancelled" not in text and "stored" not in text and "UTC" not in text


def test_smtp_delivery_of_queued_mail(live: LiveEnv, monkeypatch) -> None:
    import smtplib

    from lms.mail.jobs import deliver_queued
    from lms.mail.models import OutboxMail
    from lms.mail.services import queue_mail
    from lms.users.models import User

    sent: list[object] = []

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            assert (host, port) == ("smtp.example.org", 2525)

        def starttls(self) -> None:
            sent.append("tls")

        def login(self, user: str, password: str) -> None:
            sent.append(("login", user))

        def send_message(self, msg: object) -> None:
            sent.append(msg)

        def quit(self) -> None:
            pass

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    live.app.config.update(
        MAIL_STORE_ONLY=False,
        SMTP_HOST="smtp.example.org",
        SMTP_PORT=2525,
        SMTP_USER="u",
        SMTP_PASSWORD="p",
        SMTP_FROM="medienwerk <noreply@example.org>",
    )
    person = live.person("volunteer")
    trainer = live.person("trainer")
    sid = live.schedule(trainer, starts_in=dt.timedelta(days=1))
    with live.app.app_context():
        from lms.live_sessions.models import LiveSession

        user = db.session.get(User, person.user_id)
        queue_mail(
            user,
            subject="Test",
            template="session_cancelled.txt",
            category="test",
            live=db.session.get(LiveSession, sid),
        )
        db.session.commit()
        assert deliver_queued() == 1
        db.session.commit()
        assert db.session.execute(select(OutboxMail.status)).scalar_one() == "sent"
    assert sent[0] == "tls" and sent[1] == ("login", "u")
    assert sent[2]["To"] == "person1@example.org" and sent[2]["Subject"] == "Test"


def test_a_title_with_a_line_break_is_refused_with_a_readable_error(live: LiveEnv) -> None:
    """Titles go into e-mail subjects: a line break (only a crafted request can send one) is a form error."""
    import re

    from lms.live_sessions.timeutil import utc_to_local

    trainer = live.person("trainer")
    start = utc_to_local(utcnow() + dt.timedelta(days=1), "Europe/Berlin")
    fields = {"date": start.date().isoformat(), "time": f"{start:%H:%M}", "tz": "Europe/Berlin", "duration": "60"}
    for title in ("Phishing\r\nBcc: alle@example.org", "Phishing\tlive", "Phishing\u2028live", "Phi\x00shing"):
        resp = trainer.post("/new", {**fields, "title": title, "audience": "course"}, allow_redirects=False)
        assert resp.status_code == 422, resp.status_code
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", resp.text))
        assert "ohne Zeilenumbrüche, Tabulatoren oder Steuerzeichen" in text
    assert live.mails() == [] and "Phishing" not in trainer.get("/").text
    assert live.schedule(trainer, title="Phishing – live") > 0  # a normal title still works


def test_landing_page_cards(live: LiveEnv) -> None:
    trainer = live.person("trainer")
    live.schedule(trainer, title="Phishing live", starts_in=dt.timedelta(days=1))
    volunteer = live.person("volunteer")
    home = volunteer.http.get(f"{live.tool.url}/t/{volunteer.token}/", timeout=10).text
    assert "Live-Tutorials" in home and "Phishing live" in home
    trainer_home = trainer.http.get(f"{live.tool.url}/t/{trainer.token}/", timeout=10).text
    assert "Tutorial planen" in trainer_home
    coordinator = live.person("coordinator")
    assert "1 geplanter Termin" in coordinator.http.get(f"{live.tool.url}/t/{coordinator.token}/", timeout=10).text


def test_bbb_check_command(live: LiveEnv) -> None:
    runner = live.app.test_cli_runner()
    ok = runner.invoke(args=["bbb", "check"])
    assert ok.exit_code == 0, ok.output
    assert "Secret and checksum algorithm sha256 are accepted" in ok.output and BBB_SECRET not in ok.output

    live.app.config["BBB_SECRET"] = "not-the-secret"
    bad = runner.invoke(args=["bbb", "check"])
    assert bad.exit_code != 0 and "checksumError" in bad.output and "not-the-secret" not in bad.output

    live.app.config["BBB_URL"] = None
    off = runner.invoke(args=["bbb", "check"])
    assert off.exit_code != 0 and "MEDIENWERK_BBB_URL is not set" in off.output
