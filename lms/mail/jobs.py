"""Mail delivery: queued mails go out within a minute.

Each mail is claimed, sent and recorded in transactions of its own (claim → commit → SMTP → record → commit),
so a mail that cannot be sent never rolls back the others: mails ahead of it are not sent again, mails behind
it still go out.
"""

from __future__ import annotations

import logging

from lms.core.extensions import db
from lms.core.jobs import jobs
from lms.mail import services

log = logging.getLogger(__name__)


def deliver_queued(limit: int = 100) -> int:
    """Send queued mails over SMTP; returns how many went out. Commits after each step; never logs addresses."""
    if not services.sending_enabled():
        return 0
    if not services.sender_ok():
        log.error("MEDIENWERK_SMTP_FROM cannot be used as a sender address: no mail is sent")
        return 0
    ids = services.due_mail_ids(limit)
    db.session.commit()
    if not ids:
        return 0
    sent = 0
    with services.smtp_session() as smtp:
        if smtp is None:
            return 0
        for mail_id in ids:
            mail = services.claim_mail(mail_id)
            db.session.commit()  # claimed: no other run sends it
            if mail is None:
                continue
            try:
                outcome = services.send_claimed(smtp, mail)
            except Exception as exc:  # a bug must not leave the mail claimed for ever, nor stop the others
                db.session.rollback()
                # the type only: an exception's text may quote the address
                log.error("mail %s could not be sent: %s", mail_id, type(exc).__name__)
                services.fail_claimed(mail_id, "internal error")
                db.session.commit()
                continue
            db.session.commit()  # right after the server's accept: see services.send_claimed
            if outcome == "sent":
                sent += 1
            elif outcome == "connection_lost":
                break
    return sent


@jobs.periodic(minutes=1)
def send_outbox() -> None:
    deliver_queued()
