"""Live-session configuration, the BBB client for the app, and the public (launch-less) routes.

Config keys (env variables in parentheses, documented in the README; defaults and checks in lms.core.config):
``BBB_URL``, ``BBB_SECRET``, ``BBB_CHECKSUM``, ``BBB_TIMEOUT`` (MEDIENWERK_BBB_TIMEOUT: the whole time budget
of one BBB call, retries included), ``LIVE_ATTENDED_PERCENT`` (MEDIENWERK_LIVE_ATTENDED_PERCENT),
``LIVE_RECORDING_RETENTION_DAYS`` (MEDIENWERK_LIVE_RECORDING_RETENTION_DAYS).
"""

from __future__ import annotations

from flask import Flask, current_app

from lms.bbb import BBBClient


def init_app(app: Flask) -> None:
    # BBB_TIMEOUT, LIVE_ATTENDED_PERCENT and LIVE_RECORDING_RETENTION_DAYS are read (and checked) by lms.core.config
    from lms.live_sessions import jobs, models  # noqa: F401 - polling, reminders, retention; the tables
    from lms.live_sessions.public import bp as public_bp
    from lms.live_sessions.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(public_bp)
    app.add_template_global(live_home_data)


def live_home_data() -> dict[str, object]:
    """What the landing-page cards (templates/live_sessions/_home_<role>.html) show."""
    from flask import g

    from lms.core.security import current_role
    from lms.live_sessions import queries
    from lti.roles import Role

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
        from lms.live_sessions.views import checksum_problem

        problem = checksum_problem()
    return {"cards": cards, "bbb_ready": bbb_configured(), "checksum_problem": problem}


def bbb_configured() -> bool:
    return bool(current_app.config.get("BBB_URL") and current_app.config.get("BBB_SECRET"))


def get_client() -> BBBClient | None:
    """The app's BBB client (one per configuration), or None when BBB is not configured."""
    cfg = current_app.config
    if not bbb_configured():
        return None
    key = (cfg["BBB_URL"], cfg["BBB_SECRET"], cfg["BBB_CHECKSUM"], float(cfg["BBB_TIMEOUT"]))
    cache = current_app.extensions.setdefault("live_sessions", {})
    client = cache.get("client")
    if client is None or cache.get("key") != key:
        client = BBBClient(key[0], key[1], checksum=key[2], timeout=key[3])
        # a pool big enough for a join surge (default 10 discards connections under load)
        import requests.adapters

        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=64)
        client.session.mount("http://", adapter)
        client.session.mount("https://", adapter)
        cache["client"], cache["key"] = client, key
    return client
