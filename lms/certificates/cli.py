"""``medienwerk awards list [--chamber SLUG]`` / ``awards revoke ID --reason TEXT`` / ``awards reissue ID`` /
``awards rotate-key`` (CONTRACT: Command line)."""

from __future__ import annotations

from typing import Any

import click
from flask.cli import with_appcontext

from lms.certificates.credentials import rotate_key
from lms.certificates.models import Award
from lms.certificates.services import reissue, revoke
from lms.core.commands import run_operation
from lms.core.extensions import db
from lms.platforms.models import Chamber


@click.group("awards")
def awards() -> None:
    """Issued certificates (qualification tiers) and their Open Badges signing key."""


@awards.command("list")
@click.option("--chamber", "chamber_slug", default=None, help="Only this chamber's awards (slug)")
@with_appcontext
def awards_list(chamber_slug: str | None) -> None:
    """Issued certificates, newest first: id, state (valid, revoked, superseded), tier, date, chamber. No names."""
    from sqlalchemy import select

    query = select(Award, Chamber.slug).join(Chamber, Chamber.id == Award.chamber_id)
    if chamber_slug is not None:
        if db.session.execute(select(Chamber.id).where(Chamber.slug == chamber_slug)).scalar() is None:
            raise click.ClickException(f"no chamber {chamber_slug!r} (see 'medienwerk platform list')")
        query = query.where(Chamber.slug == chamber_slug)
    rows = db.session.execute(query.order_by(Award.issued_at.desc(), Award.id)).all()
    if not rows:
        click.echo("No awards.")
        return
    for award, slug in rows:
        line = f"{award.id}  {award.state:<10}  {award.tier_id}  {award.issued_at.date().isoformat()}  {slug}"
        if award.superseded_by:
            line += f"  -> {award.superseded_by}"
        click.echo(line)


def _award(award_id: str) -> Any:
    award = db.session.get(Award, award_id)
    if award is None:
        raise click.ClickException(f"no award {award_id!r} (see 'medienwerk awards list')")
    return award


@awards.command("revoke")
@click.argument("award_id")
@click.option("--reason", required=True, help="Why (kept with the award, not shown on the public page)")
@with_appcontext
def awards_revoke(award_id: str, reason: str) -> None:
    """Revoke a certificate: its verification page then says revoked. Logged."""
    award = _award(award_id)
    run_operation(lambda: revoke(award, reason))
    click.echo(f"Revoked {award_id}.")


@awards.command("reissue")
@click.argument("award_id")
@with_appcontext
def awards_reissue(award_id: str) -> None:
    """Issue a certificate anew (e.g. after a change of name); the old one verifies as replaced. Logged."""
    award = _award(award_id)
    new = run_operation(lambda: reissue(award))
    click.echo(f"Re-issued {award_id} as {new.id}.")


@awards.command("rotate-key")
@with_appcontext
def awards_rotate_key() -> None:
    """A new key signs the Open Badges credentials from now on; the old ones stay published, so credentials
    signed with them keep verifying."""
    key = run_operation(rotate_key)
    click.echo(f"Credentials are now signed with key {key.kid}.")


def init_cli(cli: Any, groups: dict[str, Any]) -> None:
    groups["awards"] = awards
    cli.add_command(awards)
