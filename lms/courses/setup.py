"""Loads the course content once at start-up and keeps it on the app (courses/FORMAT.md).

A module with problems is reported (``file:line: message``, like ``medienwerk courses check``) and not
served; the rest of the course works.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from lms.courses.content import Course, load_course

log = logging.getLogger(__name__)

EXTENSION_KEY = "course"


def init_app(app: Flask) -> None:
    """Load the course from ``COURSES_DIR`` into ``app.extensions["medienwerk"]["course"]``."""
    root = Path(app.config["COURSES_DIR"])
    course = load_course(root)
    for problem in course.problems:
        log.warning("course content %s: %s", root, problem)
    if course.problems:
        broken = sorted({p.path.parts[0] for p in course.problems if len(p.path.parts) > 1})
        log.warning(
            "course content: %d problem(s); serving %d module(s), not serving: %s",
            len(course.problems),
            len(course.modules),
            ", ".join(broken) or "-",
        )
    app.extensions.setdefault("medienwerk", {})[EXTENSION_KEY] = course


def current_course() -> Course:
    """The course the running app serves."""
    course: Course = current_app.extensions["medienwerk"][EXTENSION_KEY]
    return course


def set_course(app: Flask, course: Course) -> None:
    """Serve another course (tests, or a reload after authors published a change)."""
    app.extensions.setdefault("medienwerk", {})[EXTENSION_KEY] = course
