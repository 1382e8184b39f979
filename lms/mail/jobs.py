"""Mail delivery: queued mails go out within a minute."""

from __future__ import annotations

from lms.core.jobs import jobs
from lms.mail.services import deliver_queued


@jobs.periodic(minutes=1)
def send_outbox() -> None:
    deliver_queued()
