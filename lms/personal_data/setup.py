"""Wiring of the data subject rights: the coordinators' export and deletion pages, the retention jobs."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import delete

from lms.core.extensions import db
from lms.core.signals import launch_recorded
from lms.mail.models import OutboxMail
from lms.personal_data import jobs  # noqa: F401 - registers the daily retention jobs
from lms.personal_data.views import bp

_wired = {"done": False}


def forget_withheld_email(sender: Any, *, record: Any, **_: Any) -> None:
    """The LMS no longer shares the person's e-mail: drop every copy of it (the mail outbox), not only the
    person's row (lms/users/services.py does that). Mails are never queued without an address, so this is needed
    only at the launch that withdrew it."""
    if record.email_withdrawn:
        db.session.execute(delete(OutboxMail).where(OutboxMail.user_id == record.user.id))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if not _wired["done"]:
        _wired["done"] = True
        launch_recorded.connect(forget_withheld_email, weak=False)
