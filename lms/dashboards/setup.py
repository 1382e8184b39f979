"""Wiring of the dashboards: the coordinators' pages."""

from __future__ import annotations

from flask import Flask

from lms.dashboards.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
