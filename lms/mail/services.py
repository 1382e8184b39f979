"""Writes for e-mail: put a message into the outbox (flush only); the steps of delivering one queued message
(claim, build, send, record), which :func:`lms.mail.jobs.deliver_queued` runs each in its own transaction."""

from __future__ import annotations

import contextlib
import logging
import smtplib
import unicodedata
from collections.abc import Iterator
from email.errors import MessageError
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Literal

from flask import current_app, has_request_context, render_template
from flask_babel import LazyString, force_locale
from sqlalchemy import select, update

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.core.launch_session import LaunchSession
from lms.mail.models import FAILED, QUEUED, SENDING, SENT, OutboxMail
from lms.users.models import User
from lms.users.services import plausible_email

log = logging.getLogger(__name__)


def queue_mail(
    user: User,
    *,
    subject: str | LazyString,
    template: str,
    category: str,
    dedupe_key: str | None = None,
    **context: object,
) -> OutboxMail | None:
    """Queue a mail to ``user`` rendered from ``templates/mail/<template>`` in the person's language
    (:func:`recipient_language`; a lazy ``subject`` and lazy context values are translated into it too).
    Nothing happens when the LMS did not share the person's e-mail (or shared no usable one), or when a mail
    with the same ``dedupe_key`` exists already. The subject is made one line here as a second line of defence
    (titles are checked where they are entered): a line break in a header would make the message impossible
    to send."""
    if not user.email or not plausible_email(user.email):
        return None
    if dedupe_key is not None:
        exists = db.session.execute(
            select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key)
        ).scalar_one_or_none()
        if exists is not None:
            return None
    subject, body = _render(template, recipient_language(user), subject, user=user, **context)
    if current_app.config.get("MAIL_STORE_ONLY"):
        status = "stored"
    elif current_app.config.get("SMTP_HOST"):
        status = "queued"
    else:
        status = "disabled"
    mail = OutboxMail(
        chamber_id=user.chamber_id,
        user_id=user.id,
        to_address=user.email,
        subject=one_line(subject),
        body=body,
        category=category,
        dedupe_key=dedupe_key,
        status=status,
    )
    db.session.add(mail)
    db.session.flush()
    return mail


SUBJECT_MAX = 300  # the column


def one_line(text: str) -> str:
    """``text`` as one header line: line breaks and other control characters become spaces, runs of white
    space one space, cut to fit the column."""
    spaced = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in text)
    return " ".join(spaced.split())[:SUBJECT_MAX]


def recipient_language(user: User) -> str:
    """The language to write to the person in: the one of their latest launch (their own choice in the tool over
    their LMS's locale), else the locale their LMS sent last, else German (one query)."""
    languages = current_app.config["LANGUAGES"]
    latest = db.session.execute(
        select(LaunchSession.locale)
        .where(LaunchSession.user_id == user.id, LaunchSession.locale.is_not(None))
        .order_by(LaunchSession.last_seen_at.desc(), LaunchSession.created_at.desc())
        .limit(1)
    ).scalar_one_or_none()
    for candidate in (latest, user.locale):
        language = (candidate or "").replace("_", "-").split("-")[0].lower()
        if language in languages:
            return language
    return "de"


def _render(template: str, language: str, subject: str | LazyString, **context: object) -> tuple[str, str]:
    """Subject and body in ``language``."""
    if has_request_context():
        with force_locale(language):
            return str(subject), render_template(f"mail/{template}", **context)
    # jobs have no request, but the app's context processors read it (locale): give them a neutral one
    base = current_app.config.get("BASE_URL") or "http://localhost"
    with current_app.test_request_context("/", base_url=base), force_locale(language):
        return str(subject), render_template(f"mail/{template}", **context)


# ---------------------------------------------------------------------------------------------------------
# Delivery. Every step flushes; the job commits between the steps, so that one message's failure never rolls
# back what happened to the others.
# ---------------------------------------------------------------------------------------------------------


