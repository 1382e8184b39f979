"""A plain, non-editable install works from any directory: templates, content and migrations travel inside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_install_runs_from_another_directory(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(wheels.glob("medienwerk-*.whl"))
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {
        **os.environ,
        "PYTHONPATH": str(target),  # ahead of the editable checkout on sys.path
        "MEDIENWERK_SECRET_KEY": "install-test",
        "MEDIENWERK_INSTANCE_PATH": str(tmp_path / "instance"),
    }
    env.pop("MEDIENWERK_SQLALCHEMY_DATABASE_URI", None)
    script = (
        "import lms, sys; from lms.cli import main\n"
        "assert lms.__file__.startswith(sys.argv[1]), lms.__file__\n"
        "from lms.core.resources import TEMPLATES_DIR, COURSES_DIR, MIGRATIONS_DIR\n"
        "assert (TEMPLATES_DIR / 'base.html').is_file(), TEMPLATES_DIR\n"
        "assert str(TEMPLATES_DIR).startswith(sys.argv[1])\n"
        "assert (COURSES_DIR / 'qualifications.yaml').is_file(), COURSES_DIR\n"
        "assert any(MIGRATIONS_DIR.joinpath('versions').glob('*.py'))\n"
        "main(sys.argv[2:])\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", script, str(target), *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    upgrade = run("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    assert run("db", "upgrade").returncode == 0
    listed = run("platform", "list")
    assert listed.returncode == 0, listed.stderr
    assert "No LMS is registered yet" in listed.stdout
    page = subprocess.run(
        [
            sys.executable,
            "-c",
            "from lms import create_app; r = create_app().test_client().get('/nope'); "
            "assert r.status_code == 404 and 'Diese Seite gibt es nicht' in r.text, r.text",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert page.returncode == 0, page.stderr
    assert (tmp_path / "instance" / "medienwerk.sqlite").is_file()
