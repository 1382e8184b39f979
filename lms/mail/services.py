"""Writes for e-mail: put a message into the outbox (flush only), deliver queued messages (the job)."""

from __future__ import annotations

import contextlib
import logging
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from flask import current_app, has_request_context, render_template
from sqlalchemy import select

from lms.core.db import utcnow
from lms.core.extensions import db
from lms.mail.models import OutboxMail
from lms.users.models import User

log = logging.getLogger(__name__)


def queue_mail(
    user: User, *, subject: str, template: str, category: str, dedupe_key: str | None = None, **context: object
) -> OutboxMail | None:
    """Queue a mail to ``user`` rendered from ``templates/mail/<template>``. Nothing happens when the LMS did
    not share the person's e-mail, or when a mail with the same ``dedupe_key`` exists already."""
    if not user.email:
        return None
    if dedupe_key is not None:
        exists = db.session.execute(
            select(OutboxMail.id).where(OutboxMail.dedupe_key == dedupe_key)
        ).scalar_one_or_none()
        if exists is not None:
            return None
    body = _render(template, user=user, **context)
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
        subject=subject,
        body=body,
        category=category,
        dedupe_key=dedupe_key,
        status=status,
    )
    db.session.add(mail)
    db.session.flush()
    return mail


def _render(template: str, **context: object) -> str:
    if has_request_context():
        return render_template(f"mail/{template}", **context)
    # jobs have no request, but the app's context processors read it (locale): give them a neutral one
    base = current_app.config.get("BASE_URL") or "http://localhost"
    with current_app.test_request_context("/", base_url=base):
        return render_template(f"mail/{template}", **context)


def _message(mail: OutboxMail) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = current_app.config["SMTP_FROM"]
    msg["To"] = mail.to_address
    msg["Subject"] = mail.subject
    msg["Message-ID"] = make_msgid(domain="medienwerk")
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.body)
    return msg


def deliver_queued(limit: int = 100) -> int:
    """Send queued mails over SMTP; returns how many went out. Never logs addresses."""
    cfg = current_app.config
    if cfg.get("MAIL_STORE_ONLY") or not cfg.get("SMTP_HOST"):
        return 0
    pending = list(
        db.session.execute(
            select(OutboxMail).where(OutboxMail.status == "queued").order_by(OutboxMail.id).limit(limit)
        ).scalars()
    )
    if not pending:
        return 0
    sent = 0
    try:
        smtp = smtplib.SMTP(cfg["SMTP_HOST"], int(cfg["SMTP_PORT"]), timeout=cfg.get("SMTP_TIMEOUT", 10))
    except OSError as exc:
        log.warning("SMTP server %s unreachable: %s", cfg["SMTP_HOST"], type(exc).__name__)
        return 0
    try:
        if cfg.get("SMTP_STARTTLS"):
            smtp.starttls()
        if cfg.get("SMTP_USER"):
            smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD") or "")
        for mail in pending:
            mail.attempts += 1
            try:
                smtp.send_message(_message(mail))
            except (smtplib.SMTPException, OSError) as exc:
                mail.last_error = type(exc).__name__
                if mail.attempts >= cfg.get("MAIL_MAX_ATTEMPTS", 5):
                    mail.status = "failed"
                continue
            mail.status = "sent"
            mail.sent_at = utcnow()
            sent += 1
    except (smtplib.SMTPException, OSError) as exc:
        log.warning("SMTP session failed: %s", type(exc).__name__)
    finally:
        with contextlib.suppress(smtplib.SMTPException, OSError):
            smtp.quit()
    db.session.flush()
    return sent