class InvalidMail(ValueError):
    """A message that can never be sent as stored (a line break in a header, an implausible address).
    ``reason`` is short English for the outbox and the logs, without personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


Outcome = Literal["sent", "invalid", "retry", "connection_lost"]


def sending_enabled() -> bool:
    cfg = current_app.config
    return not cfg.get("MAIL_STORE_ONLY") and bool(cfg.get("SMTP_HOST"))


def sender_ok() -> bool:
    """Whether the configured sender can go into a header (else nothing is sent, and no message is blamed)."""
    try:
        EmailMessage()["From"] = current_app.config["SMTP_FROM"]
    except (MessageError, ValueError):
        return False
    return True


def due_mail_ids(limit: int = 100) -> list[int]:
    return list(
        db.session.execute(
            select(OutboxMail.id).where(OutboxMail.status == QUEUED).order_by(OutboxMail.id).limit(limit)
        ).scalars()
    )


def claim_mail(mail_id: int) -> OutboxMail | None:
    """Mark a queued mail as being sent by this run and count the attempt; None when it is no longer queued
    (another run took it). Once committed, no other run sends it."""
    result = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, OutboxMail.status == QUEUED)
        .values(status=SENDING, attempts=OutboxMail.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    return db.session.get(OutboxMail, mail_id, populate_existing=True)


def build_message(mail: OutboxMail) -> EmailMessage:
    """The message for ``mail``; :class:`InvalidMail` when it cannot be built or written."""
    if not plausible_email(mail.to_address):
        raise InvalidMail("invalid recipient address")
    try:
        msg = EmailMessage()
        msg["From"] = current_app.config["SMTP_FROM"]
        msg["To"] = mail.to_address
        msg["Subject"] = mail.subject
        msg["Message-ID"] = make_msgid(domain="medienwerk")
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(mail.body)
        msg.as_bytes()  # written once here: a header that cannot be written fails now, not inside SMTP
    except (MessageError, ValueError, UnicodeError) as exc:
        raise InvalidMail(f"invalid header ({type(exc).__name__})") from exc
    return msg


@contextlib.contextmanager
def smtp_session() -> Iterator[smtplib.SMTP | None]:
    """A logged-in SMTP session, or None when the server cannot be reached or refuses the login."""
    cfg = current_app.config
    try:
        smtp = smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=cfg.get("SMTP_TIMEOUT", 10))
    except OSError as exc:
        log.warning("SMTP server %s unreachable: %s", cfg["SMTP_HOST"], type(exc).__name__)
        yield None
        return
    try:
        try:
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        except OSError as exc:  # smtplib.SMTPException is an OSError
            log.warning("SMTP session failed: %s", type(exc).__name__)
            yield None
        else:
            yield smtp
    finally:
        with contextlib.suppress(OSError):
            smtp.quit()


def send_claimed(smtp: smtplib.SMTP, mail: OutboxMail) -> Outcome:
    """Send one claimed mail and record the outcome on it (flush only; the caller commits at once).

    A message that cannot be built is failed for good with a short reason. An SMTP error answer puts it back in
    the queue until ``MAIL_MAX_ATTEMPTS``; a lost connection as well, and the run stops.
    """
    try:
        msg = build_message(mail)
    except InvalidMail as exc:
        return _fail(mail, exc.reason)
    try:
        smtp.send_message(msg)
    except smtplib.SMTPNotSupportedError:
        return _fail(mail, "address needs SMTPUTF8, which the server does not offer")
    except smtplib.SMTPServerDisconnected as exc:
        _retry(mail, type(exc).__name__)
        return "connection_lost"
    except smtplib.SMTPException as exc:  # an error answer for this message: the session goes on
        _retry(mail, type(exc).__name__)
        return "retry"
    except (MessageError, ValueError, UnicodeError) as exc:  # raised while writing, before any SMTP command
        return _fail(mail, f"invalid message ({type(exc).__name__})")
    except OSError as exc:  # timeout, reset: the session is gone
        _retry(mail, type(exc).__name__)
        return "connection_lost"
    # The server has accepted the message: the caller commits this right away. The claim (committed before
    # sending) makes delivery at-most-once: if the process dies between the server's accept and this commit,
    # the mail stays "sending" and is not sent again. For notices and reminders a lost mail is better than a
    # repeated one. (Only a connection lost while the server was confirming can still lead to a second copy.)
    mail.status = SENT
    mail.sent_at = utcnow()
    mail.last_error = None
    db.session.flush()
    return "sent"


def fail_claimed(mail_id: int, reason: str) -> None:
    """Fail a claimed mail whose sending broke unexpectedly. Not queued again: the server may have it already."""
    mail = db.session.get(OutboxMail, mail_id, populate_existing=True)
    if mail is not None and mail.status == SENDING:
        _fail(mail, reason)


def _fail(mail: OutboxMail, reason: str) -> Outcome:
    mail.status = FAILED
    mail.last_error = reason[:300]
    db.session.flush()
    log.warning("mail %s failed: %s", mail.id, reason)  # the id only: never the address or the subject
    return "invalid"


def _retry(mail: OutboxMail, reason: str) -> None:
    mail.last_error = reason[:300]
    mail.status = FAILED if mail.attempts >= current_app.config.get("MAIL_MAX_ATTEMPTS", 5) else QUEUED
    db.session.flush()
