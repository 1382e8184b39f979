"""Wiring of the launches domain: /lti/login, /lti/launch, /lti/jwks and the purge of expired launch state."""

from __future__ import annotations

from flask import Flask

from lms.launches import jobs  # noqa: F401 - registers the hourly purge
from lms.launches.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
