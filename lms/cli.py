"""The ``medienwerk`` command: a Flask CLI group over :func:`lms.create_app` (CONTRACT: Command line).

The command groups live in :mod:`lms.commands` (every app has them); this module adds what only the entry
point needs: ``run`` (refusing to serve without a secret key) and ``demo``.
"""

from __future__ import annotations

import os
from typing import Any

import click
from flask import Flask
from flask.cli import FlaskGroup, run_command

from lms.app import create_app
from lms.commands import whole_first_lines
from lms.core.config import ConfigError
from lms.demo.cli import demo


def _factory() -> Flask:
    try:
        return create_app({"CLI": True})
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


# FlaskGroup's own options choose another app (--app), debug mode (--debug) and a .env file (--env-file, which
# needs python-dotenv): meaningless for the medienwerk command, which always serves lms.create_app
_FLASK_OPTIONS = ("app", "debug", "env_file")


class _Group(FlaskGroup):
    """Flask's group without plugin commands: Flask-Migrate's own ``db`` group (init, migrate, a folder default
    that is wrong for this package) must not shadow ours (:mod:`lms.commands`). Without Flask's ``--app``,
    ``--debug`` and ``--env-file`` options."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params = [p for p in self.params if p.name not in _FLASK_OPTIONS]

    def _load_plugin_commands(self) -> None:
        self._loaded_plugin_commands = True


@click.group(cls=_Group, create_app=_factory, add_version_option=False)
def main() -> None:
    """medienwerk: LTI 1.3 tool for the digital skills of the crafts' volunteer ambassadors."""


class _RunCommand(click.Command):
    """Flask's ``run``, refusing to serve without MEDIENWERK_SECRET_KEY (CONTRACT: Configuration)."""

    def invoke(self, ctx: click.Context) -> Any:
        if not os.environ.get("MEDIENWERK_SECRET_KEY"):
            raise click.ClickException(
                "MEDIENWERK_SECRET_KEY is not set; the tool does not serve without it. "
                "(For a local try-out use 'medienwerk demo'.)"
            )
        return super().invoke(ctx)


main.add_command(_RunCommand("run", params=run_command.params, callback=run_command.callback, help=run_command.help))
main.add_command(demo)
whole_first_lines(main)
