"""Loads the course content once at start-up and keeps it on the app (courses/FORMAT.md).

A module with problems is reported (``file:line: message``, like ``medienwerk courses check``) and not
served; the rest of the course works. Also the chamber values the lessons show (their table, the
coordinators' page and the ``|chamber_values`` filter that fills them into rendered content).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, current_app

from lms.courses import models  # noqa: F401 - the table of the chamber values
from lms.courses.content import Course, load_course
from lms.courses.queries import chamber_values_filter
from lms.courses.views import bp

log = logging.getLogger(__name__)

EXTENSION_KEY = "course"


def init_app(app: Flask) -> None:
    """Load the course from ``COURSES_DIR`` into ``app.extensions["medienwerk"]["course"]``: at once for a
    serving process, at first use on the command line (most commands never read the course, and rendering
    every lesson costs about a second at each start)."""
    if app.config.get("CLI"):
        app.extensions.setdefault("medienwerk", {})[EXTENSION_KEY] = None
    else:
        _load(app)
    if bp.name not in app.blueprints:  # init_app also reloads the content (tests, after authors published)
        app.register_blueprint(bp)
        app.add_template_filter(chamber_values_filter, "chamber_values")


# the course last loaded from each folder, with the files it was built from: apps of one process (the tests make
# one per test) share it while no file changed; a Course is immutable
_loaded: dict[Path, tuple[tuple[tuple[str, int, int], ...], Course]] = {}


def _files_of(root: Path) -> tuple[tuple[str, int, int], ...]:
    try:
        stats = ((path, path.stat()) for path in root.rglob("*") if path.is_file())
        return tuple(sorted((str(path), stat.st_mtime_ns, stat.st_size) for path, stat in stats))
    except OSError:  # a file vanished while looking: load anew
        return ()


def _load_course_once(root: Path) -> Course:
    key = root.resolve()
    files = _files_of(key)
    known = _loaded.get(key)
    if known is not None and files and known[0] == files:
        return known[1]
    course = load_course(root)
    _loaded[key] = (files, course)
    return course


def _load(app: Flask) -> Course:
    root = Path(app.config["COURSES_DIR"])
    course = _load_course_once(root)
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
    return course


def current_course() -> Course:
    """The course the running app serves."""
    course: Course | None = current_app.extensions["medienwerk"][EXTENSION_KEY]
    if course is None:
        course = _load(current_app)
    return course


def set_course(app: Flask, course: Course) -> None:
    """Serve another course (tests, or a reload after authors published a change)."""
    app.extensions.setdefault("medienwerk", {})[EXTENSION_KEY] = course
