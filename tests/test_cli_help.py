"""The command line as a new user meets it: only medienwerk's options, whole help lines, help for every option,
`flask --app lms` without a secret for commands that sign nothing, quiet migrations."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from lms.app import create_app
from lms.cli import main

BIN = Path(sys.executable).parent


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIENWERK_", "FLASK_"))}
    env["MEDIENWERK_INSTANCE_PATH"] = str(tmp_path / "instance")
    return env


# -- the help -------------------------------------------------------------------------------------------


def _commands(group: click.Group, ctx: click.Context, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [path]
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if isinstance(command, click.Group):
            found += _commands(command, click.Context(command, parent=ctx), (*path, name))
        elif command is not None:
            found.append((*path, name))
    return found


def test_help_shows_medienwerk_options_only_and_whole_lines(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("MEDIENWERK_INSTANCE_PATH", str(tmp_path))
    runner = CliRunner()
    top = runner.invoke(main, ["--help"], terminal_width=80)
    assert top.exit_code == 0, top.output
    for flask_option in ("--app", "--debug", "--env-file", "-A,", "-e,"):
        assert flask_option not in top.output
    with main.make_context("medienwerk", ["--help"], resilient_parsing=True) as ctx:
        paths = _commands(main, ctx)
    assert ("demo",) in paths and ("db", "check") in paths and ("coordinator", "remove") in paths
    for path in paths:
        out = runner.invoke(main, [*path, "--help"], terminal_width=80).output
        listed = out.split("Commands:", 1)[1] if "Commands:" in out else ""
        assert "..." not in listed and "…" not in listed, (path, listed)  # command lists are never cut


def test_every_option_says_what_it_does() -> None:
    missing = []
    with main.make_context("medienwerk", ["--help"], resilient_parsing=True) as ctx:
        for path in _commands(main, ctx):
            command: Any = main
            for name in path:
                command = command.get_command(ctx, name)
            for param in command.params:
                if isinstance(param, click.Option) and not param.help and param.name != "help":
                    missing.append((" ".join(path), param.opts[0]))
    assert missing == []


# -- flask --app lms, db commands -------------------------------------------------------------------------


def test_flask_cli_runs_courses_check_without_a_secret_key(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "lms", "courses", "check"],
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "no problems" in result.stdout


def test_an_app_made_on_the_command_line_without_a_secret_serves_nothing(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.delenv("MEDIENWERK_SECRET_KEY", raising=False)
    monkeypatch.setenv("MEDIENWERK_INSTANCE_PATH", str(tmp_path))
    with click.Context(click.Command("run")).scope():  # what `flask --app lms run` does
        app = create_app()
    resp = app.test_client().get("/healthz")
    assert resp.status_code == 503 and b"MEDIENWERK_SECRET_KEY" in resp.data
    # outside the command line, no secret is still a start-up error
    from lms.core.config import ConfigError

    with pytest.raises(ConfigError):
        create_app()


def test_db_commands_are_quiet_unless_verbose(tmp_path: Path) -> None:
    env = _env(tmp_path)

    def medienwerk(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(BIN / "medienwerk"), *args], env=env, capture_output=True, text=True, timeout=180, cwd=tmp_path
        )

    upgrade = medienwerk("db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr[-2000:]
    assert "alembic" not in upgrade.stderr and "Database is up to date" in upgrade.stdout
    check = medienwerk("db", "check")
    assert check.returncode == 0, check.stderr[-2000:]
    assert "INFO" not in check.stderr and "alembic" not in check.stderr
    verbose = medienwerk("db", "check", "--verbose")
    assert verbose.returncode == 0 and "INFO  [alembic" in verbose.stderr
