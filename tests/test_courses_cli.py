"""`medienwerk courses check` over the shipped content and over broken fixtures."""

from __future__ import annotations

from pathlib import Path

from lms import create_app
from lms.core.resources import COURSES_DIR

FIXTURES = Path(__file__).parent / "courses" / "fixtures"


def _check(courses_dir: Path):  # noqa: ANN202
    app = create_app({"TESTING": True, "COURSES_DIR": str(courses_dir), "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return app.test_cli_runner().invoke(args=["courses", "check"])


def test_shipped_courses_pass_the_check() -> None:
    result = _check(COURSES_DIR)
    assert result.exit_code == 0, result.output
    assert "7 modules, 2 qualifications, no problems" in result.output


def test_broken_content_fails_with_file_and_line() -> None:
    result = _check(FIXTURES / "bad")
    assert result.exit_code != 0
    assert "zwei-quiz/91-selbstcheck.md:3: a module has only one quiz" in result.output
