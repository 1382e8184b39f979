"""Template helpers of the progress domain (the landing page cards call them)."""

from __future__ import annotations

from flask import Flask

from lms.progress.queries import home_summary


def init_app(app: Flask) -> None:
    app.add_template_global(home_summary, "progress_home_summary")
