"""The mail outbox: one bad message (a line break in a header, a bad address) fails alone with a reason, the
others go out exactly once however often the job runs; SMTP trouble keeps the retries; never sent twice."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from lms.core.extensions import db
from lms.mail.jobs import deliver_queued, send_outbox
from lms.mail.models import OutboxMail

GOOD = ("anna@example.org", "bert@example.org", "cem@example.org")
BAD_SUBJECT = "Abgesagt: Phishing\r\nBcc: everyone@example.org"
BAD_ADDRESS = "dora@example.org\r\nBcc: everyone@example.org"


class FakeSMTP:
    """Stands in for smtplib.SMTP: records what the server accepted; ``fail`` maps an address to an exception
    the next send to it raises (once)."""

    accepted: list[EmailMessage] = []
    fail: dict[str, BaseException] = {}
    sessions = 0

    def __init__(self, host: str, port: int, timeout: float) -> None:
        assert (host, port) == ("smtp.example.org", 2525)
        type(self).sessions += 1

    def starttls(self) -> None:
        pass

    def login(self, user: str, password: str) -> None:
        pass

    def send_message(self, msg: EmailMessage) -> None:
        to = str(msg["To"])
        error = self.fail.pop(to, None)
        if error is not None:
            raise error
        self.accepted.append(msg)

    def quit(self) -> None:
        pass


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[type[FakeSMTP]]:
    monkeypatch.setattr(FakeSMTP, "accepted", [])
    monkeypatch.setattr(FakeSMTP, "fail", {})
    monkeypatch.setattr(FakeSMTP, "sessions", 0)
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    app.config.update(
        MAIL_STORE_ONLY=False,
        SMTP_HOST="smtp.example.org",
        SMTP_PORT=2525,
        SMTP_FROM="medienwerk <noreply@example.org>",
        MAIL_MAX_ATTEMPTS=3,
    )
    with app.app_context():
        yield FakeSMTP


def _queue(to: str, subject: str = "Abgesagt: Phishing live") -> int:
    mail = OutboxMail(to_address=to, subject=subject, body="Hallo,\n\ndas Tutorial fällt aus.", category="test")
    mail.status = "queued"
    db.session.add(mail)
    db.session.commit()
    return mail.id


def _rows() -> dict[int, OutboxMail]:
    db.session.expire_all()
    return {m.id: m for m in db.session.execute(select(OutboxMail)).scalars()}


def _sent_to(smtp: type[FakeSMTP]) -> list[str]:
    return [str(m["To"]) for m in smtp.accepted]


def test_bad_mails_fail_alone_and_the_others_go_out_exactly_once(smtp: type[FakeSMTP]) -> None:
    good1 = _queue(GOOD[0])
    bad_subject = _queue(GOOD[1], subject=BAD_SUBJECT)
    good2 = _queue(GOOD[1])
    bad_address = _queue(BAD_ADDRESS)
    good3 = _queue(GOOD[2])

    assert deliver_queued() == 3
    for _ in range(3):  # the job runs every minute
        send_outbox()
        db.session.commit()

    assert sorted(_sent_to(smtp)) == sorted(GOOD)  # each good one exactly once, the one behind the bad ones too
    rows = _rows()
    assert {i: rows[i].status for i in (good1, good2, good3)} == dict.fromkeys((good1, good2, good3), "sent")
    for bad in (bad_subject, bad_address):
        assert rows[bad].status == "failed" and rows[bad].attempts == 1  # no retry
        reason = rows[bad].last_error or ""
        assert reason and "@" not in reason and "Phishing" not in reason  # a reason, without personal data
    assert "address" in (rows[bad_address].last_error or "")
    assert "header" in (rows[bad_subject].last_error or "")
    for msg in smtp.accepted:
        assert "Bcc" not in msg and "\n" not in str(msg["Subject"])


def test_temporary_smtp_errors_are_retried_up_to_the_limit_and_do_not_hold_up_the_others(
    smtp: type[FakeSMTP],
) -> None:
    refused = smtplib.SMTPRecipientsRefused({GOOD[0]: (450, b"mailbox busy")})
    flaky = _queue(GOOD[0])
    other = _queue(GOOD[1])
    smtp.fail[GOOD[0]] = refused
    assert deliver_queued() == 1
    rows = _rows()
    assert rows[flaky].status == "queued" and rows[flaky].attempts == 1
    assert rows[flaky].last_error == "SMTPRecipientsRefused"
    assert rows[other].status == "sent"

    assert deliver_queued() == 1  # the next run: it goes out
    assert _sent_to(smtp) == [GOOD[1], GOOD[0]] and _rows()[flaky].status == "sent"

    stubborn = _queue(GOOD[2])
    for _ in range(3):
        smtp.fail[GOOD[2]] = smtplib.SMTPDataError(451, b"try later")
        deliver_queued()
    assert _rows()[stubborn].status == "failed" and _rows()[stubborn].attempts == 3  # MAIL_MAX_ATTEMPTS
    assert deliver_queued() == 0 and GOOD[2] not in _sent_to(smtp)


def test_a_lost_connection_ends_the_run_and_the_rest_goes_out_next_time(smtp: type[FakeSMTP]) -> None:
    ids = [_queue(to) for to in GOOD]
    smtp.fail[GOOD[1]] = smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
    assert deliver_queued() == 1
    rows = _rows()
    assert [rows[i].status for i in ids] == ["sent", "queued", "queued"]
    assert rows[ids[2]].attempts == 0  # not tried over a dead connection: no attempt used up
    assert deliver_queued() == 2
    assert sorted(_sent_to(smtp)) == sorted(GOOD)


def test_a_crash_after_the_servers_accept_never_sends_the_mail_again(
    smtp: type[FakeSMTP], monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most once: the claim is committed before sending, so a process that dies between the server's accept
    and the commit of "sent" leaves the mail claimed ("sending"), and no later run sends it again."""
    first = _queue(GOOD[0])
    real_send = FakeSMTP.send_message

    def accept_then_die(self: FakeSMTP, msg: EmailMessage) -> None:
        real_send(self, msg)
        raise SystemExit("worker killed")

    monkeypatch.setattr(FakeSMTP, "send_message", accept_then_die)
    with pytest.raises(SystemExit):
        deliver_queued()
    db.session.rollback()
    monkeypatch.setattr(FakeSMTP, "send_message", real_send)
    second = _queue(GOOD[1])
    for _ in range(2):
        deliver_queued()
    assert _sent_to(smtp) == [GOOD[0], GOOD[1]]
    assert _rows()[first].status == "sending" and _rows()[second].status == "sent"


