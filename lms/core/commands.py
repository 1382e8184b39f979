"""Helpers for the command line of every domain (``medienwerk …``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from flask import current_app

from lms.core.errors import DomainError
from lms.core.extensions import db


def run_operation(fn: Callable[[], Any]) -> Any:
    """Run a write and commit it, or roll back and print the reason (a :class:`DomainError`)."""
    try:
        result = fn()
    except DomainError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    return result


def base_url() -> str:
    """MEDIENWERK_BASE_URL, or the development server's address with a note on stderr."""
    base = current_app.config.get("BASE_URL")
    if not base:
        click.echo("Note: MEDIENWERK_BASE_URL is not set; the URLs below assume http://127.0.0.1:5000.", err=True)
        base = "http://127.0.0.1:5000"
    return str(base).rstrip("/")
