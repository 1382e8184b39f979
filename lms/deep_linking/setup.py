"""Wiring of the deep-linking picker."""

from __future__ import annotations

from flask import Flask

from lms.deep_linking.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
