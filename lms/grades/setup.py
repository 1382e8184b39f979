"""Wiring: launches record links, progress changes queue scores, committed outbox rows are enqueued."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from lms.core.signals import launch_recorded, progress_changed
from lms.grades import jobs, links, models, services  # noqa: F401 - jobs and tables register themselves
from lms.grades.jobs import deliver_scores
from lms.grades.views import bp, legacy

log = logging.getLogger(__name__)
_wired = {"done": False}


def on_launch(sender: Any, *, launch: Any, record: Any, platform: Any, launch_session: Any, **_: Any) -> None:
    links.record_link(launch, record.user.id, platform.id, record.course_id)


def on_progress_changed(sender: Any, *, user_id: int, module_id: str, **_: Any) -> None:
    services.progress_changed(user_id, module_id)


def _after_commit(session: Session) -> None:
    ids = session.info.pop(services.SESSION_KEY, None)
    if not ids:
        return

    try:
        deliver_scores.enqueue(sorted(ids))
    except Exception:  # the sweep delivers them a minute later
        log.warning("could not enqueue %d score deliveries; the sweep will pick them up", len(ids))


def _on_new_transaction(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # a new outermost transaction: ids of a rolled-back one are void
        session.info.pop(services.SESSION_KEY, None)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(legacy)
    if _wired["done"]:
        return
    _wired["done"] = True
    launch_recorded.connect(on_launch, weak=False)
    progress_changed.connect(on_progress_changed, weak=False)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_transaction_create", _on_new_transaction)
