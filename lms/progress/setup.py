"""Wiring of the progress domain: its tables, the review pages and the landing-page helper."""

from __future__ import annotations

from flask import Flask

from lms.progress import models  # noqa: F401 - the tables
from lms.progress.course_views import bp as course_pages
from lms.progress.queries import home_summary
from lms.progress.views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(course_pages)  # the learner's module, lesson, self-check and task pages
    app.register_blueprint(bp)
    app.add_template_global(home_summary, "progress_home_summary")
