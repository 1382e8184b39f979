"""Live sessions in the app: their pages, the public (launch-less) routes and the landing-page cards.

Config keys (env variables in parentheses, documented in the README; defaults and checks in lms.core.config):
``BBB_URL``, ``BBB_SECRET``, ``BBB_CHECKSUM``, ``BBB_TIMEOUT`` (MEDIENWERK_BBB_TIMEOUT: the whole time budget
of one BBB call, retries included), ``LIVE_ATTENDED_PERCENT`` (MEDIENWERK_LIVE_ATTENDED_PERCENT),
``LIVE_RECORDING_RETENTION_DAYS`` (MEDIENWERK_LIVE_RECORDING_RETENTION_DAYS).
"""

from __future__ import annotations

from flask import Flask

from lms.core.security import current_role
from lms.live_sessions import jobs, models, queries  # noqa: F401 - polling, reminders, retention; the tables
from lms.live_sessions.client import bbb_configured
from lms.live_sessions.public import bp as public_bp
from lms.live_sessions.views import bp, checksum_problem
from lti.roles import Role


def init_app(app: Flask) -> None:
    # BBB_TIMEOUT, LIVE_ATTENDED_PERCENT and LIVE_RECORDING_RETENTION_DAYS are read (and checked) by lms.core.config

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    app.add_template_global(live_home_data)


def live_home_data() -> dict[str, object]:
    """What the landing-page cards (templates/live_sessions/_home_<role>.html) show."""
    from flask import g

    launch = g.get("launch")
    if launch is None:
        return {"cards": [], "bbb_ready": bbb_configured(), "checksum_problem": None}
    user = launch.user
    if current_role() >= Role.TRAINER:
        cards = queries.sessions_for_trainer(user, coordinator=current_role() >= Role.COORDINATOR)
    else:
        cards = queries.upcoming_for_volunteer(user.id, user.chamber_id, launch.course_id)
    problem = None
    if current_role() >= Role.COORDINATOR:
        problem = checksum_problem()
    return {"cards": cards, "bbb_ready": bbb_configured(), "checksum_problem": problem}
