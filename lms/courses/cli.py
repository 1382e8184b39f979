"""``medienwerk courses values list --chamber SLUG`` / ``courses values set --chamber SLUG NAME VALUE`` /
``courses values clear --chamber SLUG NAME``: the values a chamber fills in for its lessons (contacts, links),
the same as the coordinators' page; each change is logged in the audit log."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

from lms.core.commands import run_operation
from lms.core.extensions import db
from lms.courses.queries import values_for
from lms.courses.services import set_values
from lms.courses.variables import VARIABLES
from lms.platforms.models import Chamber


def _chamber(slug: str) -> Any:
    from sqlalchemy import select

    chamber = db.session.execute(select(Chamber).where(Chamber.slug == slug)).scalar_one_or_none()
    if chamber is None:
        raise click.ClickException(f"no chamber {slug!r} (see 'medienwerk platform list')")
    return chamber


@click.group("values")
def values() -> None:
    """The chamber's values shown in the lessons: contacts, links to its templates and storage."""


_CHAMBER = click.option("--chamber", "chamber_slug", required=True, help="Chamber slug")


@values.command("list")
@_CHAMBER
@with_appcontext
def values_list(chamber_slug: str) -> None:
    """Every value the lessons may name, with the chamber's entry ('-' when empty)."""
    stored = values_for(_chamber(chamber_slug).id)
    width = max(len(v.name) for v in VARIABLES)
    for var in VARIABLES:
        click.echo(f"{var.name:<{width}}  {var.kind:<5}  {stored.get(var.name, '-')}")


def _set(chamber_slug: str, name: str, value: str) -> None:
    chamber = _chamber(chamber_slug)
    changed = run_operation(lambda: set_values(chamber.id, {name: value}))
    click.echo(f"{name}: {'changed' if changed else 'unchanged'} for {chamber.slug}.")


@values.command("set")
@_CHAMBER
@click.argument("name")
@click.argument("value")
@with_appcontext
def values_set(chamber_slug: str, name: str, value: str) -> None:
    """Fill in NAME (see 'values list') with VALUE; web addresses must start with https:// or http://."""
    _set(chamber_slug, name, value)


@values.command("clear")
@_CHAMBER
@click.argument("name")
@with_appcontext
def values_clear(chamber_slug: str, name: str) -> None:
    """Empty NAME again: the lessons then say whom to ask."""
    _set(chamber_slug, name, "")


def init_cli(cli: Any, groups: dict[str, Any]) -> None:
    groups["courses"].add_command(values)
