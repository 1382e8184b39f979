"""Wiring of the users domain: its tables."""

from __future__ import annotations

from flask import Flask

from lms.users import models  # noqa: F401 - the tables


def init_app(app: Flask) -> None:
    """Nothing to register beyond the tables (no pages of its own)."""
