"""Where the shipped templates, course content and migrations are.

In a wheel they travel inside the package (``lms/_data/...``); in a source checkout or editable install
they are the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # lms/


def data_dir(name: str) -> Path:
    bundled = PACKAGE_DIR / "_data" / name
    if bundled.is_dir():
        return bundled
    return PACKAGE_DIR.parent / name


TEMPLATES_DIR = data_dir("templates")
COURSES_DIR = data_dir("courses")
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"