def test_an_unexpected_error_fails_that_mail_without_stopping_the_others(
    smtp: type[FakeSMTP], monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = _queue(GOOD[0])
    fine = _queue(GOOD[1])
    smtp.fail[GOOD[0]] = RuntimeError("a bug")
    assert deliver_queued() == 1
    rows = _rows()
    assert rows[broken].status == "failed" and rows[broken].last_error == "internal error"
    assert rows[fine].status == "sent"


def test_two_overlapping_runs_never_send_one_mail_twice(smtp: type[FakeSMTP]) -> None:
    from lms.mail import services

    mail_id = _queue(GOOD[0])
    assert services.claim_mail(mail_id) is not None
    db.session.commit()
    assert services.claim_mail(mail_id) is None  # the other run finds it claimed
    db.session.commit()
    assert deliver_queued() == 0 and smtp.accepted == []


def test_a_bad_sender_setting_sends_nothing_and_blames_no_mail(smtp: type[FakeSMTP], app: Flask) -> None:
    mail_id = _queue(GOOD[0])
    app.config["SMTP_FROM"] = "medienwerk <noreply@example.org>\r\nBcc: x@example.org"
    assert deliver_queued() == 0
    assert _rows()[mail_id].status == "queued" and _rows()[mail_id].attempts == 0
    assert smtp.sessions == 0


def test_queue_mail_makes_the_subject_one_line_and_skips_unusable_addresses(app: Flask) -> None:
    from lms.mail.services import queue_mail
    from lms.platforms.models import Chamber
    from lms.users.models import User

    with app.app_context():
        chamber = Chamber(slug="hwk-test", name="HWK Test")
        db.session.add(chamber)
        db.session.flush()
        fine = User(chamber_id=chamber.id, issuer="https://lms.test", sub="1", email="anna@example.org")
        odd = User(chamber_id=chamber.id, issuer="https://lms.test", sub="2", email=BAD_ADDRESS)
        db.session.add_all([fine, odd])
        db.session.flush()
        kwargs: dict[str, Any] = {"template": "volunteer_reminder.txt", "category": "test", "message": "Hallo"}
        mail = queue_mail(fine, subject="Erinnerung:\r\nBcc: x@example.org\t\x00 Phishing\u2028live", **kwargs)
        assert mail is not None and mail.subject == "Erinnerung: Bcc: x@example.org Phishing live"
        assert queue_mail(odd, subject="Erinnerung", **kwargs) is None
        assert queue_mail(fine, subject="x" * 400, **kwargs).subject == "x" * 300  # type: ignore[union-attr]
